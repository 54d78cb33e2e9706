// The job queue with real rips of small images.

#include "job_queue.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

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

// A FileSystem whose fsync of the job journal's temporary file waits while the gate is closed:
// a slow disk that the test controls. Everything else goes to the real one.
class GatedFileSystem : public FileSystem {
  public:
    void sync_data(int fd, const std::filesystem::path& path, std::uint64_t written) override {
        real_file_system().sync_data(fd, path, written);
    }
    void sync_file(int fd, const std::filesystem::path& path, std::uint64_t written) override {
        if (path.filename() == "jobs.toml.tmp") {
            std::unique_lock lock(m_);
            ++inside_;
            ++entered_;
            changed_.notify_all();
            changed_.wait(lock, [&] { return open_; });
            --inside_;
        }
        real_file_system().sync_file(fd, path, written);
    }
    void rename(const std::filesystem::path& from, const std::filesystem::path& to) override {
        real_file_system().rename(from, to);
    }
    void rename_noreplace(const std::filesystem::path& from, const std::filesystem::path& to,
                          std::uint64_t written) override {
        real_file_system().rename_noreplace(from, to, written);
    }
    void sync_directory(const std::filesystem::path& dir) override {
        real_file_system().sync_directory(dir);
    }

    void close() {
        std::lock_guard lock(m_);
        open_ = false;
    }
    void open() {
        {
            std::lock_guard lock(m_);
            open_ = true;
        }
        changed_.notify_all();
    }
    // Until a journal save has entered its fsync (stuck there while the gate is closed).
    void wait_stuck() {
        std::unique_lock lock(m_);
        changed_.wait(lock, [&] { return entered_ > 0; });
    }
    bool stuck() {
        std::lock_guard lock(m_);
        return inside_ > 0;
    }

  private:
    std::mutex m_;
    std::condition_variable changed_;
    bool open_ = true;
    int inside_ = 0;
    int entered_ = 0;
};

struct Events : JobListener {
    std::mutex m;
    std::vector<std::uint64_t> added, ended;
    std::map<std::uint64_t, int> progress;
    std::map<std::uint64_t, JobState> ended_state;
    std::map<std::uint64_t, std::uint64_t> bytes_done;
    std::set<std::uint64_t> active;  // told running, not yet ended
    std::size_t max_active = 0;
    std::condition_variable changed;
    void on_added(const JobInfo& j) override {
        std::lock_guard l(m);
        added.push_back(j.id);
    }
    void on_progress(const JobInfo& j) override {
        std::lock_guard l(m);
        ++progress[j.id];
        bytes_done[j.id] = j.progress.bytes_done;
        if (j.state == JobState::running) {
            active.insert(j.id);
            max_active = std::max(max_active, active.size());
        }
        changed.notify_all();
    }
    void on_ended(const JobInfo& j) override {
        std::lock_guard l(m);
        active.erase(j.id);
        ended.push_back(j.id);
        ended_state[j.id] = j.state;
        EXPECT_TRUE(j.result.has_value()) << "the result is readable before the end is announced";
        changed.notify_all();
    }
    // Until the job has read something (or ended).
    void wait_for_bytes(std::uint64_t id) {
        std::unique_lock l(m);
        changed.wait(l, [&] { return bytes_done[id] > 0 || ended_state.contains(id); });
    }
    // The ended jobs once n have been announced.
    std::vector<std::uint64_t> ended_once(std::size_t n) {
        std::unique_lock l(m);
        changed.wait_for(l, std::chrono::minutes(2), [&] { return ended.size() >= n; });
        return ended;
    }
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
    q.wait_idle();
    EXPECT_EQ(events.ended, (std::vector<std::uint64_t>{j1, j2, j3})) << "FIFO";
    EXPECT_EQ(events.max_active, 1u) << "the next job starts once the last one has ended";
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
        Events first_run;
        JobQueue q(c, &first_run);
        done_id = q.submit(JobRequest{.drive = "sr0", .source = iso});
        q.wait_idle();
        interrupted_id = q.submit(JobRequest{.drive = "sr1", .source = big});
        first_run.wait_for_bytes(interrupted_id);
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

// An image handed over open is read through its descriptor, one job per file however it is
// named; after a restart its descriptor is gone, so the job ends failed and resumable instead
// of re-opening a path.
TEST(JobQueue, AnImageHandedOverOpenIsReadThroughItAndNotRequeuedAfterARestart) {
    TempDir dir;
    auto iso = make_iso(dir, "OPENED", 2, 42);
    auto image = std::make_shared<UniqueFd>(::open(iso.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(*image);
    struct stat st {};
    ASSERT_EQ(::fstat(image->get(), &st), 0);
    FileId id{st.st_dev, st.st_ino};
    std::filesystem::rename(iso, dir / "moved.iso");  // the path is only a name now
    QueueOptions c = test_options(dir);
    std::uint64_t done_id = 0;
    {
        JobQueue q(c);
        done_id =
            q.submit(JobRequest{.source = iso, .file = id, .image = image, .passed_open = true});
        EXPECT_THROW(
            q.submit(JobRequest{
                .source = dir / "other-name.iso", .file = id, .image = image, .passed_open = true}),
            BusyError);
        q.wait_idle();
        ASSERT_EQ(q.job(done_id)->state, JobState::done) << q.job(done_id)->result->reason;
        EXPECT_EQ(read_file(c.library / "OPENED.iso"), read_file(dir / "moved.iso"));
        EXPECT_EQ(image.use_count(), 1) << "the queue let go of the descriptor at the end";
    }

    JobInfo running;
    running.id = 7;
    running.state = JobState::running;
    running.request = JobRequest{.source = iso, .file = id, .passed_open = true};
    JobJournal(c.state_dir / "jobs.toml").save({&running});
    JobQueue q(c);
    auto job = q.job(7);
    ASSERT_TRUE(job);
    EXPECT_EQ(job->state, JobState::failed);
    ASSERT_TRUE(job->result);
    EXPECT_TRUE(job->result->resumable);
    EXPECT_NE(job->result->reason.find("handed over open"), std::string::npos)
        << job->result->reason;
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

// The journal's fsync can take seconds (ext4 waits for a rip's dirty data on the same
// filesystem). While one is stuck, submit(), the reads the bus loop makes and a running rip's
// progress must not wait for it. Before, they all waited for it under the queue's lock.
TEST(JobQueue, NothingWaitsForTheJournalsFsync) {
    TempDir dir;
    auto big = dir / "big.img";
    write_file(big, random_bytes(256 * MiB, 50));
    auto small = make_iso(dir, "SMALL", 2, 51);
    GatedFileSystem fs;
    Events events;
    JobQueue q(test_options(dir), &events, JobQueue::Interrupted::requeue, fs);
    q.flush_journal();  // the constructor's save, before the gate closes
    fs.close();

    std::mutex m;
    std::condition_variable cv;
    bool answered = false;
    std::uint64_t first = 0;
    std::uint64_t second = 0;
    std::jthread caller([&] {
        first = q.submit(JobRequest{.drive = "sr0", .source = big});
        fs.wait_stuck();
        events.wait_for_bytes(first);  // the rip reads on
        second = q.submit(JobRequest{.drive = "sr1", .source = small});
        EXPECT_GE(q.running() + q.queued(), 1u);
        EXPECT_EQ(q.jobs().size(), 2u);
        EXPECT_TRUE(q.job(first).has_value());
        std::lock_guard lock(m);
        answered = true;
        cv.notify_all();
    });
    {
        // The limit only keeps a failure from hanging; passing never depends on it.
        std::unique_lock lock(m);
        cv.wait_for(lock, std::chrono::seconds(60), [&] { return answered; });
        EXPECT_TRUE(answered) << "a queue call waited for the journal's fsync";
    }
    EXPECT_TRUE(fs.stuck()) << "the fsync was still stuck while the queue answered";
    fs.open();
    caller.join();
    q.cancel(first);
    q.wait_idle();
    q.flush_journal();
    auto saved = JobJournal(dir / "state" / "jobs.toml").load();
    ASSERT_EQ(saved.size(), 2u);
    EXPECT_EQ(saved[0].state, q.job(first)->state);
    EXPECT_TRUE(saved[0].ended());
    EXPECT_EQ(saved[1].state, JobState::done);
}

// Names are chosen without the queue's lock and promised under it: two rips of discs with the
// same label, starting at once, still get two names.
TEST(JobQueue, RipsStartingAtOnceGetDistinctNames) {
    TempDir dir;
    std::vector<std::filesystem::path> isos;
    for (int i = 0; i < 4; ++i) {
        isos.push_back(make_iso(dir, "SAME", 2, 60 + i));
    }
    QueueOptions c = test_options(dir);
    c.max_parallel = 4;
    JobQueue q(c);
    std::vector<std::uint64_t> ids;
    for (std::size_t i = 0; i < isos.size(); ++i) {
        ids.push_back(q.submit(JobRequest{.drive = "sr" + std::to_string(i), .source = isos[i]}));
    }
    q.wait_idle();
    std::set<std::filesystem::path> outputs;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        auto job = q.job(ids[i]);
        ASSERT_EQ(job->state, JobState::done) << job->result->reason;
        outputs.insert(job->result->output);
        EXPECT_EQ(read_file(job->result->output), read_file(isos[i]));
    }
    EXPECT_EQ(outputs.size(), ids.size());
}

// Ended jobs beyond the journal's history leave memory too: a daemon that runs for years does
// not keep every job it ever ran.
TEST(JobQueue, OldEndedJobsAreForgottenBeyondTheHistory) {
    TempDir dir;
    JobQueue q(test_options(dir));
    std::vector<std::uint64_t> ids;
    for (std::size_t i = 0; i < JobJournal::history + 5; ++i) {
        // Missing images: each job fails at once.
        ids.push_back(q.submit(JobRequest{.source = dir / ("missing-" + std::to_string(i))}));
    }
    q.wait_idle();
    EXPECT_EQ(q.jobs().size(), JobJournal::history);
    EXPECT_FALSE(q.job(ids.front()).has_value());
    ASSERT_TRUE(q.job(ids.back()).has_value());
    EXPECT_EQ(q.job(ids.back())->state, JobState::failed);
    q.flush_journal();
    EXPECT_EQ(JobJournal(dir / "state" / "jobs.toml").load().size(), JobJournal::history);
}

// A listener may submit from on_ended (a chain of rips). The worker telling it is still the
// queue's: destroying the queue, here while the next rip runs, waits for it to leave on_ended.
// Before, submit() detached that worker, the destructor did not wait for it, and it then
// touched the freed queue (AddressSanitizer reports the use after free).
TEST(JobQueue, DestructionWaitsForAWorkerThatSubmittedFromItsListener) {
    TempDir dir;
    auto big = dir / "big.img";
    write_file(big, random_bytes(128 * MiB, 70));
    struct Chain : JobListener {
        JobQueue* q = nullptr;
        std::filesystem::path next;
        std::mutex m;
        std::condition_variable cv;
        bool submitted = false;
        bool returned = false;
        bool released = false;
        void on_ended(const JobInfo& j) override {
            if (j.request.source == next) {
                return;
            }
            q->submit(JobRequest{.drive = "sr1", .source = next});
            std::unique_lock l(m);
            submitted = true;
            cv.notify_all();
            // Gives a destructor that does not wait for this call time to finish first; a
            // destructor that waits passes whatever the time.
            cv.wait_for(l, std::chrono::seconds(2), [&] { return released; });
            returned = true;
            cv.notify_all();
        }
    } chain;
    chain.next = big;
    auto q = std::make_unique<JobQueue>(test_options(dir), &chain);
    chain.q = q.get();
    q->submit(JobRequest{.drive = "sr0", .source = dir / "missing.img"});  // fails at once
    {
        std::unique_lock l(chain.m);
        chain.cv.wait(l, [&] { return chain.submitted; });
    }
    q.reset();
    std::unique_lock l(chain.m);
    EXPECT_TRUE(chain.returned) << "the queue was destroyed while its worker was in on_ended";
    chain.released = true;
    chain.cv.notify_all();
    chain.cv.wait(l, [&] { return chain.returned; });  // a detached worker: no worse than before
}

}  // namespace
}  // namespace freemkv
