// The job queue with real rips of small images.

#include "job_queue.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "support/test_support.hpp"

namespace freemkv {
namespace {

using test::random_bytes;
using test::read_file;
using test::run;
using test::TempDir;
using test::write_file;

QueueOptions test_options(const TempDir& dir) {
    QueueOptions c;
    c.library = dir / "library";
    c.state_dir = dir / "state";
    std::filesystem::create_directories(c.library);
    std::filesystem::create_directories(c.state_dir);
    c.rip.writeback.min_bytes = 1 * MiB;
    c.rip.writeback.start_bytes = 4 * MiB;
    c.rip.buffer = BufferConfig{.buffer_bytes = 8 * MiB, .block_bytes = 1 * MiB};
    c.rip.checkpoint_interval = std::chrono::seconds(1);
    c.max_parallel = 2;
    return c;
}

// An ISO9660 image with the given label and `mib` MiB of random content.
std::filesystem::path make_iso(const TempDir& dir, const std::string& label, int mib, int seed) {
    auto content = dir / ("content-" + label + std::to_string(seed));
    std::filesystem::create_directories(content);
    write_file(content / "data.bin",
               random_bytes(static_cast<std::size_t>(mib) * MiB, static_cast<std::uint64_t>(seed)));
    auto iso = dir / (label + std::to_string(seed) + ".iso");
    run("xorriso -as mkisofs -quiet -V " + label + " -o " + iso.string() + " " + content.string());
    return iso;
}

struct Events : JobListener {
    std::mutex m;
    std::vector<std::uint64_t> added, ended;
    std::map<std::uint64_t, int> progress;
    std::map<std::uint64_t, JobState> ended_state;
    void on_added(const JobInfo& j) override {
        std::lock_guard l(m);
        added.push_back(j.id);
    }
    void on_progress(const JobInfo& j) override {
        std::lock_guard l(m);
        ++progress[j.id];
    }
    void on_ended(const JobInfo& j) override {
        std::lock_guard l(m);
        ended.push_back(j.id);
        ended_state[j.id] = j.state;
        EXPECT_TRUE(j.result.has_value()) << "the result is readable before the end is announced";
        ended_changed.notify_all();
    }
    // The ended jobs once n have been announced. wait_idle() does not wait for the listener: a
    // worker tells it after leaving the queue (ThreadSanitizer saw the race).
    std::vector<std::uint64_t> ended_once(std::size_t n) {
        std::unique_lock l(m);
        ended_changed.wait_for(l, std::chrono::minutes(2), [&] { return ended.size() >= n; });
        return ended;
    }
    std::condition_variable ended_changed;
};

TEST(JobQueue, RipsIntoTheLibraryUnderTheLabelAndNumbersDuplicates) {
    TempDir dir;
    auto iso = make_iso(dir, "MY_MOVIE", 8, 1);
    Events events;
    JobQueue q(test_options(dir), &events);
    auto first = q.submit(JobRequest{.drive = "", .source = iso});
    q.wait_idle();
    auto second = q.submit(JobRequest{.drive = "", .source = iso});
    q.wait_idle();

    auto a = q.job(first);
    auto b = q.job(second);
    ASSERT_EQ(a->state, JobState::done) << a->result->reason;
    ASSERT_EQ(b->state, JobState::done) << b->result->reason;
    EXPECT_EQ(a->result->output, dir / "library" / "MY_MOVIE.iso");
    EXPECT_EQ(b->result->output, dir / "library" / "MY_MOVIE (2).iso");
    EXPECT_EQ(a->label, "MY_MOVIE");
    EXPECT_EQ(read_file(a->result->output), read_file(iso));
    EXPECT_EQ(read_file(b->result->output), read_file(iso));
    EXPECT_EQ(events.ended_once(2), (std::vector<std::uint64_t>{first, second}));
    std::lock_guard l(events.m);
    EXPECT_EQ(events.added, (std::vector<std::uint64_t>{first, second}));
}

TEST(JobQueue, OneJobPerDriveAndFifoWithinTheParallelLimit) {
    TempDir dir;
    QueueOptions c = test_options(dir);
    c.max_parallel = 1;
    std::vector<std::filesystem::path> isos;
    for (int i = 0; i < 3; ++i) {
        isos.push_back(make_iso(dir, "DISC", 4, 10 + i));
    }
    Events events;
    JobQueue q(c, &events);
    auto j1 = q.submit(JobRequest{.drive = "sr0", .source = isos[0]});
    EXPECT_THROW(q.submit(JobRequest{.drive = "sr0", .source = isos[1]}), BusyError);
    auto j2 = q.submit(JobRequest{.drive = "sr1", .source = isos[1]});
    auto j3 = q.submit(JobRequest{.drive = "sr2", .source = isos[2]});
    EXPECT_LE(q.running(), 1u);
    q.wait_idle();
    EXPECT_EQ(events.ended_once(3), (std::vector<std::uint64_t>{j1, j2, j3}))
        << "FIFO, one at a time";
    EXPECT_THROW(q.submit(JobRequest{.drive = "", .source = ""}), std::invalid_argument);
}

TEST(JobQueue, CancelsQueuedAndRunningJobs) {
    TempDir dir;
    QueueOptions c = test_options(dir);
    c.max_parallel = 1;
    auto big = dir / "big.img";
    write_file(big, random_bytes(512 * MiB, 20));
    auto small = make_iso(dir, "SMALL", 2, 21);
    Events events;
    JobQueue q(c, &events);
    auto running = q.submit(JobRequest{.drive = "sr0", .source = big});
    auto queued = q.submit(JobRequest{.drive = "sr1", .source = small});
    EXPECT_TRUE(q.cancel(queued));
    EXPECT_TRUE(q.cancel(running));
    q.wait_idle();
    EXPECT_EQ(q.job(queued)->state, JobState::cancelled);
    EXPECT_EQ(q.job(running)->state, JobState::cancelled);
    EXPECT_FALSE(q.cancel(running)) << "already ended";
    EXPECT_FALSE(q.cancel(999));
    EXPECT_TRUE(q.job(running)->result->resumable);
}

TEST(JobQueue, ProgressIsCoalesced) {
    TempDir dir;
    auto big = dir / "big.img";
    write_file(big, random_bytes(256 * MiB, 22));
    Events events;
    JobQueue q(test_options(dir), &events);
    auto t0 = std::chrono::steady_clock::now();
    auto id = q.submit(JobRequest{.drive = "", .source = big});
    q.wait_idle();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_EQ(q.job(id)->state, JobState::done);
    // 256 MiB in 64 KiB blocks is 4096 reads; updates come at most every 250 ms (+ state changes).
    EXPECT_LE(events.progress[id], static_cast<int>(seconds / 0.25) + 4);
    EXPECT_GE(events.progress[id], 1);
}

TEST(JobQueue, JournalSurvivesARestartAndResumesInterruptedJobs) {
    TempDir dir;
    QueueOptions c = test_options(dir);
    auto iso = make_iso(dir, "KEPT", 4, 30);
    auto big = dir / "big.img";
    auto big_data = random_bytes(512 * MiB, 31);
    write_file(big, big_data);
    std::uint64_t done_id, interrupted_id;
    {
        JobQueue q(c);
        done_id = q.submit(JobRequest{.drive = "sr0", .source = iso});
        q.wait_idle();
        interrupted_id = q.submit(JobRequest{.drive = "sr1", .source = big});
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        q.shutdown();  // like SIGTERM: the running rip checkpoints
        EXPECT_EQ(q.job(interrupted_id)->state, JobState::queued);
    }
    Events events;
    JobQueue q(c, &events);
    auto past = q.job(done_id);
    ASSERT_TRUE(past);
    EXPECT_EQ(past->state, JobState::done);
    EXPECT_EQ(past->label, "KEPT");
    EXPECT_EQ(past->result->output, c.library / "KEPT.iso");
    q.wait_idle();
    auto resumed = q.job(interrupted_id);
    ASSERT_EQ(resumed->state, JobState::done) << resumed->result->reason;
    EXPECT_TRUE(resumed->result->resumed);
    EXPECT_LT(resumed->result->bytes_read, big_data.size());
    EXPECT_EQ(read_file(resumed->result->output), big_data);
}

// A caller's access is checked on a file; if the path names another file by the time the job
// opens it (renamed over, a link on the way changed), the job fails and reads nothing of it.
TEST(JobQueue, AnImageReplacedAfterTheCheckIsNotRipped) {
    TempDir dir;
    auto checked = make_iso(dir, "CHECKED", 2, 40);
    struct stat st {};
    ASSERT_EQ(::stat(checked.c_str(), &st), 0);
    FileId id{st.st_dev, st.st_ino};
    JobQueue q(test_options(dir));
    auto same = q.submit(JobRequest{.source = checked, .file = id});
    q.wait_idle();
    ASSERT_EQ(q.job(same)->state, JobState::done) << q.job(same)->result->reason;

    auto other = make_iso(dir, "SECRET", 2, 41);
    std::filesystem::rename(other, checked);  // same path, another file
    auto swapped = q.submit(JobRequest{.source = checked, .file = id});
    q.wait_idle();
    auto job = q.job(swapped);
    ASSERT_EQ(job->state, JobState::failed);
    EXPECT_NE(job->result->reason.find("another file than the one checked"), std::string::npos)
        << job->result->reason;
    EXPECT_FALSE(std::filesystem::exists(dir / "library" / "SECRET.iso"));
    EXPECT_FALSE(std::filesystem::exists(dir / "library" / "CHECKED (2).iso"));
}

TEST(JobQueue, OneQueuePerStateDirectory) {
    TempDir dir;
    QueueOptions c = test_options(dir);
    JobQueue first(c);
    EXPECT_THROW(JobQueue second(c), BusyError);
}

TEST(JobQueue, ACorruptJournalIsMovedAsideNotFatal) {
    TempDir dir;
    QueueOptions c = test_options(dir);
    write_file(c.state_dir / "jobs.toml", {std::byte{'['}, std::byte{'x'}});
    JobQueue q(c);
    EXPECT_TRUE(q.jobs().empty());
    EXPECT_TRUE(std::filesystem::exists(c.state_dir / "jobs.toml.corrupt"));
}

}  // namespace
}  // namespace freemkv
