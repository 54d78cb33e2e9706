#include "checksums.hpp"
#include "audio_error.hpp"
#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

// The checksums against tools that compute them on their own: whipper's accuraterip-checksum
// (v1, v2) on a WAV that sox makes of the same PCM, python's zlib.crc32, and a few lines of
// python for the frame-450 CRC.

namespace freemkv {
namespace {

using test::run;

const std::string kPython = "/usr/bin/python3";

struct Track {
    std::vector<std::byte> pcm;
    std::filesystem::path raw;
    std::filesystem::path wav;
};

// `samples` seeded random stereo samples, as raw PCM and as a WAV made by sox.
Track make_track(const test::TempDir& dir, std::size_t samples, std::uint64_t seed) {
    Track t;
    t.pcm = test::random_bytes(samples * kCdSampleBytes, seed);
    t.raw = dir / ("track" + std::to_string(seed) + ".raw");
    t.wav = dir / ("track" + std::to_string(seed) + ".wav");
    test::write_file(t.raw, t.pcm);
    run("sox -t raw -r 44100 -e signed-integer -b 16 -c 2 -L '" + t.raw.string() + "' '" +
        t.wav.string() + "'");
    return t;
}

std::uint32_t hex(const std::string& text) {
    return static_cast<std::uint32_t>(std::stoul(text, nullptr, 16));
}

std::uint32_t tool_v1(const Track& t, int number, int total) {
    return hex(run("accuraterip-checksum --accuraterip-v1 '" + t.wav.string() + "' " +
                   std::to_string(number) + " " + std::to_string(total)));
}

std::uint32_t tool_v2(const Track& t, int number, int total) {
    return hex(run("accuraterip-checksum --accuraterip-v2 '" + t.wav.string() + "' " +
                   std::to_string(number) + " " + std::to_string(total)));
}

std::uint32_t python_crc32(const Track& t) {
    return hex(run(kPython +
                   " -c 'import sys, zlib; print(\"%08x\" % zlib.crc32(open(sys.argv[1], \"rb\")"
                   ".read()))' '" +
                   t.raw.string() + "'"));
}

TrackPosition position(int number, int total) {
    return {.first = number == 1, .last = number == total};
}

TrackChecksums checksums(const std::vector<std::byte>& pcm, TrackPosition where,
                         std::size_t block_bytes) {
    TrackChecksummer sum(where);
    for (std::size_t i = 0; i < pcm.size(); i += block_bytes) {
        sum.update(std::span(pcm).subspan(i, std::min(block_bytes, pcm.size() - i)));
    }
    return sum.finish();
}

void expect_as_the_tool(const Track& t, int number, int total) {
    SCOPED_TRACE("track " + std::to_string(number) + " of " + std::to_string(total) + ", " +
                 std::to_string(t.pcm.size() / kCdSampleBytes) + " samples");
    const TrackChecksums c = checksums(t.pcm, position(number, total), 65536);
    EXPECT_EQ(c.samples, t.pcm.size() / kCdSampleBytes);
    EXPECT_EQ(c.accuraterip_v1, tool_v1(t, number, total));
    EXPECT_EQ(c.accuraterip_v2, tool_v2(t, number, total));
}

class Checksums : public ::testing::Test {
  protected:
    test::TempDir dir_;
};

TEST_F(Checksums, AccurateRipV1AndV2EqualWhippersToolInEveryPositionOnTheDisc) {
    // Not whole frames, and longer than the 2 x 2940 samples the first and last tracks skip.
    const Track t = make_track(dir_, 17 * kCdSamplesPerFrame + 123, 1);
    expect_as_the_tool(t, 1, 3);  // first
    expect_as_the_tool(t, 2, 3);  // middle
    expect_as_the_tool(t, 3, 3);  // last
    expect_as_the_tool(t, 1, 1);  // a single-track disc: both rules
}

TEST_F(Checksums, LongTrackV2KeepsTheProductsHighWordsAsTheToolDoes) {
    // Over 451 frames: positions times samples overflow 32 bits, where v1 and v2 differ.
    const Track t = make_track(dir_, 452 * kCdSamplesPerFrame + 301, 2);
    expect_as_the_tool(t, 1, 12);
    expect_as_the_tool(t, 7, 12);
    expect_as_the_tool(t, 12, 12);
    const TrackChecksums c = checksums(t.pcm, position(7, 12), 65536);
    EXPECT_NE(c.accuraterip_v1, c.accuraterip_v2);
}

TEST_F(Checksums, TracksShorterThanFiveFramesAgreeWithTheTool) {
    // First: everything skipped (0). Last: EAC's end position wraps, so the whole track counts.
    const Track t = make_track(dir_, 1000, 3);
    expect_as_the_tool(t, 1, 3);
    expect_as_the_tool(t, 2, 3);
    expect_as_the_tool(t, 3, 3);
    expect_as_the_tool(t, 1, 1);
    EXPECT_EQ(checksums(t.pcm, position(1, 3), 4096).accuraterip_v1, 0u);
    EXPECT_EQ(checksums(t.pcm, position(3, 3), 4096).accuraterip_v1,
              checksums(t.pcm, position(2, 3), 4096).accuraterip_v1);
    // Exactly the skip: the last track then sums nothing.
    const Track edge = make_track(dir_, kAccurateRipSkipSamples, 4);
    expect_as_the_tool(edge, 3, 3);
    expect_as_the_tool(edge, 1, 3);
}

TEST_F(Checksums, Crc32EqualsPythonsZlibOverTheSamePcm) {
    const Track t = make_track(dir_, 9 * kCdSamplesPerFrame + 77, 5);
    const TrackChecksums c = checksums(t.pcm, position(2, 3), 65536);
    EXPECT_EQ(c.crc32, python_crc32(t));
    EXPECT_NE(c.crc32, 0u);
}

TEST_F(Checksums, Frame450CrcEqualsAnIndependentSum) {
    const Track t = make_track(dir_, 451 * kCdSamplesPerFrame + 5, 6);
    const std::string script =
        "import struct, sys\n"
        "d = open(sys.argv[1], 'rb').read()\n"
        "s = 0\n"
        "for i in range(588):\n"
        "    (v,) = struct.unpack_from('<I', d, (450 * 588 + i) * 4)\n"
        "    s = (s + v * (i + 1)) & 0xffffffff\n"
        "print('%08x' % s)\n";
    const auto py = dir_ / "frame450.py";
    test::write_file(py, {reinterpret_cast<const std::byte*>(script.data()),
                          reinterpret_cast<const std::byte*>(script.data() + script.size())});
    const TrackChecksums c = checksums(t.pcm, position(1, 1), 65536);
    ASSERT_TRUE(c.accuraterip_frame450.has_value());
    EXPECT_EQ(*c.accuraterip_frame450,
              hex(run(kPython + " '" + py.string() + "' '" + t.raw.string() + "'")));

    // A track that ends inside frame 450 has none.
    const std::vector<std::byte> shorter(t.pcm.begin(),
                                         t.pcm.begin() + 451 * kCdFrameBytes - kCdSampleBytes);
    EXPECT_FALSE(checksums(shorter, position(2, 3), 65536).accuraterip_frame450.has_value());
}

TEST_F(Checksums, AnyBlockSizeGivesTheSameResult) {
    const Track t = make_track(dir_, 460 * kCdSamplesPerFrame + 211, 7);
    for (TrackPosition where : {position(1, 3), position(2, 3), position(3, 3), position(1, 1)}) {
        const TrackChecksums whole = checksums(t.pcm, where, t.pcm.size());
        for (std::size_t block : {std::size_t{kCdSampleBytes}, std::size_t{587 * kCdSampleBytes},
                                  std::size_t{4096 * kCdFrameBytes}, std::size_t{1}, std::size_t{3},
                                  std::size_t{4099}}) {
            SCOPED_TRACE("blocks of " + std::to_string(block) + " bytes, first " +
                         std::to_string(where.first) + " last " + std::to_string(where.last));
            const TrackChecksums c = checksums(t.pcm, where, block);
            EXPECT_EQ(c.samples, whole.samples);
            EXPECT_EQ(c.crc32, whole.crc32);
            EXPECT_EQ(c.accuraterip_v1, whole.accuraterip_v1);
            EXPECT_EQ(c.accuraterip_v2, whole.accuraterip_v2);
            EXPECT_EQ(c.accuraterip_frame450, whole.accuraterip_frame450);
        }
    }
    const TrackChecksums whole = checksums(t.pcm, position(3, 3), t.pcm.size());
    EXPECT_EQ(whole.accuraterip_v1, tool_v1(t, 3, 3));
    EXPECT_EQ(whole.crc32, python_crc32(t));
}

TEST_F(Checksums, NativeSamplesGiveTheSameResultAsBytes) {
    const Track t = make_track(dir_, 20 * kCdSamplesPerFrame + 9, 8);
    std::vector<std::int16_t> samples(t.pcm.size() / 2);
    for (std::size_t i = 0; i < samples.size(); ++i) {
        samples[i] =
            static_cast<std::int16_t>(std::to_integer<std::uint16_t>(t.pcm[2 * i]) |
                                      std::to_integer<std::uint16_t>(t.pcm[2 * i + 1]) << 8);
    }
    TrackChecksummer sum(position(3, 3));
    sum.update(std::span<const std::int16_t>(samples).first(1001));
    sum.update(std::span<const std::int16_t>(samples).subspan(1001));
    const TrackChecksums c = sum.finish();
    EXPECT_EQ(c.accuraterip_v2, tool_v2(t, 3, 3));
    EXPECT_EQ(c.crc32, python_crc32(t));
}

TEST(ChecksumsInput, PcmEndingInsideASampleIsAnError) {
    TrackChecksummer sum({});
    const std::vector<std::byte> bytes(4 * 10 + 3);
    sum.update(bytes);
    try {
        (void)sum.finish();
        FAIL() << "no error";
    } catch (const AudioError& e) {
        EXPECT_NE(std::string(e.what()).find("3 bytes into sample 11"), std::string::npos)
            << e.what();
    }
}

TEST(ChecksumsInput, EmptyTrackSumsToZero) {
    const TrackChecksums c = TrackChecksummer({.first = true, .last = true}).finish();
    EXPECT_EQ(c.samples, 0u);
    EXPECT_EQ(c.crc32, 0u);
    EXPECT_EQ(c.accuraterip_v1, 0u);
    EXPECT_EQ(c.accuraterip_v2, 0u);
}

TEST(TrackPositionOnDisc, FirstAndLastAudioTracksLeaveTheDataTrackOut) {
    CdToc toc;
    auto track = [](int number, std::uint32_t start, bool audio) {
        CdTrack t;
        t.number = number;
        t.start = start;
        t.audio = audio;
        return t;
    };
    toc.tracks = {track(1, 0, true), track(2, 5000, true), track(3, 9000, true),
                  track(4, 30000, false)};
    toc.leadout = 40000;
    EXPECT_TRUE(track_position(toc, 1).first);
    EXPECT_FALSE(track_position(toc, 1).last);
    EXPECT_FALSE(track_position(toc, 2).first);
    EXPECT_FALSE(track_position(toc, 2).last);
    EXPECT_TRUE(track_position(toc, 3).last);
    EXPECT_THROW((void)track_position(toc, 4), AudioError);
    EXPECT_THROW((void)track_position(toc, 5), AudioError);
}

}  // namespace
}  // namespace freemkv
