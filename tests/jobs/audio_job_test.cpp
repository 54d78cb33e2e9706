// Audio jobs through the queue on the generated BIN/CUE audio CD (tests/fixtures/make-audio-cd:
// "Test Tones" by "The Oscillators", 4 tracks with CD-TEXT): a cue sheet becomes an album folder
// of FLACs, a cue sheet, a log and a playlist, listed as the job's artifacts; a job stopped in
// the middle, by a user or by the daemon stopping, resumes at the first unfinished track; a folder
// that is not the disc's is never written into.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <string>
#include <thread>

#include "album_rip.hpp"
#include "audio/audio_cd_fixture.hpp"
#include "audio/canned_album.hpp"
#include "cd_source.hpp"
#include "disc_ids.hpp"
#include "job_queue.hpp"
#include "jobs/test_queue_options.hpp"
#include "support/canned_http.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

constexpr int kTracks = 4;

std::string read_text(const fs::path& p) {
    auto bytes = test::read_file(p);
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

void write_text(const fs::path& p, const std::string& text) {
    auto bytes = std::as_bytes(std::span(text));
    test::write_file(p, {bytes.begin(), bytes.end()});
}

// Every progress report of the audio stage, and a cancel when a track starts.
struct Watch : JobListener {
    std::mutex m;
    std::condition_variable changed;
    std::set<int> tracks_read;  // the tracks progress named while being read
    int max_tracks = 0;
    double max_speed = 0;
    bool ended = false;
    JobQueue* queue = nullptr;
    int cancel_at = 0;  // cancel the job when this track starts; 0: never
    bool shutdown_instead = false;

    void on_progress(const JobInfo& j) override {
        std::lock_guard l(m);
        if (j.progress.track > 0) {
            tracks_read.insert(j.progress.track);
        }
        max_tracks = std::max(max_tracks, j.progress.tracks);
        max_speed = std::max(max_speed, j.progress.speed);
        if (cancel_at != 0 && j.progress.track == cancel_at && queue) {
            cancel_at = 0;
            queue->cancel(j.id);
        }
    }
    void on_ended(const JobInfo&) override {
        std::lock_guard l(m);
        ended = true;
        changed.notify_all();
    }
};

QueueOptions audio_options(const TempDir& dir) {
    QueueOptions o = test::test_options(dir);
    o.rip.writeback.min_bytes = 1 * MiB;
    o.rip.writeback.start_bytes = 1 * MiB;
    return o;
}

JobInfo rip(JobQueue& queue, const fs::path& cue) {
    auto id = queue.submit(JobRequest{.source = cue});
    queue.wait_idle();
    return *queue.job(id);
}

const fs::path album_folder = "The Oscillators/Test Tones";

std::int64_t mtime_ns(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
}

TEST(AudioJob, ACueSheetBecomesAnAlbum) {
    FREEMKV_NEED_AUDIO_CD();
    test::AudioCd cd;
    TempDir dir;
    Watch watch;
    JobQueue queue(audio_options(dir), &watch);
    JobInfo job = rip(queue, cd.cue);

    ASSERT_EQ(job.state, JobState::done) << job.result->reason;
    EXPECT_EQ(job.result->outcome, RipOutcome::ok);
    const fs::path folder = dir / "library" / album_folder;
    EXPECT_EQ(job.folder, folder);
    EXPECT_EQ(job.output, folder);
    EXPECT_EQ(job.label, "Test Tones");
    EXPECT_TRUE(job.request.audio || is_audio_request(job.request));

    ASSERT_EQ(job.artifacts.size(), static_cast<std::size_t>(kTracks + 3));
    for (int i = 0; i < kTracks; ++i) {
        const Artifact& a = job.artifacts[static_cast<std::size_t>(i)];
        const auto& truth = cd.truth["tracks"][static_cast<std::size_t>(i)];
        EXPECT_EQ(a.kind, ArtifactKind::track);
        EXPECT_EQ(a.title, i + 1);
        EXPECT_EQ(a.state, ArtifactState::published);
        EXPECT_EQ(a.bytes_total, truth["frames"].get<std::uint64_t>() * kCdFrameBytes);
        EXPECT_EQ(a.bytes_done, a.bytes_total);
        EXPECT_TRUE(a.error.empty()) << a.error;
        EXPECT_EQ(a.path.parent_path(), folder);
        EXPECT_TRUE(fs::is_regular_file(a.path)) << a.path;
    }
    EXPECT_EQ(job.artifacts[0].path.filename(), "01 - Concert A.flac");
    EXPECT_EQ(job.artifacts[1].path.filename(), "02 - Square Café.flac");
    const std::vector<std::pair<ArtifactKind, std::string>> album_files = {
        {ArtifactKind::cue, "Test Tones.cue"},
        {ArtifactKind::log, "Test Tones.log"},
        {ArtifactKind::playlist, "Test Tones.m3u"}};
    for (std::size_t i = 0; i < album_files.size(); ++i) {
        const Artifact& a = job.artifacts[kTracks + i];
        EXPECT_EQ(a.kind, album_files[i].first);
        EXPECT_EQ(a.path, folder / album_files[i].second);
        EXPECT_EQ(a.state, ArtifactState::published);
        EXPECT_EQ(a.bytes_total, fs::file_size(a.path));
    }
    // Progress named each track, of four, with a speed in "x".
    std::lock_guard l(watch.m);
    EXPECT_EQ(watch.tracks_read, (std::set<int>{1, 2, 3, 4}));
    EXPECT_EQ(watch.max_tracks, kTracks);
    EXPECT_GT(watch.max_speed, 0);
    EXPECT_EQ(job.progress.bytes_done, job.progress.bytes_total);
}

// A user's cancel keeps the finished tracks; ripping the disc again reads only the others.
TEST(AudioJob, ACancelledRipResumesAtItsFirstUnfinishedTrack) {
    FREEMKV_NEED_AUDIO_CD();
    test::AudioCd cd;
    TempDir dir;
    Watch first;
    JobQueue queue(audio_options(dir), &first);
    first.queue = &queue;
    first.cancel_at = 3;
    JobInfo cancelled = rip(queue, cd.cue);
    ASSERT_EQ(cancelled.state, JobState::cancelled);
    EXPECT_TRUE(cancelled.result->resumable);
    EXPECT_NE(cancelled.result->reason.find("2 of 4 tracks"), std::string::npos)
        << cancelled.result->reason;
    EXPECT_EQ(cancelled.artifacts[0].state, ArtifactState::published);
    EXPECT_EQ(cancelled.artifacts[1].state, ArtifactState::published);
    EXPECT_EQ(cancelled.artifacts[2].state, ArtifactState::pending);
    const fs::path track1 = cancelled.artifacts[0].path;
    const auto track1_mtime = mtime_ns(track1);
    EXPECT_FALSE(fs::exists(cancelled.artifacts[2].path));

    // The same queue, a new job: count its reads afresh.
    {
        std::lock_guard l(first.m);
        first.tracks_read.clear();
    }
    JobInfo resumed = rip(queue, cd.cue);
    ASSERT_EQ(resumed.state, JobState::done) << resumed.result->reason;
    EXPECT_EQ(resumed.folder, cancelled.folder) << "the same folder, not a numbered one";
    {
        std::lock_guard l(first.m);
        EXPECT_EQ(first.tracks_read, (std::set<int>{3, 4})) << "tracks 1 and 2 were not read again";
    }
    EXPECT_EQ(mtime_ns(track1), track1_mtime);
    for (const Artifact& a : resumed.artifacts) {
        EXPECT_EQ(a.state, ArtifactState::published) << a.path;
    }
    // The log covers every track, the kept ones too.
    std::string log = read_text(resumed.artifacts[kTracks + 1].path);
    for (int n = 1; n <= kTracks; ++n) {
        EXPECT_NE(log.find(fmt::format("Track {:02}\n  File: {:02} - ", n, n)), std::string::npos)
            << log;
    }
}

// The daemon stopping mid-album (shutdown) leaves the job queued in the journal; the next queue on
// the same state directory runs it again and it goes on from the first unfinished track.
TEST(AudioJob, AnInterruptedRipResumesAfterARestart) {
    FREEMKV_NEED_AUDIO_CD();
    test::AudioCd cd;
    TempDir dir;
    std::uint64_t id = 0;
    {
        struct StopAt : JobListener {
            JobQueue* queue = nullptr;
            std::atomic<bool> stopping{false};
            std::jthread stopper;
            void on_progress(const JobInfo& j) override {
                if (j.progress.track == 2 && !stopping.exchange(true)) {
                    // shutdown() waits for this very worker: call it from elsewhere.
                    stopper = std::jthread([q = queue] { q->shutdown(); });
                }
            }
        } stop_at;
        JobQueue queue(audio_options(dir), &stop_at);
        stop_at.queue = &queue;
        id = queue.submit(JobRequest{.source = cd.cue});
        queue.wait_idle();
        stop_at.stopper = {};
        EXPECT_EQ(queue.job(id)->state, JobState::queued) << "interrupted, not ended";
    }
    Watch watch;
    JobQueue queue(audio_options(dir), &watch);
    queue.wait_idle();
    JobInfo job = *queue.job(id);
    ASSERT_EQ(job.state, JobState::done) << (job.result ? job.result->reason : "");
    std::lock_guard l(watch.m);
    EXPECT_FALSE(watch.tracks_read.contains(1)) << "track 1 was finished before the restart";
    EXPECT_TRUE(watch.tracks_read.contains(4));
    EXPECT_EQ(job.folder, dir / "library" / album_folder);
}

// A folder of the album's name that is not this disc's: the rip goes to "<album> (2)", and with
// on_exists = "fail" it fails naming the folder; the user's file is untouched either way.
TEST(AudioJob, AFolderThatIsNotTheDiscsIsNeverWrittenInto) {
    FREEMKV_NEED_AUDIO_CD();
    test::AudioCd cd;
    TempDir dir;
    const fs::path taken = dir / "library" / album_folder;
    fs::create_directories(taken);
    write_text(taken / "01 - Concert A.flac", "the user's own file");

    QueueOptions options = audio_options(dir);
    options.naming.on_exists = OnExists::fail;
    {
        JobQueue queue(options);
        JobInfo job = rip(queue, cd.cue);
        ASSERT_EQ(job.state, JobState::failed);
        EXPECT_NE(job.result->reason.find(taken.string()), std::string::npos) << job.result->reason;
    }
    options.naming.on_exists = OnExists::number;
    JobQueue queue(options);
    JobInfo job = rip(queue, cd.cue);
    ASSERT_EQ(job.state, JobState::done) << job.result->reason;
    EXPECT_EQ(job.folder, dir / "library" / "The Oscillators" / "Test Tones (2)");
    EXPECT_EQ(read_text(taken / "01 - Concert A.flac"), "the user's own file");
}

// [audio] musicbrainz and accuraterip on, against canned answers from 127.0.0.1: the names come
// from MusicBrainz (folder, files, tags), and the job says the rip is accurate. With one CRC
// wrong in the database, it says which did not match; with the server gone, the rip still
// succeeds with CD-TEXT names and says it was not verified.
TEST(AudioJob, OnlineLookupsNameTheAlbumAndVerifyTheRip) {
    FREEMKV_NEED_AUDIO_CD();
    test::AudioCd cd;
    TempDir dir;
    const std::string discid = musicbrainz_disc_id(CdSource::open_cue(cd.cue)->toc());
    test::serve_album(dir / "www", cd);
    fs::create_directories(dir / "server");
    test::CannedHttp server(dir / "www", dir / "server");
    QueueOptions online = audio_options(dir);
    online.audio.musicbrainz = true;
    online.audio.musicbrainz_url = server.base();
    online.audio.accuraterip = true;
    online.audio.accuraterip_url = server.base();
    {
        JobQueue queue(online);
        JobInfo job = rip(queue, cd.cue);
        ASSERT_EQ(job.state, JobState::done) << job.result->reason;
        EXPECT_EQ(job.folder, dir / "library" / "Ensemble Test" / "Canned Works");
        EXPECT_EQ(job.label, "Canned Works");
        EXPECT_EQ(job.result->reason, "accurately ripped (every track matches AccurateRip)");
        EXPECT_EQ(job.artifacts[0].path.filename(), "01 - Étude 1.flac");
        std::string tags =
            test::run("metaflac --export-tags-to=- '" + job.artifacts[0].path.string() + "'");
        EXPECT_NE(tags.find("ALBUM=Canned Works\n"), std::string::npos) << tags;
        EXPECT_NE(tags.find("TITLE=Étude 1\n"), std::string::npos) << tags;
        EXPECT_NE(tags.find("MUSICBRAINZ_DISCID=" + discid), std::string::npos) << tags;
        EXPECT_NE(tags.find(std::string("MUSICBRAINZ_ALBUMID=") + test::kCannedRelease),
                  std::string::npos)
            << tags;
        std::string log = read_text(job.folder / "Canned Works.log");
        EXPECT_NE(log.find("All tracks accurately ripped"), std::string::npos) << log;
    }

    // One track's CRC differs in the database.
    test::serve_album(dir / "www", cd, 3);
    online.library = dir / "library2";
    {
        JobQueue queue(online);
        JobInfo job = rip(queue, cd.cue);
        ASSERT_EQ(job.state, JobState::done) << job.result->reason;
        EXPECT_EQ(job.result->reason, "1 track(s) do not match AccurateRip");
    }

    // No server: CD-TEXT names, not verified, still done.
    online.audio.musicbrainz_url = online.audio.accuraterip_url = "http://127.0.0.1:1";
    online.library = dir / "library3";
    JobQueue queue(online);
    JobInfo job = rip(queue, cd.cue);
    ASSERT_EQ(job.state, JobState::done) << job.result->reason;
    EXPECT_EQ(job.folder, dir / "library3" / album_folder);
    EXPECT_NE(job.result->reason.find("not verified: "), std::string::npos) << job.result->reason;
}

// A finished album is left as it is (its files may have been tagged since): ripping the disc
// again makes "Test Tones (2)".
TEST(AudioJob, AFinishedAlbumIsNotRippedIntoAgain) {
    FREEMKV_NEED_AUDIO_CD();
    test::AudioCd cd;
    TempDir dir;
    JobQueue queue(audio_options(dir));
    JobInfo first = rip(queue, cd.cue);
    ASSERT_EQ(first.state, JobState::done) << first.result->reason;
    const fs::path edited = first.artifacts[0].path;
    write_text(edited, "retagged by the user");
    const auto log_mtime = mtime_ns(first.folder / "Test Tones.log");
    JobInfo second = rip(queue, cd.cue);
    ASSERT_EQ(second.state, JobState::done) << second.result->reason;
    EXPECT_EQ(second.folder, dir / "library" / "The Oscillators" / "Test Tones (2)");
    EXPECT_EQ(read_text(edited), "retagged by the user");
    EXPECT_EQ(mtime_ns(first.folder / "Test Tones.log"), log_mtime);
}

// A hidden track one audio is ripped as track 0, listed first among the artifacts.
TEST(AudioJob, HiddenTrackOneAudioIsTrackZero) {
    FREEMKV_NEED_AUDIO_CD();
    test::AudioCd cd(true);
    TempDir dir;
    JobQueue queue(audio_options(dir));
    JobInfo job = rip(queue, cd.cue);
    ASSERT_EQ(job.state, JobState::done) << job.result->reason;
    ASSERT_FALSE(job.artifacts.empty());
    const Artifact& hidden = job.artifacts[0];
    EXPECT_EQ(hidden.title, 0);
    EXPECT_EQ(hidden.state, ArtifactState::published);
    EXPECT_EQ(hidden.path.filename(), "00 - Hidden Track.flac");
    EXPECT_EQ(hidden.bytes_total, cd.truth["hidden_frames"].get<std::uint64_t>() * kCdFrameBytes);
    EXPECT_TRUE(fs::is_regular_file(hidden.path));
    EXPECT_EQ(job.artifacts[1].title, 1);
}

// The disc leaves the drive in track 3 (its BIN served by faultfs: every read fails and the file
// shrinks to nothing, as a loop device's medium does): the job fails at once, resumable, with
// tracks 1 and 2 published and nothing of track 3; with the disc back, ripping it again reads
// only tracks 3 and 4.
TEST(AudioJob, ADiscPulledMidAlbumFailsResumableAndGoesOnWhenBack) {
    FREEMKV_NEED_AUDIO_CD();
    FREEMKV_REQUIRE_ROOT();
    test::AudioCd cd;
    TempDir dir;
    const fs::path gone = dir / "gone";
    test::FaultFs drive(cd.bin, "--read-bps 2000000 --eject-file " + gone.string() +
                                    " --dead-file " + gone.string());
    const fs::path cue = dir / "disc.cue";
    write_text(cue, cd.cue_with_bin(drive.disk().string()));
    struct PullAt : JobListener {
        fs::path gone;
        std::atomic<bool> pulled{false};
        void on_progress(const JobInfo& j) override {
            if (j.progress.track == 3 && !pulled.exchange(true)) {
                write_text(gone, "");
            }
        }
    } pull;
    pull.gone = gone;
    JobInfo job;
    {
        JobQueue queue(audio_options(dir), &pull);
        job = rip(queue, cue);
    }
    ASSERT_EQ(job.state, JobState::failed);
    EXPECT_TRUE(job.result->resumable);
    EXPECT_NE(job.result->reason.find("the disc was removed while reading track 3"),
              std::string::npos)
        << job.result->reason;
    EXPECT_NE(job.result->reason.find("2 finished track(s) are kept"), std::string::npos)
        << job.result->reason;
    ASSERT_GE(job.artifacts.size(), 4u);
    EXPECT_EQ(job.artifacts[0].state, ArtifactState::published);
    EXPECT_EQ(job.artifacts[1].state, ArtifactState::published);
    EXPECT_EQ(job.artifacts[2].state, ArtifactState::pending);
    EXPECT_FALSE(fs::exists(job.artifacts[2].path)) << "no silent track 3 published";
    const auto track1_mtime = mtime_ns(job.artifacts[0].path);

    fs::remove(gone);
    Watch watch;
    JobQueue queue(audio_options(dir), &watch);
    JobInfo again = rip(queue, cue);
    ASSERT_EQ(again.state, JobState::done) << again.result->reason;
    std::lock_guard l(watch.m);
    EXPECT_EQ(watch.tracks_read, (std::set<int>{3, 4}));
    EXPECT_EQ(mtime_ns(again.artifacts[0].path), track1_mtime);
}

// Two frames of track 2 that never read (faultfs answers EIO): the job ends ok-with-errors, track
// 2 is published with its error and the audio it lost on its artifact, the others are clean.
TEST(AudioJob, ATrackWithReadErrorsEndsTheJobOkWithErrors) {
    FREEMKV_NEED_AUDIO_CD();
    FREEMKV_REQUIRE_ROOT();
    test::AudioCd cd;
    TempDir dir;
    const auto& two = cd.truth["tracks"][1];
    const std::uint64_t bad = (two["start"].get<std::uint64_t>() + 150) * kCdFrameBytes;
    test::FaultFs scratched(cd.bin, fmt::format("--read-only --eio {}:{}", bad, 2 * kCdFrameBytes));
    const fs::path cue = dir / "scratched.cue";
    write_text(cue, cd.cue_with_bin(scratched.disk().string()));
    QueueOptions options = audio_options(dir);
    options.audio.retries = 1;
    JobQueue queue(options);
    JobInfo job = rip(queue, cue);
    ASSERT_EQ(job.state, JobState::done) << job.result->reason;
    EXPECT_EQ(job.result->outcome, RipOutcome::ok_with_errors);
    EXPECT_EQ(job.result->reason, "1 track(s) with uncorrectable read errors (see Test Tones.log)");
    for (int i = 0; i < kTracks; ++i) {
        const Artifact& a = job.artifacts[static_cast<std::size_t>(i)];
        SCOPED_TRACE(a.path.string());
        EXPECT_EQ(a.state, ArtifactState::published);
        if (a.title == 2) {
            EXPECT_NE(a.error.find("uncorrectable read errors; written anyway"), std::string::npos)
                << a.error;
            EXPECT_DOUBLE_EQ(a.seconds_lost, 2.0 / kCdFramesPerSecond);
        } else {
            EXPECT_EQ(a.error, "");
            EXPECT_EQ(a.seconds_lost, 0);
        }
    }
    EXPECT_EQ(job.result->unreadable_sectors, 2u);
}

// A drive that is no CD drive (the job's source is marked audio by udev, as the udev test rule
// marks a loop device): the job fails at once with the reason, without grinding.
TEST(AudioJob, ADriveThatCannotReadAudioFailsFast) {
    TempDir dir;
    write_text(dir / "not-a-cd", std::string(1 << 20, '\0'));
    JobQueue queue(audio_options(dir));
    auto id = queue.submit(JobRequest{.drive = "sr9", .source = dir / "not-a-cd", .audio = true});
    queue.wait_idle();
    JobInfo job = *queue.job(id);
    ASSERT_EQ(job.state, JobState::failed);
    EXPECT_NE(job.result->reason.find("not-a-cd"), std::string::npos) << job.result->reason;
    EXPECT_TRUE(job.artifacts.empty());
}

}  // namespace
}  // namespace freemkv
