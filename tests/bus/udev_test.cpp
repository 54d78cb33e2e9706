// Insert a disc, get it in the library: freemkvd against real udev. systemd-udevd runs (started
// here if it is not), with the shipped rules (systemd/70-freemkvd.rules) and a test rule that
// makes loop devices over files named freemkvd-drive-* look like DVD drives, with a medium in
// them while udev finds an ISO 9660 or UDF filesystem, and those over freemkvd-audiocd-* like CD
// drives holding an audio CD of four tracks (which libcdio cannot read from them). Attaching a loop
// device is inserting a disc; its capacity dropping to zero (losetup -c over an "ejected" faultfs
// file) is opening the tray, as on a real drive. Everything changed here is undone at the end, also
// on failure.

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "mapfile.hpp"
#include "support/bus_fixture.hpp"
#include "support/dvd_images.hpp"
#include "support/process.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using namespace test;

constexpr const char* kDrive = "org.freemkv.Rip1.Drive";
const fs::path kRulesDir = "/run/udev/rules.d";

constexpr const char* kTestRule =
    R"(# freemkvd's udev_test: loop devices over freemkvd-drive-* files are DVD drives, those over
# freemkvd-audiocd-* files CD drives with an audio CD in them.
SUBSYSTEM=="block", KERNEL=="loop*", ACTION!="remove", ATTR{loop/backing_file}=="*/freemkvd-drive-*", ENV{ID_CDROM}="1", ENV{ID_CDROM_DVD}="1"
SUBSYSTEM=="block", KERNEL=="loop*", ENV{ID_CDROM}=="1", ENV{ID_FS_TYPE}=="iso9660|udf", ENV{ID_CDROM_MEDIA}="1", ENV{ID_CDROM_MEDIA_DVD}="1"
SUBSYSTEM=="block", KERNEL=="loop*", ACTION!="remove", ATTR{loop/backing_file}=="*/freemkvd-audiocd-*", ENV{ID_CDROM}="1", ENV{ID_CDROM_CD}="1", ENV{ID_CDROM_MEDIA}="1", ENV{ID_CDROM_MEDIA_CD}="1", ENV{ID_CDROM_MEDIA_TRACK_COUNT_AUDIO}="4", ENV{ID_CDROM_MEDIA_TRACK_COUNT}="4"
)";

// A file that replaces whatever was at `path` (or nothing, and no directory) until destruction.
class ReplacedFile {
  public:
    ReplacedFile(fs::path path, const std::string& text) : path_(std::move(path)) {
        made_directory_ = fs::create_directories(path_.parent_path());
        if (fs::exists(path_)) {
            before_ = slurp(path_);
        }
        std::ofstream(path_) << text;
    }
    ~ReplacedFile() {
        std::error_code ec;
        if (before_) {
            std::ofstream(path_) << *before_;
        } else {
            fs::remove(path_, ec);
        }
        if (made_directory_) {
            fs::remove(path_.parent_path(), ec);  // only if empty
        }
    }
    ReplacedFile(const ReplacedFile&) = delete;
    ReplacedFile& operator=(const ReplacedFile&) = delete;

  private:
    fs::path path_;
    std::optional<std::string> before_;
    bool made_directory_ = false;
};

bool udevd_running() {
    return sh("udevadm control --ping").ok();
}

// systemd-udevd, started if it is not running and then stopped at destruction.
class UdevDaemon {
  public:
    UdevDaemon() {
        if (udevd_running()) {
            return;
        }
        run("/lib/systemd/systemd-udevd --daemon");
        started_ = true;
        if (!wait_until(udevd_running, 10s)) {
            throw std::runtime_error("systemd-udevd did not start");
        }
    }
    ~UdevDaemon() {
        if (started_) {
            sh("udevadm control --exit");
            if (!wait_until([] { return !udevd_running(); }, 10s)) {
                ADD_FAILURE() << "systemd-udevd did not exit";
            }
        }
    }
    UdevDaemon(const UdevDaemon&) = delete;
    UdevDaemon& operator=(const UdevDaemon&) = delete;

  private:
    bool started_ = false;
};

// udevd with the shipped rules and the test rule. Members undo themselves in reverse order, also
// when a later one fails: the rules go, udevd reads its rules again, then stops if started here.
class Udev {
  public:
    Udev()
        : test_rule_(kRulesDir / "61-freemkvd-test-loop.rules", kTestRule),
          shipped_rule_(kRulesDir / "70-freemkvd.rules", slurp(FREEMKV_UDEV_RULES)) {
        run("udevadm control --reload");
    }

  private:
    struct ReloadAtEnd {
        ~ReloadAtEnd() {
            sh("udevadm control --reload");
            sh("udevadm settle --timeout=10");
        }
    };
    UdevDaemon daemon_;
    ReloadAtEnd reload_;
    ReplacedFile test_rule_;
    ReplacedFile shipped_rule_;
};

// One Udev for the whole program: set up before the first test, undone after the last.
class UdevEnvironment : public ::testing::Environment {
  public:
    void SetUp() override {
        if (::geteuid() != 0 || !fs::exists("/lib/systemd/systemd-udevd")) {
            return;  // each test says why it cannot run
        }
        try {
            udev_ = std::make_unique<Udev>();
        } catch (const std::exception& e) {
            error_ = e.what();
        }
    }
    void TearDown() override { udev_.reset(); }
    const std::string& error() const { return error_; }

  private:
    std::unique_ptr<Udev> udev_;
    std::string error_;
};

auto* const udev_environment =
    static_cast<UdevEnvironment*>(::testing::AddGlobalTestEnvironment(new UdevEnvironment));

// Fails the test (skips outside CI) without root: loop devices, udev rules and FUSE need it.
#define REQUIRE_ROOT_AND_UDEV()                                                   \
    do {                                                                          \
        FREEMKV_REQUIRE_ROOT();                                                   \
        if (!fs::exists("/lib/systemd/systemd-udevd")) {                          \
            if (in_ci()) {                                                        \
                FAIL() << "systemd-udevd is missing (package udev)";              \
            }                                                                     \
            GTEST_SKIP() << "SKIPPED LOUDLY: needs systemd-udevd (package udev)"; \
        }                                                                         \
    } while (0)

std::string name_of(const std::string& device) {
    return fs::path(device).filename().string();
}

std::string drive_path(const std::string& device) {
    return std::string(kRoot) + "/drive/" + name_of(device);
}

bool listed(const Service& service, const std::string& device) {
    return contains(service.busctl_call(kRoot, kManager, "ListDrives").output, drive_path(device));
}

// The size stat() reports (FUSE refreshes it from faultfs once its attribute cache expires).
std::uint64_t stat_size(const fs::path& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : ~0ull;
}

// A disc image named so that the test rule takes its loop device for a drive.
fs::path drive_image(const TempDir& dir, const std::string& label, std::size_t payload,
                     std::uint64_t seed) {
    fs::path iso = make_iso(dir, label, payload, seed);
    fs::path named = dir / ("freemkvd-drive-" + label + ".iso");
    fs::rename(iso, named);
    return named;
}

// Returns once the daemon has handled every udev event sent so far: udevadm settle, then two bus
// round-trips (a source that was ready during the first is served before the second).
void sync_with_udev(const Service& service) {
    run("udevadm settle --timeout=30");
    for (int i = 0; i < 2; ++i) {
        Shell r = service.busctl_call(kRoot, kManager, "ListJobs");
        ASSERT_TRUE(r.ok()) << r.output;
    }
}

TEST(Udev, InsertedDiscIsRippedOnceIntoTheLibrary) {
    REQUIRE_ROOT_AND_UDEV();
    TempDir dir;
    fs::path image = drive_image(dir, "UDEVDISC", 24 * MiB, 501);
    Service service(dir);
    ManagerWatcher watcher(service.address(), true);

    LoopDevice loop(image);
    ASSERT_TRUE(wait_until([&] { return watcher.ended_count() == 1; }, 60s))
        << "no job ended; added " << watcher.added() << "\n"
        << service.daemon().output();
    EXPECT_EQ(watcher.added(), 1u);
    auto ended = watcher.ended().front();
    ASSERT_EQ(ended.result, "ok") << service.get(ended.job, kJob, "ResultReason");
    EXPECT_EQ(ended.read_result, "ok");
    EXPECT_EQ(service.get(ended.job, kJob, "Drive"), name_of(loop.device()));
    EXPECT_EQ(service.get(ended.job, kJob, "Source"), loop.device());
    EXPECT_EQ(fs::path(ended.output).parent_path(), service.library());
    EXPECT_TRUE(read_file(ended.output) == read_file(image)) << "the library file differs";
    // drives.eject_when_done (the default): the tray opens (a loop device has none to open).
    EXPECT_TRUE(wait_until(
        [&] { return contains(service.daemon().err(), name_of(loop.device()) + ": ejected"); },
        5s));

    // The drive object, with the medium udev sees.
    ASSERT_TRUE(listed(service, loop.device()));
    EXPECT_EQ(service.get(drive_path(loop.device()), kDrive, "MediaPresent"), "true");
    EXPECT_EQ(service.get(drive_path(loop.device()), kDrive, "MediaLabel"), "UDEVDISC");
    EXPECT_EQ(service.get(drive_path(loop.device()), kDrive, "Device"), loop.device());

    // udev says "change" again and again for the same disc: still one job.
    for (int i = 0; i < 3; ++i) {
        run("udevadm trigger --action=change --settle " + loop.device());
    }
    // The sync point: --settle returns once udev has sent the events, so they wait in the
    // daemon's monitor socket; the loop serves a ready source before a newer one, so after two
    // bus round-trips it has handled them.
    sync_with_udev(service);
    EXPECT_EQ(service.busctl_call(kRoot, kManager, "ListJobs").output,
              "ao 1 \"" + job_path(1) + "\"\n");
    EXPECT_EQ(watcher.added(), 1u);

    // Detached: the drive is gone from the API.
    loop.detach();
    EXPECT_TRUE(wait_until([&] { return !listed(service, loop.device()); }, 10s));
}

TEST(Udev, TrayOpenedMidRipEndsResumableAndTheDiscGoingBackInFinishesIt) {
    REQUIRE_ROOT_AND_UDEV();
    TempDir dir;
    const std::size_t size_mib = 64;
    fs::path image = make_iso(dir, "PULLED", size_mib * MiB, 502);
    const std::uint64_t size = fs::file_size(image);
    fs::path ejected = dir / "ejected";
    fs::path log = dir / "faultfs.log";
    // 16 MB/s: about 4 s for the disc.
    FaultFs drive(image,
                  "--read-only --read-bps 16000000 --eject-file " + ejected.string() + " --log " +
                      log.string(),
                  "freemkvd-drive-pulled");
    Service service(dir);
    ManagerWatcher watcher(service.address(), true);
    LoopDevice loop(drive.disk());

    ASSERT_TRUE(wait_until([&] { return watcher.added() == 1; }, 20s)) << service.daemon().output();
    ASSERT_TRUE(wait_until(
        [&] { return std::stoull(service.get(job_path(1), kJob, "BytesDone")) > size / 4; }, 30s));
    // The tray opens: the medium's size drops to zero and udev reports the change.
    std::ofstream(ejected).put('\n');
    ASSERT_TRUE(wait_until([&] { return stat_size(drive.disk()) == 0; }, 5s));
    run("losetup -c " + loop.device());

    ASSERT_TRUE(wait_until([&] { return watcher.ended_count() == 1; }, 30s))
        << service.daemon().output();
    auto first = watcher.ended().front();
    EXPECT_EQ(first.result, "failed");
    EXPECT_TRUE(contains(service.get(first.job, kJob, "ResultReason"), "removed"))
        << service.get(first.job, kJob, "ResultReason");
    EXPECT_EQ(service.get(first.job, kJob, "Resumable"), "true");
    EXPECT_TRUE(wait_until(
        [&] { return service.get(drive_path(loop.device()), kDrive, "MediaPresent") == "false"; },
        10s));
    // What the library holds so far: the unfinished file, named as such; nothing published.
    EXPECT_EQ(first.output, "");
    std::string partial = service.get(first.job, kJob, "PartialPath");
    ASSERT_TRUE(partial.ends_with(".part")) << partial;
    EXPECT_TRUE(fs::exists(partial));
    std::string final_path = partial.substr(0, partial.size() - 5);
    std::uint64_t rescued = Mapfile::load(service.get(first.job, kJob, "MapfilePath"))
                                .bytes_with(BlockStatus::finished);
    EXPECT_GE(rescued, size / 4) << "the tray opened after a quarter of the disc";
    EXPECT_EQ(watcher.added(), 1u) << "no job for an empty drive";

    // The disc goes back in: a new job continues the .part and reads only what is missing.
    std::uint64_t served_before = faultfs_bytes_read(log);
    fs::remove(ejected);
    ASSERT_TRUE(wait_until([&] { return stat_size(drive.disk()) == size; }, 5s));
    run("losetup -c " + loop.device());
    ASSERT_TRUE(wait_until([&] { return watcher.ended_count() == 2; }, 60s))
        << service.daemon().output();
    auto second = watcher.ended().back();
    ASSERT_EQ(second.result, "ok") << service.get(second.job, kJob, "ResultReason");
    EXPECT_EQ(second.output, final_path) << "the resumed rip keeps its file";
    EXPECT_TRUE(read_file(second.output) == read_file(image)) << "the library file differs";
    // The rest of the disc, and a little for udev's and the daemon's probes of the medium.
    std::uint64_t served_after = faultfs_bytes_read(log) - served_before;
    EXPECT_LE(served_after, size - rescued + 4 * MiB) << "the second job read the disc again";
}

TEST(Udev, DiscInTheDriveAtStartIsRippedOnceAcrossRestarts) {
    REQUIRE_ROOT_AND_UDEV();
    TempDir dir;
    fs::path image = drive_image(dir, "ATSTART", 8 * MiB, 503);
    LoopDevice loop(image);
    run("udevadm settle --timeout=10");
    std::string output;
    {
        Service service(dir);
        ASSERT_TRUE(
            wait_until([&] { return service.get(job_path(1), kJob, "Result") == "ok"; }, 30s))
            << service.daemon().output();
        output = service.get(job_path(1), kJob, "OutputPath");
    }
    EXPECT_TRUE(read_file(output) == read_file(image));
    // The same disc is still in the drive after a restart: no second rip.
    Service again(dir);
    sync_with_udev(again);
    EXPECT_EQ(again.busctl_call(kRoot, kManager, "ListJobs").output,
              "ao 1 \"" + job_path(1) + "\"\n");
    EXPECT_EQ(again.get(kRoot, kManager, "QueueLength"), "0");
}

// With one drive ripping at a time, a second disc waits in the queue; taking it out (here the
// drive itself goes: its loop device is detached) cancels its job before it ever starts.
TEST(Udev, AQueuedDiscThatIsTakenOutIsNotRipped) {
    REQUIRE_ROOT_AND_UDEV();
    TempDir dir;
    fs::path slow_image = make_iso(dir, "FIRST", 32 * MiB, 506);
    FaultFs slow(slow_image, "--read-only --read-bps 16000000", "freemkvd-drive-slow");
    fs::path second_image = drive_image(dir, "SECOND", 4 * MiB, 507);
    Service service(dir, {.config = "[queue]\nmax_parallel = 1\n"});
    ManagerWatcher watcher(service.address(), false);
    LoopDevice first(slow.disk());
    ASSERT_TRUE(wait_until([&] { return watcher.added() == 1; }, 20s));
    ASSERT_TRUE(
        wait_until([&] { return service.get(job_path(1), kJob, "State") == "running"; }, 20s));
    LoopDevice second(second_image);
    ASSERT_TRUE(wait_until([&] { return watcher.added() == 2; }, 20s));
    EXPECT_EQ(service.get(job_path(2), kJob, "State"), "queued");

    second.detach();
    ASSERT_TRUE(wait_until([&] { return watcher.ended_count() >= 1; }, 10s));
    auto ended = watcher.ended().front();
    EXPECT_EQ(ended.job, job_path(2));
    EXPECT_EQ(ended.result, "cancelled");
    EXPECT_EQ(service.get(job_path(1), kJob, "State"), "running") << "the first rip goes on";
    ASSERT_TRUE(wait_until([&] { return watcher.ended_count() == 2; }, 30s));
    EXPECT_EQ(watcher.ended().back().result, "ok");
}

// The signal blocks dbus-monitor printed, in the order the bus delivered them: each starts with
// its "signal time=..." line and holds the arguments' lines below it.
std::vector<std::string> signal_blocks(const std::string& log) {
    std::vector<std::string> blocks;
    for (const std::string& line : lines_of(log)) {
        if (line.starts_with("signal ")) {
            blocks.push_back(line + "\n");
        } else if (!blocks.empty()) {
            blocks.back() += line + "\n";
        }
    }
    return blocks;
}

// Issue 11's "done when": the generated DVD-Video, inserted through udev, ends as its main
// feature's MKV in the library, as the IFO describes it, and the drive is let go before the
// extraction.
TEST(Udev, AnInsertedDvdVideoEndsAsItsMainFeatureMkvAndTheDriveIsFreedFirst) {
    REQUIRE_ROOT_AND_UDEV();
    REQUIRE_DVD_VIDEO_IMAGE();
    TempDir dir;
    fs::path image = dir / "freemkvd-drive-dvd.iso";
    fs::copy_file(test::dvd_video_image(), image);
    Service service(dir);
    DbusMonitor monitor(service, dir, "monitor");
    ManagerWatcher watcher(service.address(), true);

    LoopDevice loop(image);
    ASSERT_TRUE(wait_until([&] { return watcher.ended_count() == 1; }, 120s))
        << "no job ended; added " << watcher.added() << "\n"
        << service.daemon().output();
    auto ended = watcher.ended().front();
    ASSERT_EQ(ended.result, "ok") << service.get(ended.job, kJob, "ResultReason");
    EXPECT_EQ(service.get(ended.job, kJob, "State"), "done");
    // The folder is the image's name (the disc label FREEMKV_TEST_DVD) made readable.
    const std::string name = "Freemkv Test Dvd";
    fs::path mkv = service.library() / name / (name + ".mkv");
    fs::path iso = service.library() / "FREEMKV_TEST_DVD.iso";
    EXPECT_EQ(ended.output, mkv.string());
    EXPECT_EQ(ended.read_output, mkv.string());
    ASSERT_TRUE(fs::exists(mkv));
    EXPECT_FALSE(fs::exists(iso)) << "the image goes once the title is published";
    EXPECT_FALSE(fs::exists(service.library() / (name + ".part")));

    // Artifacts a(ssssttid): kind, path, state, error, bytes total, bytes done, title, seconds
    // lost.
    std::string artifacts = service.get(ended.job, kJob, "Artifacts");
    std::string mkv_bytes = std::to_string(fs::file_size(mkv));
    EXPECT_TRUE(artifacts.starts_with("2 \"image\" \"" + iso.string() + "\" \"deleted\" \"\" "))
        << artifacts;
    EXPECT_TRUE(artifacts.ends_with("\"title\" \"" + mkv.string() + "\" \"published\" \"\" " +
                                    mkv_bytes + " " + mkv_bytes + " 1 0"))
        << artifacts;

    // The MKV is what the IFO describes: MPEG-2 video, AC-3 in English and French, an English
    // DVD subtitle, 3 chapters, 60 s.
    Shell probe =
        sh("{ ffprobe -v warning -print_format json -show_streams -show_chapters "
           "-show_format " +
           quote(mkv.string()) + " 2>" + quote((dir / "ffprobe.err").string()) + "; }");
    ASSERT_TRUE(probe.ok()) << probe.output;
    EXPECT_EQ(slurp(dir / "ffprobe.err"), "");
    auto json = nlohmann::json::parse(probe.output);
    std::vector<std::string> streams;
    for (const auto& s : json["streams"]) {
        std::string language = s.contains("tags") && s["tags"].contains("language")
                                   ? s["tags"]["language"].get<std::string>()
                                   : "";
        streams.push_back(s["codec_name"].get<std::string>() + ":" + language);
    }
    EXPECT_EQ(streams,
              (std::vector<std::string>{"mpeg2video:", "ac3:eng", "ac3:fre", "dvd_subtitle:eng"}))
        << probe.output;
    EXPECT_EQ(json["chapters"].size(), 3u);
    EXPECT_NEAR(std::stod(json["format"]["duration"].get<std::string>()), 60.0, 0.2);
    // A clean decode prints nothing.
    Shell decode = sh("ffmpeg -nostdin -v error -i " + quote(mkv.string()) + " -f null - 2>&1");
    EXPECT_TRUE(decode.ok());
    EXPECT_EQ(decode.output, "");

    // The drive is let go when reading ends, before the extraction: the Drive's State goes
    // "ripping" -> "idle" in a PropertiesChanged that the bus delivers before JobEnded, which goes
    // out only once the title is published (the job's OutputPath is the MKV). Both signals come
    // from the daemon's one connection and its one event loop, so the bus keeps their order and
    // no timing is involved: a drive held until the job ended would go idle only after JobEnded
    // (JobPublisher::on_ended emits it, then DriveManager::on_ended frees the drive), while a
    // released one goes idle in on_acquired, which the queue calls before it starts extracting.
    // The eject (eject_when_done) happens at that same point.
    ASSERT_TRUE(wait_until([&] { return contains(monitor.log(), "member=JobEnded"); }, 10s));
    monitor.stop();
    auto blocks = signal_blocks(monitor.log());
    std::string drive = drive_path(loop.device());
    auto is_drive_state = [&](const std::string& b, const std::string& state) {
        return contains(b, "path=" + drive + ";") && contains(b, "member=PropertiesChanged") &&
               contains(b, "\"State\"") && contains(b, "\"" + state + "\"");
    };
    auto at = [&](std::size_t from, auto pred) {
        auto it =
            std::find_if(blocks.begin() + static_cast<std::ptrdiff_t>(from), blocks.end(), pred);
        return static_cast<std::size_t>(it - blocks.begin());
    };
    std::size_t ripping = at(0, [&](const std::string& b) { return is_drive_state(b, "ripping"); });
    std::size_t idle = at(ripping, [&](const std::string& b) { return is_drive_state(b, "idle"); });
    std::size_t job_ended =
        at(0, [&](const std::string& b) { return contains(b, "member=JobEnded"); });
    ASSERT_LT(ripping, blocks.size()) << monitor.log();
    ASSERT_LT(idle, blocks.size()) << monitor.log();
    ASSERT_LT(job_ended, blocks.size()) << monitor.log();
    EXPECT_LT(idle, job_ended) << "the drive went idle only after the job ended\n" << monitor.log();
    EXPECT_TRUE(contains(service.daemon().err(), name_of(loop.device()) + ": ejected"));
}

// Issue 4's drive methods, on a drive udev announced: StartRip by drive name and device path,
// Eject (a loop device has no tray: it succeeds and nothing moves), and their errors.
TEST(Udev, DriveMethodsThroughBusctlGdbusAndFreemkvctl) {
    REQUIRE_ROOT_AND_UDEV();
    TempDir dir;
    fs::path image = drive_image(dir, "MANUAL", 8 * MiB, 504);
    fs::path empty_file = dir / "freemkvd-drive-empty.img";
    write_file(empty_file, random_bytes(4 * MiB, 505));  // no filesystem: a drive without a disc
    Service service(dir, {.config = "[drives]\nauto_rip = false\neject_when_done = false\n"});
    LoopDevice loop(image);
    LoopDevice empty(empty_file);
    ASSERT_TRUE(wait_until([&] { return listed(service, loop.device()); }, 10s));
    ASSERT_TRUE(wait_until([&] { return listed(service, empty.device()); }, 10s));
    EXPECT_EQ(service.get(kRoot, kManager, "QueueLength"), "0") << "auto_rip is off";
    EXPECT_EQ(service.get(drive_path(empty.device()), kDrive, "MediaPresent"), "false");

    // By name through busctl, then by device path through gdbus.
    std::string job = Service::job_of(service.start_rip_busctl(name_of(loop.device())));
    ASSERT_EQ(service.wait_for_result(job), "ok") << service.get(job, kJob, "ResultReason");
    EXPECT_EQ(service.get(job, kJob, "Drive"), name_of(loop.device()));
    EXPECT_TRUE(read_file(service.get(job, kJob, "OutputPath")) == read_file(image));
    EXPECT_FALSE(contains(service.daemon().err(), "ejected")) << "eject_when_done is off";
    job = Service::job_of(service.start_rip_gdbus(loop.device()));
    ASSERT_EQ(service.wait_for_result(job), "ok");

    // No disc: NoMedia, through both tools.
    EXPECT_EQ(gdbus_error(service.start_rip_gdbus(name_of(empty.device()))),
              "org.freemkv.Rip1.Error.NoMedia");
    EXPECT_TRUE(contains(service.start_rip_busctl(empty.device()).output, "has no disc"));

    // Eject through busctl, gdbus and freemkvctl.
    EXPECT_TRUE(service.busctl_call(drive_path(loop.device()), kDrive, "Eject").ok());
    EXPECT_TRUE(service.gdbus_call(drive_path(loop.device()), std::string(kDrive) + ".Eject").ok());
    Shell ctl = sh(service.shell_env() + " " FREEMKV_CTL " --user eject " + name_of(loop.device()));
    EXPECT_EQ(ctl.status, 0) << ctl.output;
    ctl = sh(service.shell_env() + " " FREEMKV_CTL " --user eject nosuchdrive");
    EXPECT_NE(ctl.status, 0);
    EXPECT_TRUE(contains(ctl.output, "nosuchdrive")) << ctl.output;

    // freemkvctl rip by drive name, waiting for the result.
    ctl = sh(service.shell_env() + " " FREEMKV_CTL " --user rip " + name_of(loop.device()) +
             " --wait");
    EXPECT_EQ(ctl.status, 0) << ctl.output;
    EXPECT_TRUE(contains(sh(service.shell_env() + " " FREEMKV_CTL " --user status").output,
                         name_of(loop.device())));
}

// A loop device that udev describes as a CD drive holding an audio CD is queued as an audio job,
// but libcdio cannot read a table of contents from it: the job fails at once, saying so, instead
// of grinding, and leaves nothing in the library.
TEST(Udev, AnAudioCdThatCannotBeReadFailsFastAndIsNotRippedAgain) {
    REQUIRE_ROOT_AND_UDEV();
    TempDir dir;
    fs::path file = dir / "freemkvd-audiocd-unreadable.img";
    write_file(file, std::vector<std::byte>(4 * MiB));  // no filesystem: only the rule's CD medium
    Service service(dir);
    ManagerWatcher watcher(service.address(), true);

    auto inserted = std::chrono::steady_clock::now();
    LoopDevice loop(file);
    ASSERT_TRUE(wait_until([&] { return watcher.ended_count() == 1; }, 60s))
        << "no job ended; added " << watcher.added() << "\n"
        << service.daemon().output();
    std::printf("the unreadable audio CD's job ended %.2f s after the loop device was attached\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - inserted).count());
    EXPECT_EQ(watcher.added(), 1u);
    auto ended = watcher.ended().front();
    EXPECT_EQ(ended.result, "failed");
    EXPECT_EQ(ended.read_result, "failed");
    EXPECT_EQ(ended.output, "");
    EXPECT_EQ(service.get(ended.job, kJob, "Drive"), name_of(loop.device()));
    std::string reason = service.get(ended.job, kJob, "ResultReason");
    EXPECT_TRUE(contains(reason, loop.device())) << reason;
    EXPECT_TRUE(contains(reason, "cannot read an audio CD")) << reason;
    EXPECT_TRUE(contains(reason, "not a CD drive")) << reason;
    EXPECT_EQ(service.get(ended.job, kJob, "Resumable"), "false");

    // Nothing went to the library: no image of the "disc", no unfinished file or folder.
    std::error_code ec;
    for (fs::recursive_directory_iterator it(service.library(), ec), end; !ec && it != end;
         it.increment(ec)) {
        std::string name = it->path().filename().string();
        EXPECT_FALSE(contains(name, ".iso") || contains(name, ".part")) << it->path();
    }

    // The drive is free again, with the medium udev describes.
    ASSERT_TRUE(listed(service, loop.device()));
    EXPECT_TRUE(wait_until(
        [&] { return service.get(drive_path(loop.device()), kDrive, "State") == "idle"; }, 10s))
        << service.get(drive_path(loop.device()), kDrive, "State");
    EXPECT_EQ(service.get(drive_path(loop.device()), kDrive, "MediaPresent"), "true");

    // udev announces the same medium again: no second job.
    for (int i = 0; i < 3; ++i) {
        run("udevadm trigger --action=change --settle " + loop.device());
    }
    sync_with_udev(service);
    EXPECT_EQ(service.busctl_call(kRoot, kManager, "ListJobs").output,
              "ao 1 \"" + job_path(1) + "\"\n");
    EXPECT_EQ(watcher.added(), 1u);
    EXPECT_EQ(watcher.ended_count(), 1u);
    EXPECT_EQ(service.get(drive_path(loop.device()), kDrive, "State"), "idle");
}

}  // namespace
}  // namespace freemkv
