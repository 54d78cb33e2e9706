// Cancelling a job while its disc is still being identified, on a slow medium (the faultfs
// fixture). Needs root; runs serially.

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "job_queue.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using test::FaultFs;
using test::faultfs_bytes_read;
using test::random_bytes;
using test::run;
using test::TempDir;
using test::write_file;

// Identification reads sectors 16..256 (482 KiB); at 16 KiB/s that takes half a minute.
TEST(JobQueue, CancelDuringASlowIdentificationEndsWithoutWaitingForIt) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    auto content = dir / "content";
    std::filesystem::create_directories(content);
    write_file(content / "data.bin", random_bytes(4 * MiB, 61));
    auto iso = dir / "disc.iso";
    run("xorriso -as mkisofs -quiet -V SLOW -o " + iso.string() + " " + content.string());
    auto log = dir / "reads.log";
    FaultFs fs(iso, "--read-only --read-bps 16384 --log " + log.string());

    QueueOptions c;
    c.library = dir / "library";
    c.state_dir = dir / "state";
    std::filesystem::create_directories(c.library);
    std::filesystem::create_directories(c.state_dir);
    JobQueue q(c);
    auto id = q.submit(JobRequest{.drive = "", .source = fs.disk()});
    // Identification is under way once the medium is being read.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (faultfs_bytes_read(log) == 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_GT(faultfs_bytes_read(log), 0u) << "identification never started";
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(q.cancel(id));
    q.wait_idle();
    auto took = std::chrono::steady_clock::now() - t0;

    EXPECT_EQ(q.job(id)->state, JobState::cancelled);
    EXPECT_LT(faultfs_bytes_read(log), 241u * 2048) << "the job ended before the area was read";
    // A piece in flight (32 KiB, 2 s at this rate) may finish first; the whole area takes 30 s.
    EXPECT_LT(took, std::chrono::seconds(15));
    EXPECT_FALSE(std::filesystem::exists(c.library / "SLOW.iso.part"));
}

}  // namespace
}  // namespace freemkv
