#include "cue_sheet.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "audio_error.hpp"
#include "playlist.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using test::run;

CdTrack track(int number, std::uint32_t start, std::uint32_t pregap, std::string title,
              std::string isrc = "") {
    CdTrack t;
    t.number = number;
    t.start = start;
    t.pregap = pregap;
    t.title = std::move(title);
    t.isrc = std::move(isrc);
    return t;
}

// Four tracks; track 2 has a 2 s pregap, track 4 a 3 s pregap, pre-emphasis and an ISRC.
CdToc four_tracks() {
    CdToc toc;
    toc.tracks = {track(1, 0, 0, "One", "USRC17607839"), track(2, 18000, 150, "Two"),
                  track(3, 30000, 0, "Three"), track(4, 45000, 225, "Four", "GBAAA9700001")};
    toc.tracks[3].pre_emphasis = true;
    toc.leadout = 60000;
    toc.catalog = "0123456789012";
    return toc;
}

std::string fmt_file(int number, const std::string& title) {
    return (number < 10 ? "0" : "") + std::to_string(number) + " - " + title + ".flac";
}

CueAlbum album_of(const CdToc& toc) {
    CueAlbum a;
    a.title = "Say \"Hi\" \\ Bye";
    a.performer = "Björk";
    a.disc_id = "xUp1F2NkfP8s8jaeFn_Av3jNEI4-";
    a.date = "1997";
    for (const auto& t : toc.tracks) {
        a.tracks.push_back(
            {t.number, fmt_file(t.number, t.title), t.title, t.number == 1 ? "Björk" : ""});
    }
    return a;
}

std::filesystem::path write_cue(const test::TempDir& dir, const std::string& text) {
    auto path = dir / "album.cue";
    std::ofstream(path) << text;
    return path;
}

// stdout only: cuetools reads the one-file-per-track layout but complains on stderr that a
// track spans two files ("too many files specified").
std::string stdout_of(const std::string& command) {
    return run("(" + command + " 2>/dev/null)");
}

TEST(CueSheet, MsfCountsSeventyFiveFramesASecond) {
    EXPECT_EQ(cue_msf(0), "00:00:00");
    EXPECT_EQ(cue_msf(74), "00:00:74");
    EXPECT_EQ(cue_msf(75), "00:01:00");
    EXPECT_EQ(cue_msf(17850), "03:58:00");
    EXPECT_EQ(cue_msf(100 * 60 * 75 + 1), "100:00:01");
}

TEST(CueSheet, OneFilePerTrackWithEachPregapAtTheEndOfThePreviousFile) {
    auto toc = four_tracks();
    EXPECT_EQ(cue_sheet(toc, album_of(toc)),
              "REM DISCID xUp1F2NkfP8s8jaeFn_Av3jNEI4-\n"
              "REM DATE 1997\n"
              "REM COMMENT \"freemkvd\"\n"
              "CATALOG 0123456789012\n"
              "PERFORMER \"Björk\"\n"
              "TITLE \"Say \\\"Hi\\\" \\\\ Bye\"\n"
              "FILE \"01 - One.flac\" WAVE\n"
              "  TRACK 01 AUDIO\n"
              "    TITLE \"One\"\n"
              "    PERFORMER \"Björk\"\n"
              "    ISRC USRC17607839\n"
              "    INDEX 01 00:00:00\n"
              "  TRACK 02 AUDIO\n"
              "    TITLE \"Two\"\n"
              "    INDEX 00 03:58:00\n"
              "FILE \"02 - Two.flac\" WAVE\n"
              "    INDEX 01 00:00:00\n"
              "FILE \"03 - Three.flac\" WAVE\n"
              "  TRACK 03 AUDIO\n"
              "    TITLE \"Three\"\n"
              "    INDEX 01 00:00:00\n"
              "  TRACK 04 AUDIO\n"
              "    TITLE \"Four\"\n"
              "    ISRC GBAAA9700001\n"
              "    FLAGS PRE\n"
              "    INDEX 00 03:17:00\n"
              "FILE \"04 - Four.flac\" WAVE\n"
              "    INDEX 01 00:00:00\n");
}

TEST(CueSheet, CuetoolsParsesItAndItsPregapsMatchTheToc) {
    test::TempDir dir;
    auto toc = four_tracks();
    auto cue = write_cue(dir, cue_sheet(toc, album_of(toc)));
    // Each pregap starts where the previous track's file ends, less the pregap: frames() of
    // the previous track (append-gaps) minus the pregap, as m:ss.ff.
    std::string expected;
    for (std::size_t i = 1; i < toc.tracks.size(); ++i) {
        if (toc.tracks[i].pregap > 0) {
            std::uint32_t at = toc.frames(toc.tracks[i - 1]) - toc.tracks[i].pregap;
            expected += std::to_string(at / 75 / 60) + ":" + (at / 75 % 60 < 10 ? "0" : "") +
                        std::to_string(at / 75 % 60) + "." + (at % 75 < 10 ? "0" : "") +
                        std::to_string(at % 75) + "\n";
        }
    }
    EXPECT_EQ(expected, "3:58.00\n3:17.00\n");
    EXPECT_EQ(stdout_of("cuebreakpoints --prepend-gaps '" + cue.string() + "'"), expected);
    EXPECT_EQ(stdout_of("cueprint -d '%P|%T|%N\\n' -t '%n|%t|%p|%i\\n' '" + cue.string() + "'"),
              "Björk|Say \\\"Hi\\\" \\\\ Bye|4\n"  // cuetools keeps the escapes
              "1|One|Björk|USRC17607839\n"
              "2|Two||\n"
              "3|Three||\n"
              "4|Four||GBAAA9700001\n");
    // Tracks without a pregap are in their own files (a pregap track is named by cuetools after
    // the file its TRACK line is in).
    auto files = stdout_of("cueprint -d '' -t '%n %f\\n' '" + cue.string() + "'");
    EXPECT_NE(files.find("1 01 - One.flac\n"), std::string::npos) << files;
    EXPECT_NE(files.find("3 03 - Three.flac\n"), std::string::npos) << files;
}

TEST(CueSheet, HiddenTrackOneAudioIsTrackOnesIndexZeroInItsOwnFile) {
    auto toc = four_tracks();
    for (auto& t : toc.tracks) {
        t.start += 1500;
    }
    toc.leadout += 1500;
    auto album = album_of(toc);
    album.hidden_file = "00 - Hidden.flac";
    auto cue = cue_sheet(toc, album);
    EXPECT_NE(cue.find("FILE \"00 - Hidden.flac\" WAVE\n"
                       "  TRACK 01 AUDIO\n"
                       "    TITLE \"One\"\n"
                       "    PERFORMER \"Björk\"\n"
                       "    ISRC USRC17607839\n"
                       "    INDEX 00 00:00:00\n"
                       "FILE \"01 - One.flac\" WAVE\n"
                       "    INDEX 01 00:00:00\n"),
              std::string::npos)
        << cue;
    album.hidden_file.clear();
    EXPECT_EQ(cue_sheet(toc, album).find("Hidden"), std::string::npos);
}

TEST(CueSheet, DataTrackOrUnknownTrackIsRefusedNamingIt) {
    auto toc = four_tracks();
    toc.tracks[3].audio = false;
    auto album = album_of(toc);
    try {
        (void)cue_sheet(toc, album);
        FAIL() << "a data track went into the cue sheet";
    } catch (const AudioError& e) {
        EXPECT_NE(std::string(e.what()).find("track 4"), std::string::npos) << e.what();
    }
    album.tracks.pop_back();
    EXPECT_EQ(cue_sheet(toc, album).find("TRACK 04"), std::string::npos);
}

TEST(CueSheet, TextIsOneLineOfValidUtf8) {
    auto toc = four_tracks();
    auto album = album_of(toc);
    album.title = "Bad\xff\nline";
    auto cue = cue_sheet(toc, album);
    EXPECT_NE(cue.find("TITLE \"Bad\xef\xbf\xbd line\"\n"), std::string::npos) << cue;
}

TEST(Playlist, ExtendedM3uWithRoundedSecondsAndRelativePaths) {
    std::vector<PlaylistEntry> entries{
        {"01 - One.flac", 17850 + 37, "Björk", "One"},
        {"02 - Two \"x\".flac", 75 * 60 + 38, "Björk", "Two \"x\""},
        {"03 - Three.flac", 75, "", "Three"},
    };
    EXPECT_EQ(m3u_playlist(entries),
              "#EXTM3U\n"
              "#EXTINF:238,Björk - One\n"
              "01 - One.flac\n"
              "#EXTINF:61,Björk - Two \"x\"\n"
              "02 - Two \"x\".flac\n"
              "#EXTINF:1,Three\n"
              "03 - Three.flac\n");
    EXPECT_THROW(m3u_playlist({{"", 75, "a", "b"}}), AudioError);
}

}  // namespace
}  // namespace freemkv
