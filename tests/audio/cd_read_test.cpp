// Reading the generated BIN/CUE audio CDs (tests/fixtures/make-audio-cd) through CdSource and
// ParanoiaReader, compared bit for bit against the BIN's bytes.

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stop_token>
#include <string>
#include <vector>

#include "audio/audio_cd_fixture.hpp"
#include "audio_error.hpp"
#include "cd_source.hpp"
#include "paranoia_reader.hpp"
#include "support/test_support.hpp"
#include "support/without_reopen_rights.hpp"

namespace freemkv {
namespace {

using test::AudioCd;

constexpr std::int64_t kFrame = kCdSamplesPerFrame;

std::vector<std::int16_t> read_track(ParanoiaReader& reader, int number,
                                     TrackReadStats* stats = nullptr) {
    std::vector<std::int16_t> out;
    TrackReadStats s = reader.read_track(number, [&](std::span<const std::int16_t> block) {
        out.insert(out.end(), block.begin(), block.end());
    });
    if (stats != nullptr) {
        *stats = s;
    }
    return out;
}

// Where two sample streams first differ, for a readable failure.
::testing::AssertionResult same_samples(const std::vector<std::int16_t>& got,
                                        const std::vector<std::int16_t>& want) {
    if (got.size() != want.size()) {
        return ::testing::AssertionFailure()
               << got.size() / 2 << " samples, expected " << want.size() / 2;
    }
    for (std::size_t i = 0; i < got.size(); ++i) {
        if (got[i] != want[i]) {
            return ::testing::AssertionFailure() << "sample " << i / 2 << " channel " << i % 2
                                                 << ": " << got[i] << ", expected " << want[i];
        }
    }
    return ::testing::AssertionSuccess();
}

std::vector<std::int16_t> expected_track(const AudioCd& cd, const nlohmann::json& t,
                                         std::int64_t offset = 0) {
    return cd.samples(t["start"].get<std::int64_t>() * kFrame + offset,
                      t["frames"].get<std::int64_t>() * kFrame);
}

TEST(CdSource, ReadsTheCueTableOfContents) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd;
    auto source = CdSource::open_cue(cd.cue);
    const CdToc& toc = source->toc();
    ASSERT_EQ(toc.tracks.size(), cd.truth["tracks"].size());
    EXPECT_EQ(toc.leadout, cd.truth["leadout"].get<std::uint32_t>());
    EXPECT_EQ(toc.leadout * kCdFrameBytes, cd.bytes.size());
    for (std::size_t i = 0; i < toc.tracks.size(); ++i) {
        const auto& want = cd.truth["tracks"][i];
        const CdTrack& t = toc.tracks[i];
        SCOPED_TRACE("track " + std::to_string(t.number));
        EXPECT_EQ(t.number, want["number"].get<int>());
        EXPECT_EQ(t.start, want["start"].get<std::uint32_t>());
        EXPECT_EQ(t.pregap, want["pregap"].get<std::uint32_t>());
        EXPECT_EQ(toc.frames(t), want["frames"].get<std::uint32_t>());
        EXPECT_TRUE(t.audio);
        EXPECT_FALSE(t.pre_emphasis);
    }
    EXPECT_GT(toc.tracks[2].pregap, 0u);  // the fixture has a pregap before track 3
    EXPECT_EQ(toc.hidden_frames(), 0u);
    EXPECT_EQ(source->drive_model(), "");
}

TEST(CdSource, CdTextIsrcAndCatalogMatchTheCue) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd;
    auto source = CdSource::open_cue(cd.cue);
    const CdToc& toc = source->toc();
    EXPECT_EQ(toc.album_title, cd.truth["album_title"].get<std::string>());
    EXPECT_EQ(toc.album_performer, cd.truth["album_performer"].get<std::string>());
    EXPECT_EQ(toc.catalog, cd.truth["catalog"].get<std::string>());
    ASSERT_EQ(toc.tracks.size(), cd.truth["tracks"].size());
    for (std::size_t i = 0; i < toc.tracks.size(); ++i) {
        const auto& want = cd.truth["tracks"][i];
        SCOPED_TRACE("track " + std::to_string(i + 1));
        EXPECT_EQ(toc.tracks[i].title, want["title"].get<std::string>());
        EXPECT_EQ(toc.tracks[i].performer, want["performer"].get<std::string>());
        EXPECT_EQ(toc.tracks[i].isrc, want["isrc"].get<std::string>());
    }
    EXPECT_EQ(toc.tracks[1].title, "Square Caf\xc3\xa9");  // UTF-8 in the cue, not double-encoded
}

// A cue written in Latin-1 (as older rippers did), its FILE an absolute path to a BIN whose name
// is not the cue's: the text comes out as UTF-8 and the BIN is the one the FILE line names.
TEST(CdSource, LatinOneCueWithAnotherBinNameIsReadToo) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd;
    test::TempDir dir;
    std::ifstream in(cd.cue, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto replace = [&](const std::string& from, const std::string& to) {
        auto at = text.find(from);
        ASSERT_NE(at, std::string::npos) << from;
        text.replace(at, from.size(), to);
    };
    replace("Caf\xc3\xa9", "Caf\xe9");
    replace("FILE \"" + cd.bin.filename().string() + "\"", "FILE \"" + cd.bin.string() + "\"");
    std::ofstream(dir / "latin.cue", std::ios::binary) << text;

    auto source = CdSource::open_cue(dir / "latin.cue");
    EXPECT_EQ(source->toc().tracks[1].title, "Square Caf\xc3\xa9");
    ParanoiaReader reader(*source, {});
    EXPECT_TRUE(same_samples(read_track(reader, 2), expected_track(cd, cd.truth["tracks"][1])));
}

class EveryMode : public ::testing::TestWithParam<ParanoiaMode> {};

TEST_P(EveryMode, EveryTrackIsBitExact) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd;
    auto source = CdSource::open_cue(cd.cue);
    ParanoiaReader reader(*source, {.mode = GetParam(), .retries = 20, .read_offset = 0});
    for (const auto& t : cd.truth["tracks"]) {
        int number = t["number"].get<int>();
        SCOPED_TRACE("track " + std::to_string(number));
        TrackReadStats stats;
        std::vector<std::int16_t> got = read_track(reader, number, &stats);
        EXPECT_TRUE(same_samples(got, expected_track(cd, t)));
        EXPECT_EQ(stats.samples, t["frames"].get<std::uint64_t>() * kCdSamplesPerFrame);
        EXPECT_EQ(stats.skips, 0u);
        EXPECT_FALSE(stats.silent);
        EXPECT_FALSE(stats.cancelled);
        if (GetParam() != ParanoiaMode::off) {
            EXPECT_GT(stats.reads + stats.verifies, 0u) << "paranoia's callback was not counted";
        }
    }
}

INSTANTIATE_TEST_SUITE_P(ParanoiaReader, EveryMode,
                         ::testing::Values(ParanoiaMode::full, ParanoiaMode::overlap,
                                           ParanoiaMode::off),
                         [](const auto& info) {
                             return std::string(paranoia_mode_name(info.param));
                         });

TEST(ParanoiaReader, PregapLandsAtTheEndOfThePreviousTrack) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd;
    auto source = CdSource::open_cue(cd.cue);
    ParanoiaReader reader(*source, {});
    const auto& t3 = cd.truth["tracks"][2];
    auto pregap = t3["pregap"].get<std::int64_t>() * kFrame;
    ASSERT_GT(pregap, 0);
    std::vector<std::int16_t> track2 = read_track(reader, 2);
    ASSERT_GE(track2.size(), static_cast<std::size_t>(pregap * 2));
    std::vector<std::int16_t> tail(track2.end() - pregap * 2, track2.end());
    // The pregap's own signal (not silence), from the BIN where track 3's INDEX 00 starts.
    std::vector<std::int16_t> want =
        cd.samples(t3["start"].get<std::int64_t>() * kFrame - pregap, pregap);
    EXPECT_TRUE(same_samples(tail, want));
    EXPECT_NE(std::count(want.begin(), want.end(), 0), static_cast<long>(want.size()));
    // And track 3 starts at its INDEX 01, after the pregap.
    std::vector<std::int16_t> track3 = read_track(reader, 3);
    EXPECT_TRUE(same_samples(track3, expected_track(cd, t3)));
}

class ReadOffset : public ::testing::TestWithParam<std::int32_t> {};

// +N: each track's samples are those N samples later in the stream; the edges of the disc come
// out as zeros (the first track's start for -N, the last track's end for +N).
TEST_P(ReadOffset, ShiftsEveryTrackByExactlyThatManySamples) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd;
    auto source = CdSource::open_cue(cd.cue);
    std::int32_t offset = GetParam();
    ParanoiaReader reader(*source,
                          {.mode = ParanoiaMode::full, .retries = 20, .read_offset = offset});
    for (const auto& t : cd.truth["tracks"]) {
        int number = t["number"].get<int>();
        SCOPED_TRACE("track " + std::to_string(number));
        std::vector<std::int16_t> got = read_track(reader, number);
        EXPECT_TRUE(same_samples(got, expected_track(cd, t, offset)));
    }
    // The zeros at the edge are really there: the signal is not silent at the disc's edges.
    std::vector<std::int16_t> edge =
        offset < 0 ? read_track(reader, 1)
                   : read_track(reader, static_cast<int>(cd.truth["tracks"].size()));
    auto n = static_cast<std::size_t>(offset < 0 ? -offset : offset) * 2;
    std::vector<std::int16_t> zeros(offset < 0 ? edge.begin() : edge.end() - static_cast<long>(n),
                                    offset < 0 ? edge.begin() + static_cast<long>(n) : edge.end());
    EXPECT_EQ(std::count(zeros.begin(), zeros.end(), 0), static_cast<long>(n));
    ParanoiaReader plain(*source, {});
    std::vector<std::int16_t> unshifted =
        offset < 0 ? read_track(plain, 1)
                   : read_track(plain, static_cast<int>(cd.truth["tracks"].size()));
    EXPECT_FALSE(same_samples(edge, unshifted));
}

INSTANTIATE_TEST_SUITE_P(ParanoiaReader, ReadOffset, ::testing::Values(30, -30, 667, -667, 6),
                         [](const auto& info) {
                             return (info.param < 0 ? "minus" : "plus") +
                                    std::to_string(info.param < 0 ? -info.param : info.param);
                         });

TEST(ParanoiaReader, HiddenTrackOneAudioIsReadAsTrackZero) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd(true);
    auto source = CdSource::open_cue(cd.cue);
    auto hidden = cd.truth["hidden_frames"].get<std::uint32_t>();
    ASSERT_GT(hidden, 0u);
    EXPECT_EQ(source->toc().hidden_frames(), hidden);
    EXPECT_EQ(source->toc().tracks[0].start, hidden);
    ParanoiaReader reader(*source, {});
    std::vector<std::int16_t> got;
    TrackReadStats stats = reader.read_hidden(
        [&](std::span<const std::int16_t> b) { got.insert(got.end(), b.begin(), b.end()); });
    EXPECT_TRUE(same_samples(got, cd.samples(0, hidden * kFrame)));
    EXPECT_FALSE(stats.silent);
    // Track 1 starts at its INDEX 01, after the hidden audio.
    EXPECT_TRUE(same_samples(read_track(reader, 1), expected_track(cd, cd.truth["tracks"][0])));

    // On a disc without one there is nothing to read.
    AudioCd plain_cd;
    auto plain = CdSource::open_cue(plain_cd.cue);
    ParanoiaReader plain_reader(*plain, {});
    TrackReadStats none = plain_reader.read_hidden([](std::span<const std::int16_t>) {});
    EXPECT_EQ(none.samples, 0u);
    EXPECT_TRUE(none.silent);
}

TEST(ParanoiaReader, ProgressCountsEverySampleInOrder) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd;
    auto source = CdSource::open_cue(cd.cue);
    ParanoiaReader reader(*source, {});
    std::vector<std::uint64_t> seen;
    TrackReadStats stats = reader.read_track(
        1, [](std::span<const std::int16_t>) {}, {},
        [&](std::uint64_t done) { seen.push_back(done); });
    ASSERT_FALSE(seen.empty());
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
    EXPECT_EQ(seen.back(), stats.samples);
    EXPECT_EQ(stats.samples,
              cd.truth["tracks"][0]["frames"].get<std::uint64_t>() * kCdSamplesPerFrame);
}

TEST(ParanoiaReader, CancellationStopsWithinASector) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd;
    auto source = CdSource::open_cue(cd.cue);
    ParanoiaReader reader(*source, {});
    std::stop_source stop;
    std::uint64_t blocks = 0;
    std::uint64_t samples = 0;
    TrackReadStats stats = reader.read_track(
        2,
        [&](std::span<const std::int16_t> b) {
            ++blocks;
            samples += b.size() / 2;
            if (blocks == 3) {
                stop.request_stop();
            }
        },
        stop.get_token());
    EXPECT_TRUE(stats.cancelled);
    EXPECT_EQ(blocks, 3u);
    EXPECT_EQ(stats.samples, samples);
    EXPECT_EQ(samples, 3u * kCdSamplesPerFrame);
    // The reader still works after a cancelled read.
    EXPECT_TRUE(same_samples(read_track(reader, 2), expected_track(cd, cd.truth["tracks"][1])));
}

// An enhanced CD as a cue: the audio tracks, then a data track. The data track is listed with
// audio=false and the audio tracks still read bit-exactly.
TEST(CdSource, DataTrackOfAnEnhancedCdIsNotAudio) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd;
    test::TempDir dir;
    std::vector<char> bin = cd.bytes;
    bin.resize(bin.size() + 300 * kCdFrameBytes, 'D');
    std::ofstream(dir / cd.bin.filename(), std::ios::binary)
        .write(bin.data(), static_cast<long>(bin.size()));
    std::ifstream in(cd.cue, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto leadout = cd.truth["leadout"].get<std::uint32_t>();
    text += "  TRACK 05 MODE1/2352\n    INDEX 01 " +
            fmt::format("{:02}:{:02}:{:02}", leadout / 4500, leadout / 75 % 60, leadout % 75) +
            "\n";
    std::ofstream(dir / "enhanced.cue", std::ios::binary) << text;

    auto source = CdSource::open_cue(dir / "enhanced.cue");
    const CdToc& toc = source->toc();
    ASSERT_EQ(toc.tracks.size(), 5u);
    EXPECT_FALSE(toc.tracks[4].audio);
    EXPECT_EQ(toc.tracks[4].start, leadout);
    EXPECT_EQ(toc.audio_tracks().size(), 4u);
    ParanoiaReader reader(*source, {});
    EXPECT_TRUE(same_samples(read_track(reader, 1), expected_track(cd, cd.truth["tracks"][0])));
    EXPECT_THROW(read_track(reader, 5), AudioError);
}

TEST(CdSource, MissingBinIsAnAudioErrorNamingIt) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd;
    test::TempDir dir;
    std::filesystem::copy_file(cd.cue, dir / cd.cue.filename());
    try {
        CdSource::open_cue(dir / cd.cue.filename());
        FAIL() << "opened a cue without its BIN";
    } catch (const AudioError& e) {
        EXPECT_NE(std::string(e.what()).find((dir / cd.bin.filename()).string()), std::string::npos)
            << e.what();
    }
}

TEST(CdSource, ShortBinIsAnAudioErrorNamingIt) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd;
    test::TempDir dir;
    std::filesystem::copy_file(cd.cue, dir / cd.cue.filename());
    // Cut inside track 3: track 4 starts past the BIN's end.
    std::ofstream(dir / cd.bin.filename(), std::ios::binary)
        .write(cd.bytes.data(), cd.truth["tracks"][2]["offset"].get<long>() + 10 * kCdFrameBytes);
    try {
        CdSource::open_cue(dir / cd.cue.filename());
        FAIL() << "opened a cue with a short BIN";
    } catch (const AudioError& e) {
        std::string what = e.what();
        EXPECT_NE(what.find((dir / cd.bin.filename()).string()), std::string::npos) << what;
        EXPECT_NE(what.find("track 4"), std::string::npos) << what;
    }
}

TEST(CdSource, GarbageCueIsAnAudioErrorNamingIt) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd;
    test::TempDir dir;
    std::filesystem::copy_file(cd.bin, dir / "garbage.bin");
    for (std::string text :
         {std::string("this is not a cue sheet\n\x01\x02\xff\n"),
          std::string("FILE \"garbage.bin\" BINARY\n  TRACK 01 AUDIO\n    INDEX 01 xx:yy\n")}) {
        SCOPED_TRACE(text);
        std::ofstream(dir / "garbage.cue", std::ios::binary) << text;
        try {
            CdSource::open_cue(dir / "garbage.cue");
            FAIL() << "opened a garbage cue";
        } catch (const AudioError& e) {
            EXPECT_NE(std::string(e.what()).find((dir / "garbage.cue").string()), std::string::npos)
                << e.what();
        }
    }
}

TEST(CdSource, NoDriveIsAnAudioErrorNamingIt) {
    try {
        CdSource::open_drive("/dev/freemkv-no-such-drive");
        FAIL() << "opened a drive that does not exist";
    } catch (const AudioError& e) {
        EXPECT_NE(std::string(e.what()).find("/dev/freemkv-no-such-drive"), std::string::npos)
            << e.what();
    }
}

TEST(ParanoiaReader, ModeNamesParseAndOthersAreRefused) {
    EXPECT_EQ(parse_paranoia_mode("full"), ParanoiaMode::full);
    EXPECT_EQ(parse_paranoia_mode("overlap"), ParanoiaMode::overlap);
    EXPECT_EQ(parse_paranoia_mode("off"), ParanoiaMode::off);
    EXPECT_THROW(parse_paranoia_mode("paranoid"), AudioError);
}

// The fd form: the cue and BIN come as descriptors; the BIN is renamed away and unlinked, and in
// a child that may not open it again (by path or /proc/self/fd) the reads are still bit-exact.
TEST(CdSource, DescriptorFormReadsTheSameSamplesWithoutReopeningTheBin) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd;
    test::TempDir dir;
    std::filesystem::copy_file(cd.cue, dir / "client.cue");
    std::filesystem::copy_file(cd.bin, dir / "client.bin");
    int cue_fd = ::open((dir / "client.cue").c_str(), O_RDONLY | O_CLOEXEC);
    int bin_fd = ::open((dir / "client.bin").c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(cue_fd, 0);
    ASSERT_GE(bin_fd, 0);
    std::filesystem::rename(dir / "client.bin", dir / "moved.bin");

    std::string failure = test::without_reopen_rights(dir / "moved.bin", [&] {
        auto source = CdSource::open_cue_fds(cue_fd, bin_fd, "client.cue");
        if (source->toc().tracks.size() != cd.truth["tracks"].size()) {
            return false;
        }
        ParanoiaReader reader(*source, {});
        for (const auto& t : cd.truth["tracks"]) {
            if (!same_samples(read_track(reader, t["number"].get<int>()), expected_track(cd, t))) {
                return false;
            }
        }
        return source->toc().tracks[1].isrc == cd.truth["tracks"][1]["isrc"].get<std::string>();
    });
    EXPECT_EQ(failure, "");

    // Unlinked too: the descriptors are all there is.
    std::filesystem::remove(dir / "moved.bin");
    auto source = CdSource::open_cue_fds(cue_fd, bin_fd, "client.cue");
    ParanoiaReader reader(*source, {});
    const auto& last = cd.truth["tracks"].back();
    EXPECT_TRUE(
        same_samples(read_track(reader, last["number"].get<int>()), expected_track(cd, last)));
    // The caller's descriptors stay open and where they were.
    EXPECT_EQ(::lseek(cue_fd, 0, SEEK_CUR), 0);
    EXPECT_EQ(::lseek(bin_fd, 0, SEEK_CUR), 0);
    ::close(cue_fd);
    ::close(bin_fd);
}

TEST(CdSource, DescriptorFormNamesTheImageInItsErrors) {
    test::TempDir dir;
    std::ofstream(dir / "bad.cue") << "nothing here\n";
    std::ofstream(dir / "bad.bin") << "x";
    int cue_fd = ::open((dir / "bad.cue").c_str(), O_RDONLY | O_CLOEXEC);
    int bin_fd = ::open((dir / "bad.bin").c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(cue_fd, 0);
    ASSERT_GE(bin_fd, 0);
    try {
        CdSource::open_cue_fds(cue_fd, bin_fd, "client's bad.cue");
        FAIL() << "opened a garbage cue";
    } catch (const AudioError& e) {
        EXPECT_NE(std::string(e.what()).find("client's bad.cue"), std::string::npos) << e.what();
    }
    ::close(cue_fd);
    ::close(bin_fd);
}

}  // namespace
}  // namespace freemkv
