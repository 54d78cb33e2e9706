#pragma once

// libsystemd's calls return a negative errno on failure; this turns one into std::system_error.

#include <system_error>

namespace freemkv {

inline void check_sd(int r, const char* what) {
    if (r < 0) {
        throw std::system_error(-r, std::generic_category(), what);
    }
}

}  // namespace freemkv
