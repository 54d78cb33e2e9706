// The job journal's saves, seen through a recording FileSystem: a restart must find either the
// old journal or the new one, which reading the file back cannot show.

#include "job_journal.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io_error.hpp"
#include "support/recording_file_system.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using test::read_file;
using test::RecordingFileSystem;
using test::TempDir;
using test::write_file;

using Calls = std::vector<std::string>;

JobInfo job(std::uint64_t id, JobState state) {
    JobInfo j;
    j.id = id;
    j.state = state;
    j.request.drive = "sr0";
    j.request.source = "/dev/sr0";
    j.label = "DISC_" + std::to_string(id);
    return j;
}

TEST(JobJournal, SaveSyncsTheTemporaryThenRenamesItThenSyncsTheDirectory) {
    TempDir dir;
    std::filesystem::create_directory(dir / "state");
    RecordingFileSystem fs(dir.path());
    JobJournal journal(dir / "state" / "jobs.toml", fs);
    JobInfo first = job(1, JobState::running);
    journal.save({&first});
    EXPECT_EQ(fs.calls(),
              (Calls{"sync_file state/jobs.toml.tmp",
                     "rename state/jobs.toml.tmp -> state/jobs.toml", "sync_directory state"}));

    fs.clear();
    JobInfo second = job(2, JobState::queued);
    journal.save({&first, &second});
    EXPECT_EQ(fs.calls(),
              (Calls{"sync_file state/jobs.toml.tmp",
                     "rename state/jobs.toml.tmp -> state/jobs.toml", "sync_directory state"}));

    auto jobs = journal.load();
    ASSERT_EQ(jobs.size(), 2u);
    EXPECT_EQ(jobs[0].label, "DISC_1");
    EXPECT_EQ(jobs[1].state, JobState::queued);
    EXPECT_EQ(fs.calls().size(), 3u) << "loading makes nothing durable";
}

std::vector<std::byte> bytes(std::string_view text) {
    auto view = std::as_bytes(std::span(text));
    return {view.begin(), view.end()};
}

// A job with every field the journal keeps set to something other than its default.
JobInfo full_job(std::uint64_t id) {
    JobInfo j = job(id, JobState::failed);
    j.request.uid = 1000 + static_cast<std::uint32_t>(id);
    j.request.media = "media-" + std::to_string(id);
    j.request.file = {42, 4242 + id};
    j.identity = "identity-" + std::to_string(id);
    j.output = "/library/Disc " + std::to_string(id) + ".iso";
    j.progress.bytes_total = 8'000'000'000 + id;
    j.progress.bytes_done = 4'000'000 + id;
    j.created = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000 + id));
    RipResult r;
    r.outcome = RipOutcome::failed;
    r.reason = "reason " + std::to_string(id);
    r.resumable = true;
    r.unreadable_sectors = 31 + id;
    r.output = j.output.string() + ".part";
    r.mapfile = "/library/Disc " + std::to_string(id) + ".map";
    j.result = r;
    j.finished = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'100 + id));
    j.request.titles = {3, 1};
    j.folder = "/library/Disc " + std::to_string(id);
    j.released = true;
    j.artifacts.push_back({ArtifactKind::image, "/library/Disc.iso", ArtifactState::kept,
                           9'000'000'000, 9'000'000'000, "", 0, 0});
    j.artifacts.push_back({ArtifactKind::title, "/library/Disc/Disc.mkv", ArtifactState::published,
                           6'000'000'000 + id, 6'000'000'000 + id, "", 1, 12.5});
    j.artifacts.push_back({ArtifactKind::title, "/library/Disc/extras/Disc - title 03.mkv",
                           ArtifactState::failed, 400, 100, "read error \"x\"", 3, 0});
    return j;
}

void expect_same(const JobInfo& a, const JobInfo& b) {
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.state, b.state);
    EXPECT_EQ(a.request.drive, b.request.drive);
    EXPECT_EQ(a.request.source, b.request.source);
    EXPECT_EQ(a.request.uid, b.request.uid);
    EXPECT_EQ(a.request.media, b.request.media);
    EXPECT_EQ(a.request.file, b.request.file);
    EXPECT_EQ(a.label, b.label);
    EXPECT_EQ(a.identity, b.identity);
    EXPECT_EQ(a.output, b.output);
    EXPECT_EQ(a.progress.bytes_total, b.progress.bytes_total);
    EXPECT_EQ(a.progress.bytes_done, b.progress.bytes_done);
    EXPECT_EQ(a.created, b.created);
    EXPECT_EQ(a.request.titles, b.request.titles);
    EXPECT_EQ(a.request.audio, b.request.audio);
    EXPECT_EQ(a.request.bin_file, b.request.bin_file);
    EXPECT_EQ(a.folder, b.folder);
    EXPECT_EQ(a.released, b.released);
    EXPECT_EQ(a.artifacts, b.artifacts);
    ASSERT_EQ(a.result.has_value(), b.result.has_value());
    if (a.result) {
        EXPECT_EQ(a.result->outcome, b.result->outcome);
        EXPECT_EQ(a.result->reason, b.result->reason);
        EXPECT_EQ(a.result->resumable, b.result->resumable);
        EXPECT_EQ(a.result->unreadable_sectors, b.result->unreadable_sectors);
        EXPECT_EQ(a.result->output, b.result->output);
        EXPECT_EQ(a.result->mapfile, b.result->mapfile);
        EXPECT_EQ(a.finished, b.finished);
    }
}

// The error log while it lives: the journal reports damage there.
class LogCapture {
  public:
    LogCapture()
        : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(32)),
          old_(spdlog::default_logger()) {
        spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink_));
    }
    ~LogCapture() { spdlog::set_default_logger(old_); }
    std::string text() const {
        std::string all;
        for (const std::string& line : sink_->last_formatted()) {
            all += line;
        }
        return all;
    }

  private:
    std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
    std::shared_ptr<spdlog::logger> old_;
};

TEST(JobJournal, KeepsEveryFieldAcrossASaveAndALoad) {
    TempDir dir;
    JobJournal journal(dir / "jobs.toml");
    JobInfo ended = full_job(1);
    JobInfo queued = job(2, JobState::queued);
    queued.request.drive = "";
    queued.request.source = "/home/someone/Disc with \"quotes\" and \\ ü.iso";
    JobInfo album = job(3, JobState::running);
    album.request.drive = "";
    album.request.source = "/srv/import/Album.cue";
    album.request.audio = true;
    album.request.bin_file = {2049, 1234567};
    album.artifacts.push_back({ArtifactKind::track, "/library/A/B/01 - T.flac",
                               ArtifactState::published, 7'000'000, 7'000'000,
                               "2 uncorrectable read errors; written anyway", 1, 0.03});
    album.artifacts.push_back({ArtifactKind::playlist, "/library/A/B/B.m3u",
                               ArtifactState::published, 100, 100, "", 0, 0});
    journal.save({&ended, &queued, &album});
    auto jobs = journal.load();
    ASSERT_EQ(jobs.size(), 3u);
    expect_same(jobs[0], ended);
    expect_same(jobs[1], queued);
    expect_same(jobs[2], album);
    EXPECT_FALSE(std::filesystem::exists(dir / "jobs.toml.corrupt"));
}

// A FileSystem whose fsync fails, like a disk that errors or fills up.
class FailingSync : public RecordingFileSystem {
  public:
    using RecordingFileSystem::RecordingFileSystem;
    void sync_file(int, const std::filesystem::path& path, std::uint64_t written) override {
        throw IoError("sync", path, written, EIO);
    }
};

TEST(JobJournal, AFailedSaveLeavesTheOldJournal) {
    TempDir dir;
    JobJournal journal(dir / "jobs.toml");
    JobInfo first = full_job(1);
    journal.save({&first});
    auto before = read_file(dir / "jobs.toml");

    FailingSync failing(dir.path());
    JobJournal failing_journal(dir / "jobs.toml", failing);
    JobInfo second = full_job(2);
    EXPECT_THROW(failing_journal.save({&first, &second}), IoError);
    EXPECT_EQ(read_file(dir / "jobs.toml"), before);
    EXPECT_FALSE(std::filesystem::exists(dir / "jobs.toml.tmp"));
    auto jobs = journal.load();
    ASSERT_EQ(jobs.size(), 1u);
    expect_same(jobs[0], first);
}

// A journal cut short (a disk that lost its tail, a copy that stopped) must not pass for a
// shorter one: cut between two jobs it still parses, and before the count and the end line the
// lost jobs went unnoticed. It is reported, kept aside, and only the whole jobs before the cut are
// used.
TEST(JobJournal, ATruncatedJournalIsReportedAndKeptAside) {
    TempDir dir;
    JobJournal journal(dir / "jobs.toml");
    JobInfo a = full_job(1), b = full_job(2), c = full_job(3);
    journal.save({&a, &b, &c});
    auto whole = read_file(dir / "jobs.toml");
    std::string text(reinterpret_cast<const char*>(whole.data()), whole.size());
    std::size_t third = text.rfind("[[job]]");
    ASSERT_NE(third, std::string::npos);
    std::size_t state_of_third = text.find("state = ", third);
    ASSERT_NE(state_of_third, std::string::npos);
    for (std::size_t cut :
         {third, state_of_third + 20, text.size() - 1, text.size() / 2, std::size_t{10}}) {
        SCOPED_TRACE("cut at " + std::to_string(cut) + " of " + std::to_string(text.size()));
        std::vector<std::byte> cut_bytes(whole.begin(),
                                         whole.begin() + static_cast<std::ptrdiff_t>(cut));
        write_file(dir / "jobs.toml", cut_bytes);
        LogCapture log;
        auto jobs = journal.load();
        EXPECT_NE(log.text().find("job journal " + (dir / "jobs.toml").string() + " is damaged"),
                  std::string::npos)
            << log.text();
        EXPECT_EQ(read_file(dir / "jobs.toml.corrupt"), cut_bytes) << "kept for a person";
        EXPECT_FALSE(std::filesystem::exists(dir / "jobs.toml"));
        ASSERT_LT(jobs.size(), 3u);
        for (std::size_t i = 0; i < jobs.size(); ++i) {
            expect_same(jobs[i], i == 0 ? a : b);  // whole, not a job with fields lost
        }
        std::filesystem::remove(dir / "jobs.toml.corrupt");
    }
}

// A journal written before jobs had artifacts (every field of its time, none of the extract
// stage's) loads: a data disc's job with no artifacts, not released.
TEST(JobJournal, AJournalWithoutArtifactsLoads) {
    TempDir dir;
    write_file(dir / "jobs.toml",
               bytes("jobs = 1\n[[job]]\nid = 7\nstate = \"running\"\ndrive = \"sr0\"\n"
                     "source = \"/dev/sr0\"\nuid = 0\nmedia = \"m\"\nfile_dev = 0\nfile_ino = 0\n"
                     "passed_open = false\nlabel = \"OLD\"\nidentity = \"i\"\n"
                     "output = \"/library/OLD.iso\"\nbytes_total = 10\nbytes_done = 5\n"
                     "created = 1700000000\n# end of the journal\n"));
    auto jobs = JobJournal(dir / "jobs.toml").load();
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].output, "/library/OLD.iso");
    EXPECT_TRUE(jobs[0].artifacts.empty());
    EXPECT_FALSE(jobs[0].released);
    EXPECT_TRUE(jobs[0].folder.empty());
    EXPECT_TRUE(jobs[0].request.titles.empty());
    EXPECT_FALSE(std::filesystem::exists(dir / "jobs.toml.corrupt"));
}

// A journal written before the count and the end line existed is read as it is.
TEST(JobJournal, AJournalWithoutTheCountIsReadAsBefore) {
    TempDir dir;
    write_file(dir / "jobs.toml",
               bytes("# freemkvd job journal\n[[job]]\nid = 4\nstate = \"done\"\n"
                     "label = \"OLD\"\n"));
    auto jobs = JobJournal(dir / "jobs.toml").load();
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].label, "OLD");
    EXPECT_FALSE(std::filesystem::exists(dir / "jobs.toml.corrupt"));
}

}  // namespace
}  // namespace freemkv
