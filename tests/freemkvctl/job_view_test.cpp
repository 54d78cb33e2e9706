// What freemkvctl reads from the bus is safe to print, whatever the daemon sends.

#include <gtest/gtest.h>

#include <string>

#include "cue_file.hpp"
#include "job_view.hpp"

namespace freemkv::ctl {
namespace {

TEST(JobView, StringPropertiesAreReadWithoutControlCharacters) {
    Props props;
    props["DiscLabel"] = sdbus::Variant(std::string("EVIL\x1b]0;owned\x07\nLINE"));
    props["ResultReason"] = sdbus::Variant(std::string("read error\r\nat sector 5"));
    props["Id"] = sdbus::Variant(std::uint64_t{7});
    JobView view;
    view.apply_job(props);
    EXPECT_EQ(view.label, "EVIL\xef\xbf\xbd]0;owned\xef\xbf\xbd LINE");
    EXPECT_EQ(view.reason, "read error  at sector 5");
    EXPECT_EQ(view.id, 7u);
}

TEST(JobView, ArtifactsAreReadFromTheBusTuples) {
    using Entry = sdbus::Struct<std::string, std::string, std::string, std::string, std::uint64_t,
                                std::uint64_t, std::int32_t, double>;
    Props props;
    props["Artifacts"] = sdbus::Variant(std::vector<Entry>{
        {"image", "/l/X.iso", "deleted", "", 10, 10, 0, 0.0},
        {"title", "/l/X/X.mkv\x1b[2J", "published", "", 7, 7, 1, 1.5},
    });
    JobView view;
    view.apply_job(props);
    ASSERT_EQ(view.artifacts.size(), 2u);
    EXPECT_EQ(view.artifacts[0].kind, "image");
    EXPECT_EQ(view.artifacts[0].state, "deleted");
    EXPECT_EQ(view.artifacts[1].path, "/l/X/X.mkv\xef\xbf\xbd[2J") << "no control characters";
    EXPECT_EQ(view.artifacts[1].title, 1);
    EXPECT_EQ(view.artifacts[1].seconds_lost, 1.5);
}

// An audio CD's rip: watch shows the track of how many, its share, and the speed in x.
TEST(JobView, AnAudioRipShowsItsTrackAndSpeed) {
    Props props;
    props["Id"] = sdbus::Variant(std::uint64_t{3});
    props["State"] = sdbus::Variant(std::string("running"));
    props["Phase"] = sdbus::Variant(std::string("audio"));
    props["DiscLabel"] = sdbus::Variant(std::string("Test Tones"));
    props["Progress"] = sdbus::Variant(0.25);
    props["Speed"] = sdbus::Variant(23.96);
    props["Track"] = sdbus::Variant(std::uint32_t{3});
    props["TrackCount"] = sdbus::Variant(std::uint32_t{12});
    props["TrackProgress"] = sdbus::Variant(0.5);
    JobView view;
    view.apply_job(props);
    EXPECT_EQ(view.line(false), "job 3 running  25.0% track 3/12  50.0% 24.0x ETA - Test Tones");
    Json j = view.json();
    EXPECT_EQ(j["speed"], 23.96);
    EXPECT_EQ(j["track"], 3);
    EXPECT_EQ(j["track_count"], 12);

    ArtifactView track{
        "track", "/l/A/B/03 - C.flac", "published", "2 uncorrectable read errors", 10, 10, 3, 0.04};
    EXPECT_EQ(track.line(),
              "track 3  published  /l/A/B/03 - C.flac (0.0 s of audio lost): 2 uncorrectable "
              "read errors");
}

// The data file of a cue sheet, as freemkvctl rip finds it to hand it over.
TEST(CueFile, TheOneFileLineNamesTheBin) {
    EXPECT_TRUE(is_cue_sheet("/x/Album.CUE"));
    EXPECT_FALSE(is_cue_sheet("/x/Album.bin"));
    EXPECT_EQ(
        cue_data_file("/x/a.cue", "\xEF\xBB\xBFTITLE \"T\"\r\nFILE \"my disc.bin\" BINARY\r\n"),
        "/x/my disc.bin");
    EXPECT_EQ(cue_data_file("/x/a.cue", "  FILE disc.bin BINARY\n"), "/x/disc.bin");
    EXPECT_EQ(cue_data_file("/x/a.cue", "FILE \"/data/d.bin\" BINARY\n"), "/data/d.bin");
    EXPECT_THROW(cue_data_file("/x/a.cue", "TITLE \"no file\"\n"), std::runtime_error);
    EXPECT_THROW(cue_data_file("/x/a.cue", "FILE \"1.bin\" BINARY\nFILE \"2.bin\" BINARY\n"),
                 std::runtime_error);
    EXPECT_THROW(cue_data_file("/x/a.cue", "FILE \"\" BINARY\n"), std::runtime_error);
}

}  // namespace
}  // namespace freemkv::ctl
