#pragma once

// Method handlers fail with one of the API's named errors (api::error_*, api_names.hpp). The
// message may quote a path or a label: made valid UTF-8, or sd-bus could not send the error.

#include <sdbus-c++/Error.h>

#include <string>

#include "api_names.hpp"
#include "utf8.hpp"

namespace freemkv::bus {

[[noreturn]] inline void fail(const char* name, const std::string& message) {
    throw sdbus::Error(name, safe_text(message));
}

}  // namespace freemkv::bus
