// The drive manager's decisions without a bus or udev: which drives it takes in, when an insert
// queues a rip, what a removal cancels, when a drive is busy and when the tray opens. The drives
// and the system calls are fakes; the queue is a real JobQueue that starts nothing
// (max_parallel = 0), so its jobs stay queued until a test cancels them. udev_test drives the
// same decisions through real udev and the bus.

#include "drive_manager.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "media_kind.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using test::TempDir;

Drive drive(const std::string& name, const std::string& label = "") {
    Drive d;
    d.name = name;
    d.device = "/dev/" + name;
    d.properties = {{"ID_CDROM", "1"}};
    if (!label.empty()) {
        d.media_present = true;
        d.media_label = label;
        d.properties.insert({{"ID_CDROM_MEDIA", "1"},
                             {"ID_CDROM_MEDIA_DVD", "1"},
                             {"ID_FS_TYPE", "udf"},
                             {"ID_FS_LABEL", label},
                             {"ID_FS_UUID", "uuid-" + label}});
    }
    return d;
}

QueueOptions idle_queue(const TempDir& dir) {
    QueueOptions q;
    q.library = dir / "library";
    q.state_dir = dir / "state";
    std::filesystem::create_directories(q.library);
    std::filesystem::create_directories(q.state_dir);
    q.max_parallel = 0;  // nothing starts: jobs stay queued
    return q;
}

// What the D-Bus side would hear, one line per call.
struct Heard : DriveListener {
    std::vector<std::string> lines;
    void on_added(const Drive& d) override { lines.push_back("added " + d.name); }
    void on_changed(const Drive& d) override { lines.push_back("changed " + d.name); }
    void on_removed(const std::string& name) override { lines.push_back("removed " + name); }
    void on_busy(const std::string& name, bool busy) override {
        lines.push_back("busy " + name + (busy ? " yes" : " no"));
    }
};

// The queue's events go to the manager, as JobPublisher passes them on in the daemon. Without
// workers (max_parallel = 0) they come on the test's thread.
struct ToManager : JobListener {
    DriveManager* manager = nullptr;
    void on_added(const JobInfo& job) override { manager->on_added(job); }
    void on_ended(const JobInfo& job) override { manager->on_ended(job); }
};

// A manager over a fake udev: `listed` is what enumeration returns, `ejected` what was ejected.
struct Rig {
    explicit Rig(DriveOptions options = {}, const std::vector<Drive>& listed_drives = {})
        : listed(listed_drives),
          queue(idle_queue(dir), &to_manager),
          manager(options, queue, heard,
                  DriveSystem{
                      .enumerate = [this] { return listed; },
                      .read = [this](const std::string& name) { return read(name); },
                      .eject = [this](const std::filesystem::path& d) { ejected.push_back(d); },
                  }) {
        to_manager.manager = &manager;
    }

    Drive read(const std::string& name) const {
        for (const Drive& d : listed) {
            if (d.name == name) {
                return d;
            }
        }
        throw std::system_error(ENODEV, std::generic_category(), name);
    }

    std::vector<JobInfo> jobs() const { return queue.jobs(); }

    TempDir dir;
    std::vector<Drive> listed;
    std::vector<std::filesystem::path> ejected;
    Heard heard;
    ToManager to_manager;
    JobQueue queue;
    DriveManager manager;
};

// A CD as udev's cdrom_id describes it: `audio` and `data` tracks; a blank one has none.
Drive cd(const std::string& name, int audio, int data, bool blank = false) {
    Drive d = drive(name);
    d.media_present = true;
    d.properties.insert({{"ID_CDROM_MEDIA", "1"}, {"ID_CDROM_MEDIA_CD_R", "1"}});
    if (blank) {
        d.properties.insert({{"ID_CDROM_MEDIA_STATE", "blank"}});
        return d;
    }
    d.properties.insert({{"ID_CDROM_MEDIA_STATE", "complete"},
                         {"ID_CDROM_MEDIA_SESSION_COUNT", "1"},
                         {"ID_CDROM_MEDIA_TRACK_COUNT", std::to_string(audio + data)}});
    if (audio > 0) {
        d.properties.insert({{"ID_CDROM_MEDIA_TRACK_COUNT_AUDIO", std::to_string(audio)}});
    }
    if (data > 0) {
        d.properties.insert({{"ID_CDROM_MEDIA_TRACK_COUNT_DATA", std::to_string(data)}});
    }
    return d;
}

TEST(DriveManager, AnInsertQueuesOneJobForTheDisc) {
    Rig rig;
    rig.manager.on_event(drive("sr0"), true);
    EXPECT_TRUE(rig.jobs().empty()) << "an empty drive";
    rig.manager.on_event(drive("sr0", "MOVIE"), true);

    auto jobs = rig.jobs();
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].state, JobState::queued);
    EXPECT_EQ(jobs[0].request.drive, "sr0");
    EXPECT_EQ(jobs[0].request.source, "/dev/sr0");
    EXPECT_EQ(jobs[0].request.media, media_key(drive("sr0", "MOVIE")));
    EXPECT_EQ(jobs[0].request.uid, 0u);
    EXPECT_EQ(jobs[0].request.udev_props.at("ID_FS_LABEL"), "MOVIE");
    EXPECT_TRUE(rig.manager.busy("sr0"));
    EXPECT_EQ(rig.heard.lines,
              (std::vector<std::string>{"added sr0", "changed sr0", "busy sr0 yes"}));
}

TEST(DriveManager, RepeatedChangeEventsQueueNoSecondJob) {
    Rig rig;
    rig.manager.on_event(drive("sr0", "MOVIE"), true);
    ASSERT_EQ(rig.jobs().size(), 1u);
    // Ended, so that the queue would take another job for the drive.
    ASSERT_TRUE(rig.queue.cancel(rig.jobs()[0].id));
    for (int i = 0; i < 3; ++i) {
        rig.manager.on_event(drive("sr0", "MOVIE"), true);
    }
    EXPECT_EQ(rig.jobs().size(), 1u) << "udev re-announced the same disc";

    rig.manager.on_event(drive("sr0", "OTHER"), true);
    EXPECT_EQ(rig.jobs().size(), 2u) << "a different disc is a new insert";
}

TEST(DriveManager, ARemovalCancelsTheDrivesQueuedJob) {
    Rig rig;
    rig.manager.on_event(drive("sr0", "MOVIE"), true);
    rig.manager.on_event(drive("sr1", "OTHER"), true);
    ASSERT_EQ(rig.jobs().size(), 2u);

    rig.manager.on_event(drive("sr0"), true);
    auto jobs = rig.jobs();
    EXPECT_EQ(jobs[0].state, JobState::cancelled);
    EXPECT_EQ(jobs[1].state, JobState::queued) << "another drive's job stays";
    EXPECT_FALSE(rig.manager.busy("sr0"));
    EXPECT_TRUE(rig.manager.busy("sr1"));

    // A drive that goes away with its disc: the same.
    rig.manager.on_event(drive("sr1", "OTHER"), false);
    EXPECT_EQ(rig.jobs()[1].state, JobState::cancelled);
    EXPECT_EQ(rig.manager.drives().count("sr1"), 0u);
    EXPECT_EQ(rig.heard.lines.back(), "removed sr1");
}

TEST(DriveManager, IgnoresUnwantedAndUnmanagedDevices) {
    Rig rig({.ignore = {"/dev/sr1"}});
    rig.manager.on_event(drive("sr1", "MOVIE"), true);
    rig.manager.on_event(drive("sr2", "MOVIE"), false);
    EXPECT_TRUE(rig.jobs().empty());
    EXPECT_TRUE(rig.manager.drives().empty());
    EXPECT_TRUE(rig.heard.lines.empty());

    Rig watching({.watch = {"/dev/sr0"}});
    watching.manager.on_event(drive("sr1", "MOVIE"), true);
    watching.manager.on_event(drive("sr0", "MOVIE"), true);
    ASSERT_EQ(watching.jobs().size(), 1u);
    EXPECT_EQ(watching.jobs()[0].request.drive, "sr0");
}

TEST(DriveManager, NoJobWithoutAutoRip) {
    Rig rig({.auto_rip = false});
    rig.manager.on_event(drive("sr0", "MOVIE"), true);
    EXPECT_TRUE(rig.jobs().empty());
    EXPECT_EQ(rig.manager.drives().count("sr0"), 1u) << "the drive is still managed";
    EXPECT_FALSE(rig.manager.busy("sr0"));
}

TEST(DriveManager, EjectsAfterADoneJobWhenAsked) {
    Rig rig;
    rig.manager.on_event(drive("sr0", "MOVIE"), true);
    JobInfo job = rig.jobs().at(0);
    job.state = JobState::failed;
    rig.manager.on_ended(job);
    EXPECT_TRUE(rig.ejected.empty()) << "not after a failed rip";
    EXPECT_FALSE(rig.manager.busy("sr0"));

    job.state = JobState::done;
    rig.manager.on_ended(job);
    EXPECT_EQ(rig.ejected, (std::vector<std::filesystem::path>{"/dev/sr0"}));

    JobInfo image;
    image.state = JobState::done;
    image.request.source = "/srv/disc.iso";
    rig.manager.on_ended(image);
    EXPECT_EQ(rig.ejected.size(), 1u) << "an image has no tray";

    Rig keep({.eject_when_done = false});
    keep.manager.on_event(drive("sr0", "MOVIE"), true);
    JobInfo kept = keep.jobs().at(0);
    kept.state = JobState::done;
    keep.manager.on_ended(kept);
    EXPECT_TRUE(keep.ejected.empty());
}

// A DVD-Video job lets its drive go when the disc is read (the titles are extracted from the
// image afterwards): the tray opens then and the drive is free, not at the end of the job.
TEST(DriveManager, EjectsAndFreesTheDriveWhenTheAcquireStageEnds) {
    Rig rig;
    rig.manager.on_event(drive("sr0", "MOVIE"), true);
    EXPECT_TRUE(rig.manager.busy("sr0"));
    JobInfo job = rig.jobs().at(0);
    job.state = JobState::running;
    job.released = true;
    rig.manager.on_acquired(job);
    EXPECT_EQ(rig.ejected, (std::vector<std::filesystem::path>{"/dev/sr0"}));
    EXPECT_FALSE(rig.manager.busy("sr0"));

    // A new disc's job takes the drive; the first job's end neither frees nor ejects it.
    rig.manager.on_added(JobInfo{.id = 99, .request = {.drive = "sr0", .source = "/dev/sr0"}});
    EXPECT_TRUE(rig.manager.busy("sr0"));
    job.state = JobState::done;
    rig.manager.on_ended(job);
    EXPECT_EQ(rig.ejected.size(), 1u);
    EXPECT_TRUE(rig.manager.busy("sr0"));
}

TEST(DriveManager, DiscsPresentAtStartAreQueuedOnceAcrossRestarts) {
    TempDir state;
    QueueOptions options = idle_queue(state);
    std::vector<Drive> listed = {drive("sr0", "MOVIE"), drive("sr1")};
    for (int start = 0; start < 2; ++start) {
        Heard heard;
        ToManager to_manager;
        JobQueue queue(options, &to_manager);
        DriveManager manager({}, queue, heard, {.enumerate = [&] { return listed; }});
        to_manager.manager = &manager;
        manager.enumerate();
        EXPECT_EQ(heard.lines, (std::vector<std::string>{"added sr0", "added sr1"}));
        manager.queue_present_discs();
        ASSERT_EQ(queue.jobs().size(), 1u) << "start " << start << ": the journal has it";
        // Ended, so that the queue would take another job for the drive after the restart.
        queue.cancel(queue.jobs()[0].id);
    }
}

TEST(DriveManager, RefreshReadsTheDriveAgainAndReloadAppliesTheGlobs) {
    Rig rig({}, {drive("sr0"), drive("sr1")});
    rig.manager.enumerate();
    ASSERT_EQ(rig.manager.drives().size(), 2u);
    ASSERT_NE(rig.manager.find("/dev/sr1"), nullptr);
    EXPECT_EQ(rig.manager.find("sr1")->name, "sr1");
    EXPECT_EQ(rig.manager.find("sr9"), nullptr);

    rig.listed[0] = drive("sr0", "MOVIE");
    EXPECT_TRUE(rig.manager.refresh("sr0").media_present);
    EXPECT_TRUE(rig.manager.drives().at("sr0").media_present);
    EXPECT_TRUE(rig.jobs().empty()) << "a refresh is not an insert";

    rig.manager.reload({.ignore = {"/dev/sr1"}});
    EXPECT_EQ(rig.manager.drives().count("sr1"), 0u);
    EXPECT_EQ(rig.jobs().size(), 1u) << "reload announces sr0 again, now with its disc";

    rig.listed.pop_back();
    rig.listed.pop_back();
    rig.manager.reload({});
    EXPECT_TRUE(rig.manager.drives().empty()) << "no longer listed: gone";
    EXPECT_EQ(rig.jobs().at(0).state, JobState::cancelled);
}

// An audio CD (also an enhanced CD: audio tracks, then a data session) gets a job that rips its
// tracks (request.audio: the audio stage, not the sector sweep); a CD with only data tracks does
// not.
TEST(DriveManager, AnAudioCdGetsAnAudioJob) {
    Rig rig;
    rig.manager.on_event(cd("sr0", 12, 0), true);
    auto jobs = rig.jobs();
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].state, JobState::queued);
    EXPECT_TRUE(jobs[0].request.audio);
    EXPECT_TRUE(jobs[0].request.refused.empty());
    for (int i = 0; i < 3; ++i) {
        rig.manager.on_event(cd("sr0", 12, 0), true);
    }
    EXPECT_EQ(rig.jobs().size(), 1u) << "udev re-announced the same disc";

    Drive enhanced = cd("sr1", 10, 1);
    enhanced.properties["ID_CDROM_MEDIA_SESSION_COUNT"] = "2";
    rig.manager.on_event(enhanced, true);
    ASSERT_EQ(rig.jobs().size(), 2u);
    EXPECT_TRUE(rig.jobs()[1].request.audio) << "an enhanced CD rips its audio";

    rig.manager.on_event(cd("sr2", 0, 1), true);
    ASSERT_EQ(rig.jobs().size(), 3u);
    EXPECT_FALSE(rig.jobs()[2].request.audio) << "a data CD becomes an image";
}

TEST(DriveManager, ABlankDiscIsIgnored) {
    Rig rig;
    rig.manager.on_event(cd("sr0", 0, 0, true), true);
    rig.manager.on_event(cd("sr0", 0, 0, true), true);
    EXPECT_TRUE(rig.jobs().empty());
    EXPECT_FALSE(rig.manager.busy("sr0"));
    EXPECT_EQ(rig.manager.drives().count("sr0"), 1u);

    // Burnt and put back: a data disc now.
    rig.manager.on_event(drive("sr0", "BURNT"), true);
    EXPECT_EQ(rig.jobs().size(), 1u);
}

TEST(DriveManager, MediaKindFromUdev) {
    EXPECT_EQ(media_kind(cd("sr0", 12, 0).properties), MediaKind::audio_cd);
    // Mixed mode (data and audio in one session) is imaged; enhanced (a second session) is audio.
    EXPECT_EQ(media_kind(cd("sr0", 10, 1).properties), MediaKind::data);
    auto enhanced = cd("sr0", 10, 1).properties;
    enhanced["ID_CDROM_MEDIA_SESSION_COUNT"] = "2";
    EXPECT_EQ(media_kind(enhanced), MediaKind::audio_cd);
    EXPECT_EQ(media_kind(cd("sr0", 0, 1).properties), MediaKind::data);
    EXPECT_EQ(media_kind(cd("sr0", 0, 0, true).properties), MediaKind::blank);
    EXPECT_EQ(media_kind(drive("sr0", "MOVIE").properties), MediaKind::data);
    auto blank_dvd = drive("sr0").properties;
    blank_dvd.insert({{"ID_CDROM_MEDIA", "1"},
                      {"ID_CDROM_MEDIA_DVD_PLUS_R", "1"},
                      {"ID_CDROM_MEDIA_STATE", "blank"}});
    EXPECT_EQ(media_kind(blank_dvd), MediaKind::blank);
    // Audio tracks on something that is not a CD are not an audio CD.
    auto dvd = drive("sr0", "MOVIE").properties;
    dvd.insert({{"ID_CDROM_MEDIA_TRACK_COUNT_AUDIO", "2"}});
    EXPECT_EQ(media_kind(dvd), MediaKind::data);
}

}  // namespace
}  // namespace freemkv
