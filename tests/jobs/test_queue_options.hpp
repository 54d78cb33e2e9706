#pragma once

// A queue's options for the jobs tests: its library and state under a test directory, a small
// rip buffer.

#include <filesystem>

#include "job_queue.hpp"
#include "support/test_support.hpp"

namespace freemkv::test {

inline QueueOptions test_options(const TempDir& dir) {
    QueueOptions c;
    c.library = dir / "library";
    c.state_dir = dir / "state";
    std::filesystem::create_directories(c.library);
    std::filesystem::create_directories(c.state_dir);
    c.rip.buffer = BufferConfig{.buffer_bytes = 8 * MiB, .block_bytes = 1 * MiB};
    return c;
}

}  // namespace freemkv::test
