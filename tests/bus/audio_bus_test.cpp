// An audio CD's cue sheet through the real daemon on a private bus: StartRip on the .cue, the
// job's artifacts and JobEnded, `freemkvctl rip CUE` handing the cue and its BIN over open, the
// refusals of a cue without its BIN, and kill -9 in the middle of the album: the restarted daemon
// goes on from the first unfinished track.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sdbus-c++/sdbus-c++.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>

#include "audio/audio_cd_fixture.hpp"
#include "audio/canned_album.hpp"
#include "support/bus_fixture.hpp"
#include "support/canned_http.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using namespace std::chrono_literals;
using namespace test;

const std::string kAlbum = "The Oscillators/Test Tones";

std::int64_t mtime_ns(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) {
        throw std::system_error(errno, std::generic_category(), p.string());
    }
    return std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
}

TEST(BusAudio, StartRipOnACueSheetEndsWithTheAlbumAsArtifacts) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd;
    TempDir dir;
    Service service(dir);
    ManagerWatcher watcher(service.address(), true);

    std::string job = Service::job_of(service.start_rip_busctl(cd.cue));
    ASSERT_EQ(service.wait_for_result(job), "ok") << service.get(job, kJob, "ResultReason");
    const fs::path folder = service.library() / kAlbum;
    EXPECT_EQ(service.get(job, kJob, "OutputPath"), folder.string());
    EXPECT_EQ(service.get(job, kJob, "DiscLabel"), "Test Tones");
    EXPECT_EQ(service.get(job, kJob, "TrackCount"), "4");
    EXPECT_EQ(service.get(job, kJob, "Progress"), "1");
    std::string artifacts = service.get(job, kJob, "Artifacts");
    EXPECT_TRUE(contains(artifacts, "7 \"track\" \"" + (folder / "01 - Concert A.flac").string() +
                                        "\" \"published\""))
        << artifacts;
    for (const char* kind : {"\"cue\"", "\"log\"", "\"playlist\""}) {
        EXPECT_TRUE(contains(artifacts, kind)) << artifacts;
    }
    EXPECT_EQ(all_matches(artifacts, "\"(track)\"").size(), 4u) << artifacts;
    EXPECT_TRUE(fs::is_regular_file(folder / "Test Tones.cue"));

    ASSERT_TRUE(wait_until([&] { return watcher.ended_count() == 1; }, 10s));
    auto ended = watcher.ended().at(0);
    EXPECT_EQ(ended.job, job);
    EXPECT_EQ(ended.result, "ok");
    EXPECT_EQ(ended.output, folder.string());
}

// freemkvctl hands the cue over open with its BIN (StartRipImage's "bin"); the daemon reads both
// through the descriptors. A cue handed over without its BIN, or "bin" given to StartRip, is
// refused with InvalidArgs.
TEST(BusAudio, FreemkvctlRipHandsTheCueAndItsBinOverOpen) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd;
    TempDir dir;
    Service service(dir);

    Shell rip =
        sh(service.shell_env() + " " FREEMKV_CTL " --user rip --wait " + quote(cd.cue.string()));
    ASSERT_EQ(rip.status, 0) << rip.output;
    std::string job = rip.output.substr(0, rip.output.find('\n'));
    EXPECT_EQ(service.get(job, kJob, "Result"), "ok");
    EXPECT_EQ(service.get(job, kJob, "OutputPath"), (service.library() / kAlbum).string());
    EXPECT_TRUE(fs::is_regular_file(service.library() / kAlbum / "04 - Sweep.flac"));

    auto connection = sdbus::createSessionBusConnectionWithAddress(service.address());
    auto manager = sdbus::createProxy(*connection, kName, kRoot);
    auto error_of = [&](auto call) {
        try {
            call();
        } catch (const sdbus::Error& e) {
            return e.getName() + ": " + e.getMessage();
        }
        return std::string("no error");
    };
    int cue_fd = ::open(cd.cue.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(cue_fd, 0);
    std::string without_bin = error_of([&] {
        sdbus::ObjectPath path;
        manager->callMethod("StartRipImage")
            .onInterface(kManager)
            .withArguments(sdbus::UnixFd(cue_fd, sdbus::adopt_fd),
                           std::map<std::string, sdbus::Variant>{})
            .storeResultsTo(path);
    });
    EXPECT_TRUE(contains(without_bin, "org.freemkv.Rip1.Error.InvalidArgs: ")) << without_bin;
    EXPECT_TRUE(contains(without_bin, "needs its BIN file handed over too")) << without_bin;

    // A cue sheet that names another file for libcdio to open (CD-TEXT from a file): refused.
    fs::path cdtextfile = dir / "cdtextfile.cue";
    std::ofstream(cdtextfile) << "CDTEXTFILE \"/etc/shadow\"\n" << slurp(cd.cue);
    fs::copy_file(cd.bin, dir / cd.bin.filename());
    Shell cdtext = service.start_rip_gdbus(cdtextfile.string());
    EXPECT_EQ(gdbus_error(cdtext), "org.freemkv.Rip1.Error.InvalidArgs") << cdtext.output;
    EXPECT_TRUE(contains(cdtext.output, "CDTEXTFILE is not read")) << cdtext.output;

    // A cue sheet whose FILE line is not one BINARY file: refused when asked, naming the cue.
    fs::path bad = dir / "two-files.cue";
    std::ofstream(bad) << "FILE \"a.bin\" BINARY\nFILE \"b.bin\" BINARY\n";
    Shell two = service.start_rip_gdbus(bad.string());
    EXPECT_EQ(gdbus_error(two), "org.freemkv.Rip1.Error.InvalidArgs") << two.output;
    EXPECT_TRUE(contains(two.output, "not a cue sheet of one BIN file (2 FILE lines)"))
        << two.output;

    int bin_fd = ::open(cd.bin.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(bin_fd, 0);
    std::string bin_by_path = error_of([&] {
        sdbus::ObjectPath path;
        manager->callMethod("StartRip")
            .onInterface(kManager)
            .withArguments(cd.cue.string(),
                           std::map<std::string, sdbus::Variant>{
                               {"bin", sdbus::Variant(sdbus::UnixFd(bin_fd, sdbus::adopt_fd))}})
            .storeResultsTo(path);
    });
    EXPECT_TRUE(contains(bin_by_path,
                         "org.freemkv.Rip1.Error.InvalidArgs: StartRip: unknown "
                         "option 'bin'"))
        << bin_by_path;
}

// The Debian 12 home on the system bus: a 0700 directory the daemon's user cannot enter. Its owner
// rips the cue sheet there with freemkvctl, which hands the cue and its BIN over open; by path the
// daemon may not have them.
TEST(BusAudio, ACueInAPrivateHomeHandedOverOpenOnTheSystemBus) {
    FREEMKV_NEED_AUDIO_CD();
    FREEMKV_REQUIRE_ROOT();
    AudioCd cd;
    TempDir dir;
    fs::path home = dir / "home";
    fs::create_directory(home);
    fs::copy_file(cd.cue, home / "album.cue");
    fs::copy_file(cd.bin, home / cd.bin.filename());  // the name the cue gives
    for (const fs::path& p : {home, home / "album.cue", home / cd.bin.filename()}) {
        ASSERT_EQ(::chown(p.c_str(), 1, 1), 0);  // the user "daemon", our caller
    }
    fs::permissions(home, fs::perms(0700));
    Service service(dir, as_nobody(dir, true));

    Shell by_path = service.start_rip_gdbus((home / "album.cue").string(), "'{}'", kDaemonUser);
    EXPECT_EQ(gdbus_error(by_path), "org.freemkv.Rip1.Error.NotAuthorized") << by_path.output;

    Shell rip = sh(service.shell_env() + " " + kDaemonUser +
                   " " FREEMKV_CTL " --system rip --wait " + quote((home / "album.cue").string()));
    ASSERT_EQ(rip.status, 0) << rip.output << service.daemon().output();
    std::string job = rip.output.substr(0, rip.output.find('\n'));
    EXPECT_EQ(service.get(job, kJob, "StartedByUid"), "1");
    EXPECT_EQ(service.get(job, kJob, "Result"), "ok");
    EXPECT_TRUE(fs::is_regular_file(service.library() / kAlbum / "03 - Noise.flac"));
}

// On the system bus a cue sheet in an import folder is ripped for anyone allowed to rip, but its
// BIN must pass the same rules: a cue that names a file outside the import folders (by an
// absolute path, or by "..") is refused, and the file is never read.
TEST(BusAudio, ACueInAnImportFolderMayNotNameABinOutsideIt) {
    FREEMKV_NEED_AUDIO_CD();
    FREEMKV_REQUIRE_ROOT();
    AudioCd cd;
    TempDir dir;
    fs::permissions(dir.path(), fs::perms(0755));
    for (const char* sub : {"import", "private"}) {
        fs::create_directory(dir / sub);
        fs::permissions(dir / sub, fs::perms(0755));
    }
    fs::copy_file(cd.bin, dir / "private" / "secret.bin");
    fs::copy_file(cd.bin, dir / "import" / "album.bin");
    std::ofstream(dir / "import" / "absolute.cue")
        << cd.cue_with_bin((dir / "private" / "secret.bin").string());
    std::ofstream(dir / "import" / "dotdot.cue") << cd.cue_with_bin("../private/secret.bin");
    std::ofstream(dir / "import" / "album.cue") << cd.cue_with_bin("album.bin");
    for (const char* f : {"private/secret.bin", "import/album.bin", "import/absolute.cue",
                          "import/dotdot.cue", "import/album.cue"}) {
        fs::permissions(dir / f, fs::perms(0644));
    }
    Service service(
        dir, {.config = "[images]\nimport_folders = [\"" + (dir / "import").string() + "\"]\n",
              .system_bus_config = write_system_bus_config(dir, R"(  <policy user="nobody">
    <allow send_destination="org.freemkv.Rip1" send_interface="org.freemkv.Rip1.Manager"
           send_member="StartRip"/>
  </policy>
)")});
    for (const char* cue : {"absolute.cue", "dotdot.cue"}) {
        Shell refused = service.start_rip_gdbus((dir / "import" / cue).string(), "'{}'", kNobody);
        EXPECT_EQ(gdbus_error(refused), "org.freemkv.Rip1.Error.NotAuthorized") << cue;
        EXPECT_TRUE(contains(refused.output, "the BIN of ")) << refused.output;
        EXPECT_TRUE(contains(refused.output, "import folder")) << refused.output;
    }
    std::string job = Service::job_of(
        service.start_rip_gdbus((dir / "import" / "album.cue").string(), "'{}'", kNobody));
    EXPECT_EQ(service.wait_for_result(job), "ok") << service.get(job, kJob, "ResultReason");
}

// [audio] musicbrainz and accuraterip on, against canned answers on 127.0.0.1: the job on the
// bus has MusicBrainz's names and says the rip is accurate.
TEST(BusAudio, TheLookupsNameTheAlbumAndItsVerdictIsOnTheBus) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd;
    TempDir dir;
    serve_album(dir / "www", cd);
    fs::create_directories(dir / "server");
    CannedHttp server(dir / "www", dir / "server");
    Service service(
        dir, {.config = "[audio]\nmusicbrainz = true\nmusicbrainz_url = \"" + server.base() +
                        "\"\naccuraterip = true\naccuraterip_url = \"" + server.base() + "\"\n"});
    std::string job = Service::job_of(service.start_rip_busctl(cd.cue));
    ASSERT_EQ(service.wait_for_result(job), "ok") << service.get(job, kJob, "ResultReason");
    EXPECT_EQ(service.get(job, kJob, "ResultReason"),
              "accurately ripped (every track matches AccurateRip)");
    EXPECT_EQ(service.get(job, kJob, "DiscLabel"), kCannedAlbum);
    EXPECT_EQ(service.get(job, kJob, "OutputPath"),
              (service.library() / kCannedArtist / kCannedAlbum).string());
    EXPECT_EQ(server.requests().size(), 2u) << "one lookup each";
}

// kill -9 while track 2 is read (the BIN served slowly through faultfs): the next daemon on the
// same state directory runs the job again, keeps track 1 as it was, and finishes the album.
TEST(BusAudio, Kill9MidAlbumResumesAtTheFirstUnfinishedTrack) {
    FREEMKV_NEED_AUDIO_CD();
    FREEMKV_REQUIRE_ROOT();
    AudioCd cd;
    TempDir dir;
    // About 2.5x real time: track 1 (2 s of audio) takes about a second.
    FaultFs slow(cd.bin, "--read-bps 450000");
    fs::path cue = dir / "slow.cue";
    std::ofstream(cue) << cd.cue_with_bin(slow.disk().string());
    std::string job;
    std::int64_t track1_mtime = 0;
    {
        Service service(dir);
        job = Service::job_of(service.start_rip_busctl(cue));
        ASSERT_TRUE(wait_until(
            [&] {
                std::string track = service.get(job, kJob, "Track");
                return track != "0" && track != "1";
            },
            120s))
            << service.get(job, kJob, "State");
        EXPECT_EQ(service.kill9(), -SIGKILL);
        const fs::path track1 = service.library() / kAlbum / "01 - Concert A.flac";
        ASSERT_TRUE(fs::exists(track1));
        track1_mtime = mtime_ns(track1);
    }
    Service service(dir);
    ASSERT_EQ(service.wait_for_result(job, 180s), "ok") << service.get(job, kJob, "ResultReason");
    const fs::path folder = service.library() / kAlbum;
    EXPECT_EQ(mtime_ns(folder / "01 - Concert A.flac"), track1_mtime) << "track 1 not ripped again";
    EXPECT_TRUE(fs::is_regular_file(folder / "04 - Sweep.flac"));
    EXPECT_TRUE(contains(service.daemon().output(), "track 1 kept from an earlier rip"))
        << service.daemon().output();
}

}  // namespace
}  // namespace freemkv
