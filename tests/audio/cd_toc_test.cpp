#include "cd_toc.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace freemkv {
namespace {

CdTrack audio(int number, std::uint32_t start, std::uint32_t pregap = 0) {
    CdTrack t;
    t.number = number;
    t.start = start;
    t.pregap = pregap;
    return t;
}

TEST(CdToc, TrackLengthsRunToTheNextIndexOneSoPregapsEndThePreviousTrack) {
    CdToc toc;
    toc.tracks = {audio(1, 0), audio(2, 1000, 150), audio(3, 2500)};
    toc.leadout = 4000;
    EXPECT_EQ(toc.frames(toc.tracks[0]), 1000u);  // track 2's pregap included
    EXPECT_EQ(toc.frames(toc.tracks[1]), 1500u);
    EXPECT_EQ(toc.frames(toc.tracks[2]), 1500u);
    EXPECT_EQ(toc.hidden_frames(), 0u);
    EXPECT_NO_THROW(check_toc(toc));
}

TEST(CdToc, EnhancedCdAudioEndsOneSessionGapBeforeTheDataTrack) {
    CdToc toc;
    CdTrack data = audio(3, 30000);
    data.audio = false;
    toc.tracks = {audio(1, 0), audio(2, 9000), data};
    toc.leadout = 40000;
    EXPECT_EQ(toc.audio_leadout(), 30000u - kCdSessionGapFrames);
    EXPECT_EQ(toc.frames(toc.tracks[1]), 30000u - kCdSessionGapFrames - 9000u);
    ASSERT_EQ(toc.audio_tracks().size(), 2u);
    EXPECT_EQ(toc.audio_tracks()[1]->number, 2);
}

TEST(CdToc, AudioBeforeTrackOneIsHidden) {
    CdToc toc;
    toc.tracks = {audio(1, 3000, 3000), audio(2, 6000)};
    toc.leadout = 9000;
    EXPECT_EQ(toc.hidden_frames(), 3000u);
    EXPECT_EQ(toc.frames(toc.tracks[0]), 3000u);
}

TEST(CdToc, BrokenTablesAreRefusedNamingTheTrack) {
    CdToc toc;
    toc.tracks = {audio(1, 0), audio(2, 0)};
    toc.leadout = 100;
    try {
        check_toc(toc);
        FAIL() << "accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("track 2"), std::string::npos) << e.what();
    }
    toc.tracks = {audio(1, 0), audio(2, 200)};
    EXPECT_THROW(check_toc(toc), std::invalid_argument);  // past the lead-out
    CdTrack data = audio(1, 0);
    data.audio = false;
    toc.tracks = {data};
    EXPECT_THROW(check_toc(toc), std::invalid_argument);  // no audio
}

}  // namespace
}  // namespace freemkv
