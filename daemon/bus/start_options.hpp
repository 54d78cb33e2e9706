#pragma once

// StartRip's and StartRipImage's options (a{sv}), checked and translated for the JobRequest.

#include <sdbus-c++/sdbus-c++.h>

#include <map>
#include <string>
#include <vector>

#include <memory>

#include "unique_fd.hpp"

namespace freemkv::bus {

struct StartOptions {
    std::vector<int> titles;  // JobRequest::titles: empty for [video] titles
    // StartRipImage: the cue sheet's BIN, handed over open (a copy of the message's descriptor).
    std::shared_ptr<UniqueFd> bin;
};

// Throws sdbus::Error InvalidArgs naming the option and what is wrong: an unknown key, titles
// not an array of uint16 (aq), empty, a number outside 1..99, or a number twice; bin not a file
// descriptor (h), or given to StartRip (a path names its BIN in the cue). `method` is for the
// message.
StartOptions parse_start_options(const std::string& method,
                                 const std::map<std::string, sdbus::Variant>& options);

}  // namespace freemkv::bus
