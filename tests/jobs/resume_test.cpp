// Resuming and finishing rips across restarts: what the queue finds on disk and in its journal
// when it starts, and what it makes of it.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <condition_variable>
#include <mutex>
#include <set>

#include "disc_info.hpp"
#include "job_journal.hpp"
#include "job_queue.hpp"
#include "mapfile.hpp"
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
    c.rip.checkpoint_interval = std::chrono::milliseconds(200);
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

std::set<std::filesystem::path> files_in(const std::filesystem::path& dir) {
    std::set<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        files.insert(entry.path());
    }
    return files;
}

struct FileStamp {
    std::uint64_t ino = 0;
    std::int64_t mtime_ns = 0;
    bool operator==(const FileStamp&) const = default;
};

FileStamp stamp(const std::filesystem::path& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return {st.st_ino, st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec};
}

// The journal as a crash leaves it: the job was running, its name and disc recorded.
void journal_running_job(const QueueOptions& c, std::uint64_t id, const JobRequest& request,
                         const DiscInfo& disc, const std::filesystem::path& output) {
    JobInfo job;
    job.id = id;
    job.request = request;
    job.state = JobState::running;
    job.label = disc.label;
    job.identity = disc.identity;
    job.output = output;
    job.progress.bytes_total = disc.size_bytes;
    JobJournal(c.state_dir / "jobs.toml").save({&job});
}

// A crash after the rename and before the journal recorded the end: the next start finishes the
// job as the rip ended, without reading the disc or touching the file.
TEST(ResumeAfterRestart, ARipPublishedBeforeACrashEndsOk) {
    TempDir dir;
    QueueOptions c = test_options(dir);
    auto iso = make_iso(dir, "PUBLISHED", 2, 50);
    DiscInfo disc = identify_disc(iso);
    auto output = c.library / "PUBLISHED.iso";
    std::filesystem::copy_file(iso, output);
    FileStamp before = stamp(output);
    journal_running_job(c, 7, JobRequest{.source = iso}, disc, output);

    JobQueue q(c);
    q.wait_idle();
    auto job = q.job(7);
    ASSERT_TRUE(job);
    ASSERT_EQ(job->state, JobState::done) << job->result->reason;
    EXPECT_EQ(job->result->outcome, RipOutcome::ok);
    EXPECT_EQ(job->result->output, output);
    EXPECT_EQ(job->result->bytes_read, 0u);
    EXPECT_EQ(stamp(output), before) << "the published file is not touched";
    EXPECT_EQ(read_file(output), read_file(iso));
    EXPECT_FALSE(std::filesystem::exists(c.library / "PUBLISHED (2).iso"));
}

// The same with the mapfile still there: it says whether the rip had unreadable sectors.
TEST(ResumeAfterRestart, ARipPublishedWithErrorsBeforeACrashEndsOkWithErrors) {
    TempDir dir;
    QueueOptions c = test_options(dir);
    auto iso = make_iso(dir, "SCRATCHED", 2, 51);
    DiscInfo disc = identify_disc(iso);
    auto output = c.library / "SCRATCHED.iso";
    std::filesystem::copy_file(iso, output);
    Mapfile map(disc.size_bytes);
    map.identity = disc.identity;
    map.set(0, disc.size_bytes, BlockStatus::finished);
    map.set(100 * 2048, 3 * 2048, BlockStatus::bad_sector);
    map.phase = Phase::finished;
    map.save(mapfile_path(output));
    FileStamp before = stamp(output);
    journal_running_job(c, 3, JobRequest{.source = iso}, disc, output);

    JobQueue q(c);
    q.wait_idle();
    auto job = q.job(3);
    ASSERT_EQ(job->state, JobState::done) << job->result->reason;
    EXPECT_EQ(job->result->outcome, RipOutcome::ok_with_errors);
    EXPECT_EQ(job->result->unreadable_sectors, 3u);
    EXPECT_EQ(job->result->output, output);
    EXPECT_EQ(job->result->mapfile, mapfile_path(output));
    EXPECT_EQ(stamp(output), before);
    EXPECT_TRUE(std::filesystem::exists(mapfile_path(output))) << "it lists the bad sectors";
}

// A clean rip's mapfile is removed after the rename; a crash in between leaves it, finished.
TEST(ResumeAfterRestart, ALeftoverMapfileOfACleanPublishedRipIsRemoved) {
    TempDir dir;
    QueueOptions c = test_options(dir);
    auto iso = make_iso(dir, "CLEAN", 2, 52);
    DiscInfo disc = identify_disc(iso);
    auto output = c.library / "CLEAN.iso";
    std::filesystem::copy_file(iso, output);
    Mapfile map(disc.size_bytes);
    map.identity = disc.identity;
    map.set(0, disc.size_bytes, BlockStatus::finished);
    map.phase = Phase::finished;
    map.save(mapfile_path(output));
    journal_running_job(c, 4, JobRequest{.source = iso}, disc, output);

    JobQueue q(c);
    q.wait_idle();
    auto job = q.job(4);
    ASSERT_EQ(job->state, JobState::done) << job->result->reason;
    EXPECT_EQ(job->result->outcome, RipOutcome::ok);
    EXPECT_TRUE(job->result->mapfile.empty());
    EXPECT_FALSE(std::filesystem::exists(mapfile_path(output)));
    EXPECT_EQ(read_file(output), read_file(iso));
}

// A file of another size under the recorded name is not this disc's rip: never taken as done.
TEST(ResumeAfterRestart, AnotherFileUnderTheRecordedNameIsNotTakenAsTheRip) {
    TempDir dir;
    QueueOptions c = test_options(dir);
    auto iso = make_iso(dir, "OTHER", 2, 53);
    DiscInfo disc = identify_disc(iso);
    auto output = c.library / "OTHER.iso";
    write_file(output, random_bytes(4096, 54));
    journal_running_job(c, 5, JobRequest{.source = iso}, disc, output);

    JobQueue q(c);
    q.wait_idle();
    auto job = q.job(5);
    ASSERT_TRUE(job->result);
    EXPECT_NE(job->result->output, output);
    EXPECT_EQ(read_file(output), random_bytes(4096, 54));
}

TEST(ResumeAfterRestart, TheJournalKeepsADriveJobsUdevProperties) {
    TempDir dir;
    JobJournal journal(dir / "jobs.toml");
    JobInfo job;
    job.id = 1;
    job.state = JobState::running;
    job.request.drive = "sr0";
    job.request.source = "/dev/sr0";
    job.request.udev_props = {{"ID_FS_LABEL", "MY_DISC"},
                              {"ID_FS_UUID", "2026-01-02-03-04-05-00"},
                              {"ID_CDROM_MEDIA_BD", "1"},
                              {"DEVNAME", "/dev/sr0"},
                              {"ID_MODEL", "BD-RE \"Drive\" = [x]"}};
    journal.save({&job});
    auto loaded = journal.load();
    ASSERT_EQ(loaded.size(), 1u);
    EXPECT_EQ(loaded[0].request.udev_props, job.request.udev_props);
}

// Waits until a job has rescued some bytes.
struct Progress : JobListener {
    std::mutex m;
    std::condition_variable changed;
    std::map<std::uint64_t, std::uint64_t> done;
    void on_progress(const JobInfo& j) override {
        {
            std::lock_guard l(m);
            done[j.id] = j.progress.bytes_done;
        }
        changed.notify_all();
    }
    void wait_for_bytes(std::uint64_t id) {
        std::unique_lock l(m);
        changed.wait(l, [&] { return done[id] > 0; });
    }
};

// A disc whose volume descriptors cannot be read is identified by its udev properties; after a
// restart the re-queued job must still recognise it and continue its .part, not start a new rip
// under another name.
TEST(ResumeAfterRestart, ADiscWithAnUnreadableStartResumesIntoItsPart) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    QueueOptions c = test_options(dir);
    auto backing = dir / "disc.img";
    auto data = random_bytes(48 * MiB, 60);
    write_file(backing, data);
    // Sectors 16..256 fail; 8 MiB/s leaves seconds to stop the rip halfway.
    test::FaultFs fault(backing, "--eio 0x8000:0x78000 --read-bps 8388608");
    JobRequest request{.drive = "sr5",
                       .source = fault.disk(),
                       .udev_props = {{"ID_FS_TYPE", "udf"},
                                      {"ID_FS_LABEL", "SCRATCHED_START"},
                                      {"ID_FS_UUID", "4a1b2c3d"},
                                      {"ID_CDROM_MEDIA_DVD", "1"}}};
    std::uint64_t id = 0;
    std::filesystem::path output;
    {
        Progress progress;
        JobQueue q(c, &progress);
        id = q.submit(request);
        progress.wait_for_bytes(id);
        q.shutdown();  // as at SIGTERM: the rip checkpoints and is queued again at the next start
        ASSERT_EQ(q.job(id)->state, JobState::queued);
        output = q.job(id)->output;
    }
    ASSERT_EQ(output, c.library / "SCRATCHED_START.iso");
    ASSERT_TRUE(std::filesystem::exists(output.string() + ".part"));

    JobQueue q(c);
    q.wait_idle();
    auto job = q.job(id);
    ASSERT_TRUE(job->result);
    ASSERT_EQ(job->result->outcome, RipOutcome::ok_with_errors) << job->result->reason;
    EXPECT_EQ(job->result->output, output);
    EXPECT_TRUE(job->result->resumed);
    EXPECT_LT(job->result->bytes_read, data.size());
    EXPECT_EQ(files_in(c.library), (std::set<std::filesystem::path>{output, mapfile_path(output)}))
        << "no second rip, no orphaned .part";
}

// An unfinished rip the journal does not list (it keeps only recent jobs; or it was lost) is
// found by its mapfile and continued: the bytes the map records are not read again.
TEST(ResumeAfterRestart, AnUnfinishedRipWithoutAJournalEntryIsResumed) {
    TempDir dir;
    QueueOptions c = test_options(dir);
    auto iso = make_iso(dir, "ORPHAN", 8, 70);
    auto data = read_file(iso);
    DiscInfo disc = identify_disc(iso);
    auto output = c.library / "ORPHAN.iso";
    const std::uint64_t half = data.size() / 2 / 2048 * 2048;
    std::vector<std::byte> part(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(half));
    part.resize(data.size());
    write_file(output.string() + ".part", part);
    Mapfile map(disc.size_bytes);
    map.identity = disc.identity;
    map.set(0, half, BlockStatus::finished);
    map.current_pos = half;
    map.save(mapfile_path(output));

    JobQueue q(c);
    auto id = q.submit(JobRequest{.source = iso});
    q.wait_idle();
    auto job = q.job(id);
    ASSERT_EQ(job->state, JobState::done) << job->result->reason;
    EXPECT_EQ(job->result->output, output);
    EXPECT_TRUE(job->result->resumed);
    EXPECT_EQ(job->result->bytes_read, data.size() - half) << "only what the map lacked";
    EXPECT_EQ(read_file(output), data);
    EXPECT_EQ(files_in(c.library), std::set<std::filesystem::path>{output});
}

}  // namespace
}  // namespace freemkv
