#pragma once

// tests/support/canned_http.py as a test fixture: a local HTTP server on 127.0.0.1 serving the
// files under a directory, started at construction (once it listens) and killed at destruction.

#include <filesystem>
#include <string>
#include <vector>

#include "process.hpp"

namespace freemkv::test {

class CannedHttp {
  public:
    struct Options {
        double delay_seconds = 0;            // before each answer
        int status = 0;                      // every answer's status (0: serve the files)
        std::vector<std::string> redirects;  // "FROM=LOCATION"
    };

    // Serves `root`; `work` holds the server's output and its request log.
    CannedHttp(const std::filesystem::path& root, const std::filesystem::path& work,
               const Options& options);
    CannedHttp(const std::filesystem::path& root, const std::filesystem::path& work)
        : CannedHttp(root, work, Options{}) {}

    int port() const { return port_; }
    // "http://127.0.0.1:<port>"
    std::string base() const;
    // One line per request received: "<path with query>\t<User-Agent>".
    std::vector<std::string> requests() const;
    // Waits until at least `count` requests have arrived; false after `timeout`.
    bool wait_requests(std::size_t count, Process::Clock::duration timeout) const;

  private:
    std::filesystem::path log_;
    Process process_;
    int port_ = 0;
};

}  // namespace freemkv::test
