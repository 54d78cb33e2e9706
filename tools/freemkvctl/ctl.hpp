#pragma once

// What every command shares: the global options, the exit codes, and the usage error.

#include <stdexcept>

namespace freemkv::ctl {

// The exit codes, as documented in main.cpp and --help.
inline constexpr int exit_ok = 0;
inline constexpr int exit_job_failed = 1;
inline constexpr int exit_usage = 2;
inline constexpr int exit_unreadable = 3;
inline constexpr int exit_bus = 4;

struct Options {
    bool user_bus = false;  // the session bus instead of the system bus
    bool json = false;
    bool tty = false;  // stdout is a terminal: redraw in place
};

// A bad argument that the command line parser cannot catch (exit 2).
class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace freemkv::ctl
