#pragma once

// A child process for tests: started with posix_spawn, stdin from /dev/null, stdout and stderr to
// files, with the default disposition of SIGTERM and SIGINT whatever the test runner set. Killed
// and reaped at destruction if still running.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace freemkv::test {

// The whole content of a file ("" if it cannot be read).
std::string slurp(const std::filesystem::path& path);

class Process {
  public:
    using Clock = std::chrono::steady_clock;

    // `program` is looked up in PATH unless it contains a '/'. `env` holds "NAME=value" entries
    // that replace or add to this process's environment.
    Process(const std::string& program, const std::vector<std::string>& args,
            const std::filesystem::path& out, const std::filesystem::path& err,
            const std::vector<std::string>& env = {});
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return pid_; }
    void signal(int sig) const;
    bool running();

    // The wait status, or nothing if it is still running after `timeout`.
    std::optional<int> wait(Clock::duration timeout);

    // The exit status; -1 after a timeout (the process is killed), -N after signal N.
    int exit_code(Clock::duration timeout = std::chrono::seconds(60));

    // SIGTERM, then SIGKILL if it has not ended after `grace`; returns exit_code().
    int stop(Clock::duration grace = std::chrono::seconds(5));

    std::string out() const { return slurp(out_); }
    std::string err() const { return slurp(err_); }
    // For failure messages.
    std::string output() const { return "stdout:\n" + out() + "stderr:\n" + err(); }

  private:
    std::filesystem::path out_;
    std::filesystem::path err_;
    pid_t pid_ = -1;
    std::optional<int> status_;
};

}  // namespace freemkv::test
