#pragma once

// Method handlers fail with one of the API's named errors (api::error_*, api_names.hpp).

#include <sdbus-c++/Error.h>

#include <string>

#include "api_names.hpp"

namespace freemkv::bus {

[[noreturn]] inline void fail(const char* name, const std::string& message) {
    throw sdbus::Error(name, message);
}

}  // namespace freemkv::bus
