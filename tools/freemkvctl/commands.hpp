#pragma once

// The subcommands. Each returns the exit code; bus failures are thrown as sdbus::Error.

#include <cstdint>
#include <string>
#include <vector>

#include "ctl.hpp"

namespace freemkv::ctl {

int status(const Options& options);
int jobs(const Options& options);
int watch(const Options& options, const std::vector<std::string>& jobs);
// `titles`: the DVD-Video titles to extract (StartRip's "titles" option); empty leaves it out.
int rip(const Options& options, const std::string& source, bool wait,
        const std::vector<std::uint16_t>& titles = {});
int titles(const Options& options, const std::string& source);
int cancel(const Options& options, const std::string& job);
int eject(const Options& options, const std::string& drive);
int reload(const Options& options);

}  // namespace freemkv::ctl
