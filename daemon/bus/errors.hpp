#pragma once

// The API's named errors (org.freemkv.Rip1.Error.*), thrown from method handlers.

#include <sdbus-c++/Error.h>

#include <string>

namespace freemkv::bus {

inline constexpr const char* error_not_found = "org.freemkv.Rip1.Error.NotFound";
inline constexpr const char* error_invalid_args = "org.freemkv.Rip1.Error.InvalidArgs";
inline constexpr const char* error_busy = "org.freemkv.Rip1.Error.Busy";
inline constexpr const char* error_no_media = "org.freemkv.Rip1.Error.NoMedia";
inline constexpr const char* error_not_authorized = "org.freemkv.Rip1.Error.NotAuthorized";
inline constexpr const char* error_failed = "org.freemkv.Rip1.Error.Failed";

[[noreturn]] inline void fail(const char* name, const std::string& message) {
    throw sdbus::Error(name, message);
}

}  // namespace freemkv::bus
