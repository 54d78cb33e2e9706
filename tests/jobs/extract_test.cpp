// The extract stage of a DVD-Video job, through the queue with real rips of the generated test
// DVD (tests/fixtures/make-dvd: title 1 60 s with 3 chapters, title 2 10 s, title 3 one 4 s cell
// played twice). The MKV remux is not used: a test extractor writes a deterministic function of
// the title's cells, so the content of each file can be checked, and can block on a gate, so the
// tests see the job in the middle of its extraction.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>

#include "dvd_titles.hpp"
#include "extract_stage.hpp"
#include "io_error.hpp"
#include "job_journal.hpp"
#include "job_queue.hpp"
#include "mapfile.hpp"
#include "publish_dir.hpp"
#include "ripper.hpp"
#include "support/dvd_images.hpp"
#include "support/recording_file_system.hpp"
#include "support/test_support.hpp"
#include "title_naming.hpp"
#include "title_sectors.hpp"
#include "video_lost.hpp"

namespace freemkv {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::read_file;
using test::TempDir;

constexpr const char* label = "FREEMKV_TEST_DVD";
// The folder of its titles: the label made readable (readable_label).
constexpr const char* folder_name = "Freemkv Test Dvd";

// What the test extractor writes for a title: one line per cell, each line 64 times.
std::string title_content(const TitleInfo& t) {
    std::string out;
    for (const Cell& c : t.cells) {
        std::string line = "title " + std::to_string(t.number) + " cell " +
                           std::to_string(c.first_sector) + "-" + std::to_string(c.last_sector) +
                           "\n";
        for (int i = 0; i < 64; ++i) {
            out += line;
        }
    }
    return out;
}

std::string text_of(const fs::path& p) {
    auto bytes = read_file(p);
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

const TitleInfo& title(int number) {
    static const std::vector<TitleInfo> titles = list_titles(test::dvd_video_image());
    return titles.at(static_cast<std::size_t>(number - 1));
}

// A test extractor. Titles in `block` wait at the gate (until opened or stopped) after writing
// half their content; every call is recorded.
class Extractor {
  public:
    TitleExtractor function() {
        return [this](const fs::path&, const TitleInfo& t, OutputFile& out,
                      const TitleProgress& progress, std::stop_token stop) {
            std::string content = title_content(t);
            auto bytes = std::as_bytes(std::span(content));
            std::size_t half = bytes.size() / 2;
            out.write(bytes.first(half));
            progress(half);
            {
                std::unique_lock lock(m_);
                started_.push_back(t.number);
                changed_.notify_all();
                if (block_.contains(t.number)) {
                    ++waiting_;
                    changed_.notify_all();
                    changed_.wait(lock, stop, [&] { return open_; });
                    --waiting_;
                    changed_.notify_all();
                    if (stop.stop_requested()) {
                        return;
                    }
                }
                if (fail_.contains(t.number)) {
                    throw std::runtime_error("test extractor fails title " +
                                             std::to_string(t.number));
                }
            }
            out.write(bytes.subspan(half));
            progress(bytes.size());
            std::lock_guard lock(m_);
            finished_.push_back(t.number);
            changed_.notify_all();
        };
    }
    void block(int title) {
        std::lock_guard lock(m_);
        block_.insert(title);
        open_ = false;
    }
    void fail(int title) {
        std::lock_guard lock(m_);
        fail_.insert(title);
    }
    void open() {
        {
            std::lock_guard lock(m_);
            open_ = true;
        }
        changed_.notify_all();
    }
    // Until `n` calls wait at the gate.
    void wait_blocked(int n) {
        std::unique_lock lock(m_);
        ASSERT_TRUE(changed_.wait_for(lock, 2min, [&] { return waiting_ >= n; }));
    }
    std::vector<int> started() {
        std::lock_guard lock(m_);
        return started_;
    }
    std::vector<int> finished() {
        std::lock_guard lock(m_);
        return finished_;
    }
    int waiting() {
        std::lock_guard lock(m_);
        return waiting_;
    }

  private:
    std::mutex m_;
    std::condition_variable_any changed_;
    std::set<int> block_, fail_;
    bool open_ = true;
    int waiting_ = 0;
    std::vector<int> started_, finished_;
};

// Records the stages the queue reports.
struct Events : JobListener {
    std::mutex m;
    std::condition_variable changed;
    std::vector<std::uint64_t> acquired;
    std::map<std::uint64_t, std::set<std::string>> phases;
    std::map<std::uint64_t, JobInfo> last;
    void on_progress(const JobInfo& j) override {
        std::lock_guard l(m);
        phases[j.id].insert(j.progress.phase);
        last[j.id] = j;
        changed.notify_all();
    }
    void on_acquired(const JobInfo& j) override {
        std::lock_guard l(m);
        EXPECT_TRUE(j.released);
        acquired.push_back(j.id);
        last[j.id] = j;
        changed.notify_all();
    }
    void on_ended(const JobInfo& j) override {
        std::lock_guard l(m);
        last[j.id] = j;
        changed.notify_all();
    }
    // Until `pred()` holds (checked under the lock).
    template <typename Pred>
    bool wait(Pred pred) {
        std::unique_lock l(m);
        return changed.wait_for(l, 2min, pred);
    }
};

QueueOptions options(const TempDir& dir) {
    QueueOptions c;
    c.library = dir / "library";
    c.state_dir = dir / "state";
    fs::create_directories(c.library);
    fs::create_directories(c.state_dir);
    c.rip.writeback.min_bytes = 1 * MiB;
    c.rip.writeback.start_bytes = 4 * MiB;
    c.rip.buffer = BufferConfig{.buffer_bytes = 8 * MiB, .block_bytes = 1 * MiB};
    c.max_parallel = 2;
    return c;
}

std::vector<Artifact> titles_of(const JobInfo& job) {
    std::vector<Artifact> out;
    for (const Artifact& a : job.artifacts) {
        if (a.kind == ArtifactKind::title) {
            out.push_back(a);
        }
    }
    return out;
}

TEST(Extract, ADvdVideoBecomesItsMainFeatureInAFolderAndTheImageGoes) {
    REQUIRE_DVD_VIDEO_IMAGE();
    TempDir dir;
    Extractor extractor;
    Events events;
    JobQueue q(options(dir), &events, JobQueue::Interrupted::requeue, real_file_system(),
               extractor.function());
    auto id = q.submit(JobRequest{.drive = "sr0", .source = test::dvd_video_image()});
    q.wait_idle();
    auto job = q.job(id);
    ASSERT_EQ(job->state, JobState::done) << job->result->reason;
    EXPECT_EQ(job->result->outcome, RipOutcome::ok);
    fs::path lib = dir / "library";
    fs::path main = lib / folder_name / (std::string(folder_name) + ".mkv");
    EXPECT_EQ(job->output, main);
    EXPECT_EQ(job->result->output, main);
    EXPECT_EQ(text_of(main), title_content(title(1)));
    EXPECT_FALSE(fs::exists(lib / (std::string(label) + ".iso"))) << "the image goes";
    EXPECT_FALSE(fs::exists(lib / (std::string(folder_name) + ".part")));
    EXPECT_TRUE(job->released);
    ASSERT_EQ(job->artifacts.size(), 2u);
    EXPECT_EQ(job->artifacts[0].kind, ArtifactKind::image);
    EXPECT_EQ(job->artifacts[0].state, ArtifactState::deleted);
    EXPECT_EQ(job->artifacts[1].kind, ArtifactKind::title);
    EXPECT_EQ(job->artifacts[1].title, 1);
    EXPECT_EQ(job->artifacts[1].state, ArtifactState::published);
    EXPECT_EQ(job->artifacts[1].path, main);
    EXPECT_EQ(job->artifacts[1].bytes_done, title_content(title(1)).size());
    EXPECT_EQ(extractor.started(), (std::vector<int>{1}));
    std::lock_guard l(events.m);
    EXPECT_EQ(events.acquired, (std::vector<std::uint64_t>{id}));
    EXPECT_TRUE(events.phases[id].contains("extract"));
}

TEST(Extract, AllTitlesGoMainFirstAndExtrasUnderTheirNumbers) {
    REQUIRE_DVD_VIDEO_IMAGE();
    TempDir dir;
    QueueOptions c = options(dir);
    c.video.titles = TitleSelection::all;
    c.video.min_length = 5s;
    Extractor extractor;
    JobQueue q(c, nullptr, JobQueue::Interrupted::requeue, real_file_system(),
               extractor.function());
    auto id = q.submit(JobRequest{.drive = "", .source = test::dvd_video_image()});
    q.wait_idle();
    auto job = q.job(id);
    ASSERT_EQ(job->state, JobState::done) << job->result->reason;
    fs::path folder = dir / "library" / folder_name;
    std::string name = folder_name;
    auto titles = titles_of(*job);
    ASSERT_EQ(titles.size(), 3u);
    EXPECT_EQ(titles[0].path, folder / (name + ".mkv"));
    EXPECT_EQ(titles[1].path, folder / "extras" / (name + " - title 02.mkv"));
    EXPECT_EQ(titles[2].path, folder / "extras" / (name + " - title 03.mkv"));
    for (const Artifact& a : titles) {
        EXPECT_EQ(a.state, ArtifactState::published);
        EXPECT_EQ(text_of(a.path), title_content(title(a.title))) << a.path;
    }
    EXPECT_EQ(job->folder, folder);
}

TEST(Extract, RequestedTitlesOverrideTheOptionsAndAnUnknownOneFailsTheJob) {
    REQUIRE_DVD_VIDEO_IMAGE();
    TempDir dir;
    Extractor extractor;
    JobQueue q(options(dir), nullptr, JobQueue::Interrupted::requeue, real_file_system(),
               extractor.function());
    auto id = q.submit(JobRequest{.drive = "", .source = test::dvd_video_image(), .titles = {3}});
    q.wait_idle();
    auto job = q.job(id);
    ASSERT_EQ(job->state, JobState::done) << job->result->reason;
    auto titles = titles_of(*job);
    ASSERT_EQ(titles.size(), 1u);
    EXPECT_EQ(titles[0].title, 3);
    EXPECT_EQ(text_of(job->output), title_content(title(3)));

    auto bad =
        q.submit(JobRequest{.drive = "", .source = test::dvd_video_image(), .titles = {1, 9}});
    q.wait_idle();
    job = q.job(bad);
    EXPECT_EQ(job->state, JobState::failed);
    EXPECT_NE(job->result->reason.find("no title 9"), std::string::npos) << job->result->reason;
}

TEST(Extract, KeepImageKeepsTheImageBesideTheFolder) {
    REQUIRE_DVD_VIDEO_IMAGE();
    TempDir dir;
    QueueOptions c = options(dir);
    c.video.keep_image = true;
    Extractor extractor;
    JobQueue q(c, nullptr, JobQueue::Interrupted::requeue, real_file_system(),
               extractor.function());
    auto id = q.submit(JobRequest{.drive = "", .source = test::dvd_video_image()});
    q.wait_idle();
    auto job = q.job(id);
    ASSERT_EQ(job->state, JobState::done) << job->result->reason;
    fs::path image = dir / "library" / (std::string(label) + ".iso");
    EXPECT_EQ(read_file(image), read_file(test::dvd_video_image()));
    EXPECT_EQ(job->artifacts[0].state, ArtifactState::kept);
    EXPECT_EQ(job->artifacts[0].path, image);

    // The kept image is ripped again, without the disc, for another title.
    auto again = q.submit(JobRequest{.drive = "", .source = image, .titles = {2}});
    q.wait_idle();
    job = q.job(again);
    ASSERT_EQ(job->state, JobState::done) << job->result->reason;
    std::string name = std::string(folder_name) + " (2)";
    EXPECT_EQ(job->output, dir / "library" / name / (name + ".mkv"));
    EXPECT_EQ(text_of(job->output), title_content(title(2)));
    EXPECT_EQ(read_file(image), read_file(test::dvd_video_image())) << "the kept image stays";
}

// A folder name already taken: numbered, or with on_exists = "fail" the job fails and the image
// stays; nothing is written into the existing folder.
TEST(Extract, ATakenFolderNameIsNumberedOrRefused) {
    REQUIRE_DVD_VIDEO_IMAGE();
    TempDir dir;
    QueueOptions c = options(dir);
    fs::path taken = c.library / folder_name;
    fs::create_directories(taken);
    Extractor extractor;
    {
        JobQueue q(c, nullptr, JobQueue::Interrupted::requeue, real_file_system(),
                   extractor.function());
        auto id = q.submit(JobRequest{.drive = "", .source = test::dvd_video_image()});
        q.wait_idle();
        auto job = q.job(id);
        ASSERT_EQ(job->state, JobState::done) << job->result->reason;
        std::string name = std::string(folder_name) + " (2)";
        EXPECT_EQ(job->output, c.library / name / (name + ".mkv"));
    }
    TempDir other;
    c = options(other);
    c.naming.on_exists = OnExists::fail;
    fs::create_directories(c.library / folder_name);
    JobQueue q(c, nullptr, JobQueue::Interrupted::requeue, real_file_system(),
               extractor.function());
    auto id = q.submit(JobRequest{.drive = "", .source = test::dvd_video_image()});
    q.wait_idle();
    auto job = q.job(id);
    EXPECT_EQ(job->state, JobState::failed);
    EXPECT_NE(job->result->reason.find("already exists"), std::string::npos) << job->result->reason;
    EXPECT_TRUE(fs::is_empty(c.library / folder_name));
    EXPECT_TRUE(fs::exists(c.library / (std::string(label) + ".iso")));
}

TEST(Extract, AFailedTitleEndsOkWithErrorsAndKeepsTheImage) {
    REQUIRE_DVD_VIDEO_IMAGE();
    TempDir dir;
    QueueOptions c = options(dir);
    c.video.titles = TitleSelection::all;
    c.video.min_length = 5s;
    Extractor extractor;
    extractor.fail(2);
    JobQueue q(c, nullptr, JobQueue::Interrupted::requeue, real_file_system(),
               extractor.function());
    auto id = q.submit(JobRequest{.drive = "", .source = test::dvd_video_image()});
    q.wait_idle();
    auto job = q.job(id);
    ASSERT_EQ(job->state, JobState::done) << job->result->reason;
    EXPECT_EQ(job->result->outcome, RipOutcome::ok_with_errors);
    auto titles = titles_of(*job);
    ASSERT_EQ(titles.size(), 3u);
    EXPECT_EQ(titles[1].state, ArtifactState::failed);
    EXPECT_NE(titles[1].error.find("fails title 2"), std::string::npos);
    EXPECT_FALSE(fs::exists(titles[1].path));
    EXPECT_EQ(titles[2].state, ArtifactState::published);
    EXPECT_EQ(job->artifacts[0].state, ArtifactState::kept);
    EXPECT_TRUE(fs::exists(job->artifacts[0].path));
}

TEST(Extract, ADataDiscStaysAnImage) {
    TempDir dir;
    auto content = dir / "content";
    fs::create_directories(content);
    test::write_file(content / "data.bin", test::random_bytes(2 * MiB, 5));
    auto iso = dir / "data.iso";
    test::run("xorriso -as mkisofs -quiet -V DATA_DISC -o " + iso.string() + " " +
              content.string());
    Extractor extractor;
    Events events;
    JobQueue q(options(dir), &events, JobQueue::Interrupted::requeue, real_file_system(),
               extractor.function());
    auto id = q.submit(JobRequest{.drive = "sr0", .source = iso});
    q.wait_idle();
    auto job = q.job(id);
    ASSERT_EQ(job->state, JobState::done) << job->result->reason;
    EXPECT_EQ(job->output, dir / "library" / "DATA_DISC.iso");
    EXPECT_EQ(read_file(job->output), read_file(iso));
    EXPECT_FALSE(job->released);
    ASSERT_EQ(job->artifacts.size(), 1u) << "its image";
    EXPECT_EQ(job->artifacts[0].kind, ArtifactKind::image);
    EXPECT_EQ(job->artifacts[0].path, job->output);
    EXPECT_EQ(job->artifacts[0].state, ArtifactState::published);
    EXPECT_EQ(job->artifacts[0].bytes_done, fs::file_size(iso));
    EXPECT_TRUE(extractor.started().empty());
    std::lock_guard l(events.m);
    EXPECT_TRUE(events.acquired.empty());
    EXPECT_FALSE(events.phases[id].contains("extract"));
}

// The drive is let go when the acquire stage ends: a second disc in the same drive starts while
// the first job still extracts, and with max_extract = 1 its extraction waits for the first.
TEST(Extract, TheDriveIsFreeDuringExtractionAndMaxExtractSerialisesIt) {
    REQUIRE_DVD_VIDEO_IMAGE();
    TempDir dir;
    QueueOptions c = options(dir);
    c.max_extract = 1;
    Extractor extractor;
    extractor.block(1);
    Events events;
    JobQueue q(c, &events, JobQueue::Interrupted::requeue, real_file_system(),
               extractor.function());
    auto first = q.submit(JobRequest{.drive = "sr0", .source = test::dvd_video_image()});
    extractor.wait_blocked(1);
    fs::path lib = dir / "library";
    EXPECT_TRUE(fs::is_directory(lib / (std::string(folder_name) + ".part")));
    EXPECT_FALSE(fs::exists(lib / folder_name))
        << "nothing under the final name before all is done";

    std::uint64_t second = 0;
    ASSERT_NO_THROW(second =
                        q.submit(JobRequest{.drive = "sr0", .source = test::dvd_video_image()}))
        << "the drive is free once the first job's acquire stage ended";
    // The second acquires (rips the disc) while the first extracts, then waits for the slot.
    ASSERT_TRUE(events.wait([&] { return std::ranges::count(events.acquired, second) == 1; }));
    EXPECT_EQ(extractor.started(), (std::vector<int>{1})) << "max_extract = 1";
    EXPECT_EQ(q.job(first)->state, JobState::running);
    EXPECT_EQ(q.job(second)->progress.phase, "extract");
    extractor.open();
    q.wait_idle();
    auto a = q.job(first);
    auto b = q.job(second);
    ASSERT_EQ(a->state, JobState::done) << a->result->reason;
    ASSERT_EQ(b->state, JobState::done) << b->result->reason;
    EXPECT_EQ(a->output, lib / folder_name / (std::string(folder_name) + ".mkv"));
    std::string second_name = std::string(folder_name) + " (2)";
    EXPECT_EQ(b->output, lib / second_name / (second_name + ".mkv"));
    EXPECT_EQ(text_of(b->output), title_content(title(1)));
    EXPECT_EQ(extractor.started(), (std::vector<int>{1, 1}));
}

TEST(Extract, ACancelDuringExtractionDropsTheTitlesAndKeepsTheImage) {
    REQUIRE_DVD_VIDEO_IMAGE();
    TempDir dir;
    Extractor extractor;
    extractor.block(1);
    JobQueue q(options(dir), nullptr, JobQueue::Interrupted::requeue, real_file_system(),
               extractor.function());
    auto id = q.submit(JobRequest{.drive = "", .source = test::dvd_video_image()});
    extractor.wait_blocked(1);
    EXPECT_TRUE(q.cancel(id));
    q.wait_idle();
    auto job = q.job(id);
    EXPECT_EQ(job->state, JobState::cancelled);
    fs::path lib = dir / "library";
    EXPECT_FALSE(fs::exists(lib / (std::string(folder_name) + ".part")));
    EXPECT_FALSE(fs::exists(lib / label));
    EXPECT_TRUE(fs::exists(lib / (std::string(label) + ".iso")));
}

// A restart in the middle of the extract stage (the queue destroyed while the second title is
// being written) goes on from the kept image without the disc, and writes only the titles that
// were not finished.
TEST(Extract, ARestartRedoesOnlyTheUnfinishedTitles) {
    REQUIRE_DVD_VIDEO_IMAGE();
    TempDir dir;
    QueueOptions c = options(dir);
    c.video.titles = TitleSelection::all;
    c.video.min_length = 5s;
    // The source vanishes after the acquire stage: the restart cannot read it again.
    fs::path source = dir / "disc.iso";
    fs::copy_file(test::dvd_video_image(), source);
    std::uint64_t id = 0;
    {
        Extractor extractor;
        extractor.block(2);
        JobQueue q(c, nullptr, JobQueue::Interrupted::requeue, real_file_system(),
                   extractor.function());
        id = q.submit(JobRequest{.drive = "sr0", .source = source});
        extractor.wait_blocked(1);
        EXPECT_EQ(extractor.finished(), (std::vector<int>{1}));
        fs::remove(source);
    }
    auto journaled = JobJournal(c.state_dir / "jobs.toml").load();
    ASSERT_EQ(journaled.size(), 1u);
    EXPECT_TRUE(journaled[0].released);
    auto before = titles_of(journaled[0]);
    ASSERT_EQ(before.size(), 3u);
    EXPECT_EQ(before[0].state, ArtifactState::written);
    EXPECT_EQ(before[1].state, ArtifactState::writing);
    EXPECT_EQ(before[2].state, ArtifactState::pending);

    Extractor again;
    JobQueue q(c, nullptr, JobQueue::Interrupted::requeue, real_file_system(), again.function());
    q.wait_idle();
    auto job = q.job(id);
    ASSERT_EQ(job->state, JobState::done) << job->result->reason;
    EXPECT_EQ(again.started(), (std::vector<int>{2, 3})) << "title 1 was written already";
    for (const Artifact& a : titles_of(*job)) {
        EXPECT_EQ(a.state, ArtifactState::published);
        EXPECT_EQ(text_of(a.path), title_content(title(a.title))) << a.path;
    }
    EXPECT_FALSE(fs::exists(dir / "library" / (std::string(label) + ".iso")));
}

// kill -9 in the middle of the extract stage: a child process runs the queue and is killed while
// it writes the second title (the first is written, the journal says so). A new queue over the
// same state directory goes on from the image and writes only the unfinished titles.
TEST(Extract, AKillDuringExtractionRedoesOnlyTheUnfinishedTitles) {
    REQUIRE_DVD_VIDEO_IMAGE();
    TempDir dir;
    QueueOptions c = options(dir);
    c.video.titles = TitleSelection::all;
    c.video.min_length = 5s;
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(ready[0]);
        JobQueue* queue = nullptr;
        JobQueue q(c, nullptr, JobQueue::Interrupted::requeue, real_file_system(),
                   [&](const fs::path&, const TitleInfo& t, OutputFile& out,
                       const TitleProgress& progress, std::stop_token) {
                       std::string content = title_content(t);
                       auto bytes = std::as_bytes(std::span(content));
                       if (t.number == 2) {
                           out.write(bytes.first(bytes.size() / 2));
                           queue->flush_journal();
                           char byte = 'k';
                           if (::write(ready[1], &byte, 1) != 1) {
                               ::_exit(3);
                           }
                           ::pause();  // killed here
                       }
                       out.write(bytes);
                       progress(bytes.size());
                   });
        queue = &q;
        q.submit(JobRequest{.drive = "sr0", .source = test::dvd_video_image()});
        q.wait_idle();
        ::_exit(2);  // not reached: the parent kills it first
    }
    ::close(ready[1]);
    char byte = 0;
    ASSERT_EQ(::read(ready[0], &byte, 1), 1) << "the child reached title 2";
    ::close(ready[0]);
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status));

    fs::path lib = dir / "library";
    std::string name = folder_name;
    EXPECT_TRUE(fs::exists(lib / (name + ".part") / (name + ".mkv")));
    EXPECT_FALSE(fs::exists(lib / name));

    Extractor again;
    JobQueue q(c, nullptr, JobQueue::Interrupted::requeue, real_file_system(), again.function());
    q.wait_idle();
    auto job = q.job(1);
    ASSERT_EQ(job->state, JobState::done) << job->result->reason;
    EXPECT_EQ(again.started(), (std::vector<int>{2, 3})) << "title 1 was written already";
    auto titles = titles_of(*job);
    ASSERT_EQ(titles.size(), 3u);
    for (const Artifact& a : titles) {
        EXPECT_EQ(a.state, ArtifactState::published);
        EXPECT_EQ(text_of(a.path), title_content(title(a.title))) << a.path;
    }
    EXPECT_FALSE(fs::exists(lib / (name + ".part")));
    EXPECT_FALSE(fs::exists(lib / (name + ".iso")));
}

// A title that the crash caught after its file was published in the part folder, before the
// journal said so, is not written again. The job's disc image was handed over open: after the
// restart it goes on all the same, from the image in the library.
TEST(Extract, ATitlePublishedBeforeTheJournalSaidSoIsKept) {
    REQUIRE_DVD_VIDEO_IMAGE();
    TempDir dir;
    QueueOptions c = options(dir);
    fs::path lib = c.library;
    fs::path image = lib / "MOVIE.iso";
    fs::create_directories(lib);
    fs::copy_file(test::dvd_video_image(), image);
    JobInfo job;
    job.id = 1;
    job.state = JobState::running;
    job.request.source = "/dev/fd/9";
    // Handed over open: the descriptor died with the process, but a released job needs only
    // its image.
    job.request.passed_open = true;
    job.output = image;
    std::vector<TitleInfo> titles = list_titles(image);
    ExtractSettings settings{c.naming, c.video, c.rip.writeback, &real_file_system()};
    plan_extract(job, image, titles, {1}, settings);
    job.released = true;
    job.artifacts[1].state = ArtifactState::writing;
    // What the crash left: the title whole under its name in the part folder.
    test::write_file(part_folder(job.folder) / "Movie.mkv", test::random_bytes(1000, 3));
    JobInfo* list[] = {&job};
    JobJournal(c.state_dir / "jobs.toml").save({list[0]});

    Extractor extractor;
    JobQueue q(c, nullptr, JobQueue::Interrupted::requeue, real_file_system(),
               extractor.function());
    q.wait_idle();
    auto done = q.job(1);
    ASSERT_EQ(done->state, JobState::done) << done->result->reason;
    EXPECT_TRUE(extractor.started().empty());
    EXPECT_EQ(read_file(lib / "Movie" / "Movie.mkv"), test::random_bytes(1000, 3));
}

// The extract phase reports how fast it goes: a rate (bytes of title written per second) and an
// ETA, as the acquire phase does. The test extractor reports half its title, then waits at the
// gate: the report it made before waiting is the one the listener holds.
TEST(Extract, TheExtractPhaseReportsARateAndAnEta) {
    REQUIRE_DVD_VIDEO_IMAGE();
    TempDir dir;
    Extractor extractor;
    extractor.block(1);
    Events events;
    JobQueue q(options(dir), &events, JobQueue::Interrupted::requeue, real_file_system(),
               extractor.function());
    auto id = q.submit(JobRequest{.drive = "", .source = test::dvd_video_image()});
    extractor.wait_blocked(1);
    {
        std::lock_guard l(events.m);
        const RipProgress& p = events.last[id].progress;
        EXPECT_EQ(p.phase, "extract");
        EXPECT_GT(p.rate, 0) << "bytes of title per second while a title is written";
        EXPECT_LT(p.bytes_done, p.bytes_total);
        EXPECT_TRUE(p.eta.has_value()) << "rate " << p.rate;
    }
    extractor.open();
    q.wait_idle();
    EXPECT_EQ(q.job(id)->state, JobState::done);
}

// The matroska muxer ends by seeking back to finish its header: the title's artifact counts the
// file's bytes, not the position the last write left.
TEST(Extract, ATitleThatEndsWithASeekBackCountsTheWholeFile) {
    REQUIRE_DVD_VIDEO_IMAGE();
    TempDir dir;
    auto extractor = [](const fs::path&, const TitleInfo&, OutputFile& out,
                        const TitleProgress& progress, std::stop_token) {
        std::vector<std::byte> body(100000, std::byte{'b'});
        std::vector<std::byte> header(100, std::byte{'h'});
        out.write(body);
        progress(body.size());
        out.write_at(0, header);
    };
    JobQueue q(options(dir), nullptr, JobQueue::Interrupted::requeue, real_file_system(),
               extractor);
    auto id = q.submit(JobRequest{.drive = "", .source = test::dvd_video_image()});
    q.wait_idle();
    auto job = q.job(id);
    ASSERT_EQ(job->state, JobState::done) << job->result->reason;
    auto titles = titles_of(*job);
    ASSERT_EQ(titles.size(), 1u);
    EXPECT_EQ(fs::file_size(titles[0].path), 100000u);
    EXPECT_EQ(titles[0].bytes_done, 100000u);
    EXPECT_EQ(titles[0].bytes_total, 100000u);
}

// A released job over "<library>/MOVIE.iso" whose mapfile marks `bad` (sectors of the image)
// unreadable, journaled before its extraction of `chosen`: what a rip of a damaged disc leaves
// for its extract stage. The queue made over `c` runs it.
void journal_damaged_job(const QueueOptions& c, const fs::path& image, SectorRange bad,
                         const std::vector<int>& chosen) {
    fs::copy_file(test::dvd_video_image(), image);
    std::uint64_t size = fs::file_size(image);
    Mapfile map(size);
    map.set(0, size, BlockStatus::finished);
    map.set(bad.first * 2048, bad.count * 2048, BlockStatus::bad_sector);
    map.save(mapfile_path(image));
    JobInfo job;
    job.id = 1;
    job.state = JobState::running;
    job.request.source = "/dev/sr0";
    job.output = image;
    ExtractSettings settings{c.naming, c.video, c.rip.writeback, &real_file_system()};
    plan_extract(job, image, list_titles(image), chosen, settings);
    job.released = true;
    JobJournal(c.state_dir / "jobs.toml").save({&job});
}

// Where title `t`'s cell `cell` starts on the image, in sectors.
std::uint64_t cell_start(const fs::path& image, const TitleInfo& t, std::size_t cell) {
    return title_sector_map(image).at(t.titleset).first_sector + t.cells.at(cell).first_sector;
}

// Unreadable sectors inside the main feature: its artifact counts the seconds lost (about its
// share of the title's sectors), the job ends ok-with-errors saying so, image and map stay.
TEST(Extract, ABadRangeInsideATitleIsVideoLostAndKeepsImageAndMap) {
    REQUIRE_DVD_VIDEO_IMAGE();
    TempDir dir;
    QueueOptions c = options(dir);
    fs::path image = c.library / "MOVIE.iso";
    const TitleInfo& t = title(1);
    const std::uint64_t bad = 200;
    journal_damaged_job(c, image, {cell_start(test::dvd_video_image(), t, 0) + 100, bad}, {1});

    Extractor extractor;
    JobQueue q(c, nullptr, JobQueue::Interrupted::requeue, real_file_system(),
               extractor.function());
    q.wait_idle();
    auto job = q.job(1);
    ASSERT_EQ(job->state, JobState::done) << job->result->reason;
    EXPECT_EQ(job->result->outcome, RipOutcome::ok_with_errors);
    EXPECT_NE(job->result->reason.find("video was lost"), std::string::npos) << job->result->reason;
    auto titles = titles_of(*job);
    ASSERT_EQ(titles.size(), 1u);
    EXPECT_EQ(titles[0].state, ArtifactState::published) << "a title with loss is still published";
    double share = std::chrono::duration<double>(t.duration).count() * static_cast<double>(bad) /
                   static_cast<double>(t.sectors);
    EXPECT_GT(titles[0].seconds_lost, 0);
    EXPECT_NEAR(titles[0].seconds_lost, share, share * 0.5 + 0.1);
    EXPECT_EQ(job->artifacts[0].state, ArtifactState::kept);
    EXPECT_TRUE(fs::exists(image));
    EXPECT_TRUE(fs::exists(mapfile_path(image)));
    EXPECT_EQ(job->result->mapfile, mapfile_path(image));
}

// Unreadable sectors only in a title not chosen (title 2, the main feature chosen): nothing lost,
// the job is ok, and image and map go.
TEST(Extract, ABadRangeOutsideTheChosenTitlesLosesNothing) {
    REQUIRE_DVD_VIDEO_IMAGE();
    TempDir dir;
    QueueOptions c = options(dir);
    fs::path image = c.library / "MOVIE.iso";
    std::uint64_t first = cell_start(test::dvd_video_image(), title(2), 0);
    for (std::size_t i = 0; i < title(1).cells.size(); ++i) {
        std::uint64_t start = cell_start(test::dvd_video_image(), title(1), i);
        std::uint64_t end = start + title(1).cells[i].last_sector - title(1).cells[i].first_sector;
        ASSERT_TRUE(first + 10 < start || first > end) << "title 2's cell is not title 1's";
    }
    journal_damaged_job(c, image, {first, 10}, {1});

    Extractor extractor;
    JobQueue q(c, nullptr, JobQueue::Interrupted::requeue, real_file_system(),
               extractor.function());
    q.wait_idle();
    auto job = q.job(1);
    ASSERT_EQ(job->state, JobState::done) << job->result->reason;
    EXPECT_EQ(job->result->outcome, RipOutcome::ok) << job->result->reason;
    auto titles = titles_of(*job);
    ASSERT_EQ(titles.size(), 1u);
    EXPECT_EQ(titles[0].seconds_lost, 0);
    EXPECT_EQ(titles[0].state, ArtifactState::published);
    EXPECT_EQ(job->artifacts[0].state, ArtifactState::deleted);
    EXPECT_FALSE(fs::exists(image));
    EXPECT_FALSE(fs::exists(mapfile_path(image)));
}

// Durability, as the calls show it: each title is synced and renamed inside the part folder
// (whose new extras/ entry is synced first), the folder is renamed only after that and its parent
// synced, and the image is removed only after the folder was published.
TEST(Extract, TitlesAreDurableBeforeTheFolderIsPublishedAndTheImageRemoved) {
    REQUIRE_DVD_VIDEO_IMAGE();
    TempDir dir;
    QueueOptions c = options(dir);
    c.video.titles = TitleSelection::all;
    c.video.min_length = 9s;  // titles 1 and 2
    test::RecordingFileSystem rec(dir.path());
    c.rip.file_system = &rec;
    Extractor extractor;
    JobQueue q(c, nullptr, JobQueue::Interrupted::requeue, real_file_system(),
               extractor.function());
    auto id = q.submit(JobRequest{.drive = "", .source = test::dvd_video_image()});
    q.wait_idle();
    ASSERT_EQ(q.job(id)->state, JobState::done) << q.job(id)->result->reason;
    auto calls = rec.calls();
    auto at = [&](const std::string& call, std::size_t from = 0) {
        auto it = std::find(calls.begin() + static_cast<std::ptrdiff_t>(from), calls.end(), call);
        EXPECT_NE(it, calls.end()) << call << " after call " << from;
        return static_cast<std::size_t>(it - calls.begin());
    };
    std::string part = "library/" + std::string(folder_name) + ".part";
    std::string image_name = label;
    std::string name = folder_name;
    std::size_t image = at("rename_noreplace library/" + image_name + ".iso.part -> library/" +
                           image_name + ".iso");
    std::size_t main =
        at("rename_noreplace " + part + "/" + name + ".mkv.part -> " + part + "/" + name + ".mkv");
    std::size_t main_data = at("sync_data " + part + "/" + name + ".mkv.part", image);
    std::size_t extras_dir = at("sync_directory " + part, main);
    std::size_t extra =
        at("rename_noreplace " + part + "/extras/" + name + " - title 02.mkv.part -> " + part +
           "/extras/" + name + " - title 02.mkv");
    std::size_t extra_synced = at("sync_directory " + part + "/extras", extra);
    std::size_t folder = at("sync_directory library", extra_synced);
    std::size_t removed = at("sync_directory library", folder + 1);
    EXPECT_LT(image, main_data);
    EXPECT_LT(main_data, main);
    EXPECT_LT(extras_dir, extra);
    EXPECT_LT(folder, removed);
    EXPECT_EQ(removed, calls.size() - 1) << "the image's removal is the last step";
    EXPECT_TRUE(fs::exists(dir / "library" / name / "extras" / (name + " - title 02.mkv")));
}

TEST(PublishDirectory, RenamesWithoutReplacingThenSyncsTheParent) {
    TempDir dir;
    fs::create_directories(dir / "lib" / "Movie.part" / "extras");
    test::write_file(dir / "lib" / "Movie.part" / "Movie.mkv", test::random_bytes(10, 1));
    fs::create_directories(dir / "lib" / "Taken");
    test::RecordingFileSystem rec(dir.path());
    try {
        publish_directory(dir / "lib" / "Movie.part", dir / "lib" / "Taken", rec);
        ADD_FAILURE() << "a taken name is not replaced";
    } catch (const IoError& e) {
        EXPECT_EQ(e.code().value(), EEXIST);
    }
    EXPECT_TRUE(fs::exists(dir / "lib" / "Movie.part" / "Movie.mkv"));
    EXPECT_TRUE(fs::is_empty(dir / "lib" / "Taken"));
    EXPECT_TRUE(rec.calls().empty());

    publish_directory(dir / "lib" / "Movie.part", dir / "lib" / "Movie", rec);
    EXPECT_FALSE(fs::exists(dir / "lib" / "Movie.part"));
    EXPECT_TRUE(fs::exists(dir / "lib" / "Movie" / "Movie.mkv"));
    EXPECT_EQ(rec.calls(), (std::vector<std::string>{"sync_directory lib"}));
}

TEST(TitleFile, FillsNameAndNumberInsideTheFolder) {
    NamingOptions n;
    EXPECT_EQ(title_file(n.title_main, "The Movie", 1), "The Movie.mkv");
    EXPECT_EQ(title_file(n.title_extra, "The Movie", 3), "extras/The Movie - title 03.mkv");
    EXPECT_EQ(title_file(n.title_extra, "M", 12), "extras/M - title 12.mkv");
    EXPECT_EQ(title_file("{name}/t{title} {{x}}", "M", 7), "t7 {x}.mkv");
    EXPECT_THROW(title_file("{name}.mkv", "M", 1), std::invalid_argument) << "not in the folder";
    EXPECT_THROW(title_file("other/{name}", "M", 1), std::invalid_argument);
    EXPECT_THROW(title_file("{name}/../{name}", "M", 1), std::invalid_argument);
    EXPECT_THROW(title_file("{name}/{label}", "M", 1), std::invalid_argument);
    EXPECT_THROW(title_file("{name}/", "M", 1), std::invalid_argument);
}

}  // namespace
}  // namespace freemkv
