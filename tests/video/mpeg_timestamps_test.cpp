#include "mpeg_timestamps.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace freemkv {
namespace {

constexpr std::int64_t kFrame = 3600;  // 25 fps at 90 kHz

std::vector<std::uint8_t> picture(int temporal_reference, bool gop) {
    std::vector<std::uint8_t> data;
    if (gop) {
        data.insert(data.end(), {0x00, 0x00, 0x01, 0xb8, 0x00, 0x08, 0x00, 0x00});
    }
    data.insert(data.end(),
                {0x00, 0x00, 0x01, 0x00, static_cast<std::uint8_t>(temporal_reference >> 2),
                 static_cast<std::uint8_t>((temporal_reference & 3) << 6 | 0x08), 0xff, 0xf8});
    return data;
}

TEST(ParsePicture, ReadsTemporalReferenceAndGopStart) {
    auto gop = parse_picture(picture(517, true));
    ASSERT_TRUE(gop);
    EXPECT_EQ(gop->temporal_reference, 517);
    EXPECT_TRUE(gop->gop_start);
    auto plain = parse_picture(picture(3, false));
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->temporal_reference, 3);
    EXPECT_FALSE(plain->gop_start);
    EXPECT_FALSE(parse_picture(std::vector<std::uint8_t>{0x00, 0x00, 0x01, 0xb3, 0x12, 0x34}));
}

// An open GOP in decode order, I2 B0 B1 P5 B3 B4, where only I and P carry a PTS: the B-frames
// get theirs from temporal_reference, and DTS rises and never passes PTS.
TEST(VideoTimestamps, DerivesMissingPtsFromTemporalReference) {
    VideoTimestamps stamps(kFrame);
    std::int64_t base = 900000;
    struct Frame {
        int reference;
        bool has_pts;
    };
    std::vector<Frame> frames = {{2, true}, {0, false}, {1, false},
                                 {5, true}, {3, false}, {4, false}};
    std::vector<std::int64_t> pts;
    std::int64_t last_dts = INT64_MIN;
    for (std::size_t i = 0; i < frames.size(); ++i) {
        std::optional<std::int64_t> given;
        if (frames[i].has_pts) {
            given = base + frames[i].reference * kFrame;
        }
        auto stamp = stamps.next(given, PictureInfo{frames[i].reference, i == 0}, i == 0);
        pts.push_back(stamp.pts);
        EXPECT_LE(stamp.dts, stamp.pts) << "frame " << i;
        EXPECT_GE(stamp.dts, last_dts) << "frame " << i;
        last_dts = stamp.dts;
    }
    EXPECT_EQ(pts,
              (std::vector<std::int64_t>{base + 2 * kFrame, base, base + kFrame, base + 5 * kFrame,
                                         base + 3 * kFrame, base + 4 * kFrame}));
}

// A GOP whose frames all lack a PTS continues where the previous GOP ended.
TEST(VideoTimestamps, AGopWithoutPtsFollowsThePreviousOne) {
    VideoTimestamps stamps(kFrame);
    EXPECT_EQ(stamps.next(0, PictureInfo{0, true}, true).pts, 0);
    EXPECT_EQ(stamps.next(std::nullopt, PictureInfo{1, false}, false).pts, kFrame);
    EXPECT_EQ(stamps.next(std::nullopt, PictureInfo{1, true}, false).pts, 3 * kFrame);
    EXPECT_EQ(stamps.next(std::nullopt, PictureInfo{0, false}, false).pts, 2 * kFrame);
}

TEST(AudioTimestamps, SmoothsJitterAndFillsMissingPts) {
    AudioTimestamps audio;
    const std::int64_t d = 2880;
    EXPECT_EQ(audio.next(1000, d, true), 1000);
    EXPECT_EQ(audio.next(1000 + d + 40, d, false), 1000 + d);     // jitter: continuous
    EXPECT_EQ(audio.next(std::nullopt, d, false), 1000 + 2 * d);  // no PTS: continuous
    EXPECT_EQ(audio.next(1000 + 3 * d - 700, d, false), 1000 + 3 * d);
}

TEST(AudioTimestamps, ResyncsOnARealJumpAndAtACellStart) {
    AudioTimestamps audio;
    const std::int64_t d = 2880;
    EXPECT_EQ(audio.next(0, d, true), 0);
    EXPECT_EQ(audio.next(10 * d, d, false), 10 * d);  // a gap of 9 frames: kept
    // A new cell a little after where the audio ended: its own time, not the smoothed one.
    EXPECT_EQ(audio.next(11 * d + 100, d, true), 11 * d + 100);
}

TEST(AudioTimestamps, DropsAFrameThatOverlapsWhatIsOut) {
    AudioTimestamps audio;
    const std::int64_t d = 2880;
    EXPECT_EQ(audio.next(0, d, true), 0);
    EXPECT_EQ(audio.next(d, d, false), d);
    EXPECT_EQ(audio.next(d, d, true), std::nullopt);  // a cell that starts before audio ended
    EXPECT_EQ(audio.next(2 * d, d, false), 2 * d);
}

}  // namespace
}  // namespace freemkv
