#include "flac_writer.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <numbers>
#include <random>

#include "audio_error.hpp"
#include "io_error.hpp"
#include "support/test_support.hpp"
#include "unique_fd.hpp"

namespace freemkv {
namespace {

using test::run;
using test::TempDir;

std::string q(const std::filesystem::path& p) {
    return "'" + p.string() + "'";
}

void put(std::vector<std::byte>& pcm, int left, int right) {
    for (int v : {left, right}) {
        auto u = static_cast<std::uint16_t>(static_cast<std::int16_t>(v));
        pcm.push_back(std::byte(u & 0xff));
        pcm.push_back(std::byte(u >> 8));
    }
}

// Interleaved little-endian 16-bit stereo: a sine (440 Hz left, 660 Hz right) for `sine`
// samples, then seeded noise over the whole 16-bit range for `noise` samples.
std::vector<std::byte> make_pcm(std::size_t sine, std::size_t noise, std::uint64_t seed) {
    std::vector<std::byte> pcm;
    pcm.reserve((sine + noise) * 4);
    for (std::size_t i = 0; i < sine; ++i) {
        double t = static_cast<double>(i) / 44100.0;
        put(pcm, static_cast<int>(12000 * std::sin(2 * std::numbers::pi * 440 * t)),
            static_cast<int>(-9000 * std::sin(2 * std::numbers::pi * 660 * t)));
    }
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> dist(-32768, 32767);
    for (std::size_t i = 0; i < noise; ++i) {
        int l = dist(rng);
        put(pcm, l, dist(rng));
    }
    return pcm;
}

// Feeds `pcm` in blocks of odd, changing sizes, some ending inside a sample.
void feed(FlacWriter& writer, const std::vector<std::byte>& pcm) {
    const std::size_t sizes[] = {1, 3, 4093, 7, 10007, 2, 65537, 5};
    std::size_t i = 0;
    for (std::size_t k = 0; i < pcm.size(); ++k) {
        std::size_t n = std::min(sizes[k % std::size(sizes)], pcm.size() - i);
        writer.write(std::span(pcm).subspan(i, n));
        i += n;
    }
}

class ChunkCounter : public WritebackObserver {
  public:
    void on_chunk(const ChunkEvent& e) override {
        ++chunks;
        bytes += e.length;
    }
    int chunks = 0;
    std::uint64_t bytes = 0;
};

PolicyConfig small_chunks() {
    PolicyConfig c;
    c.min_bytes = 1 * MiB;
    c.start_bytes = 1 * MiB;
    return c;
}

FlacTags album_tags() {
    FlacTags t;
    t.title = "Jóga — 東京";
    t.artist = "Björk";
    t.album = "Homogenic";
    t.album_artist = "Björk";
    t.track_number = 3;
    t.track_total = 10;
    t.musicbrainz_discid = "xUp1F2NkfP8s8jaeFn_Av3jNEI4-";
    t.musicbrainz_albumid = "b8c1c9a0-3b5b-4ea3-8a4e-0e5b3d7b9d1a";
    t.isrc = "GBAAA9700001";
    t.date = "1997";
    t.extra = {{"ACCURATERIP_V2", "0x1a2b3c4d"}, {"read errors", "no"}};
    return t;
}

std::uint64_t samples_of(const std::vector<std::byte>& pcm) {
    return pcm.size() / 4;
}

TEST(FlacWriter, DecodesBitIdenticalThroughTheOutputFilesPipeline) {
    TempDir dir;
    auto pcm = make_pcm(44100 + 1234, 7 * 44100 + 77, 1);  // not a multiple of 4096 samples
    auto flac = dir / "03 - Jóga.flac";
    ChunkCounter observer;
    OutputFile out(flac, small_chunks(), OutputFile::Mode::truncate, &observer);
    FlacWriter writer(out, samples_of(pcm), album_tags());
    feed(writer, pcm);
    writer.finish();
    EXPECT_EQ(writer.samples_written(), samples_of(pcm));
    // Written as the OutputFile's .part, through its pipeline: chunks crossed, nothing published.
    EXPECT_FALSE(std::filesystem::exists(flac));
    EXPECT_GE(observer.chunks, 1) << "the pipeline saw no chunk of a >1 MiB FLAC";
    out.publish();
    ASSERT_TRUE(std::filesystem::exists(flac));
    EXPECT_GT(std::filesystem::file_size(flac), 1 * MiB);

    run("flac -s -t " + q(flac));
    auto raw = dir / "out.raw";
    run("flac -s -d -f --force-raw-format --endian=little --sign=signed -o " + q(raw) + " " +
        q(flac));
    EXPECT_TRUE(test::read_file(raw) == pcm) << "decoded PCM differs from the input";
    EXPECT_EQ(run("metaflac --show-total-samples " + q(flac)),
              std::to_string(samples_of(pcm)) + "\n");
    EXPECT_EQ(run("metaflac --show-sample-rate --show-channels --show-bps " + q(flac)),
              "44100\n2\n16\n");
}

TEST(FlacWriter, WritesTheTagsExactlyWithPaddingAfterThem) {
    TempDir dir;
    auto pcm = make_pcm(3000, 0, 2);
    auto flac = dir / "t.flac";
    OutputFile out(flac, PolicyConfig{});
    auto tags = album_tags();
    tags.extra.emplace_back("BAD=KEY\x01", "line\nbreak \xff end");
    tags.extra.emplace_back("EMPTY", "");
    FlacWriter writer(out, samples_of(pcm), tags);
    feed(writer, pcm);
    writer.finish();
    out.publish();
    EXPECT_EQ(run("metaflac --export-tags-to=- " + q(flac)),
              "TITLE=Jóga — 東京\n"
              "ARTIST=Björk\n"
              "ALBUM=Homogenic\n"
              "ALBUMARTIST=Björk\n"
              "TRACKNUMBER=3\n"
              "TRACKTOTAL=10\n"
              "MUSICBRAINZ_DISCID=xUp1F2NkfP8s8jaeFn_Av3jNEI4-\n"
              "MUSICBRAINZ_ALBUMID=b8c1c9a0-3b5b-4ea3-8a4e-0e5b3d7b9d1a\n"
              "ISRC=GBAAA9700001\n"
              "DATE=1997\n"
              "ACCURATERIP_V2=0x1a2b3c4d\n"
              "read errors=no\n"
              "BAD_KEY_=line break \xef\xbf\xbd end\n");
    auto blocks = run("metaflac --list --block-type=PADDING " + q(flac));
    EXPECT_NE(blocks.find("length: 8192"), std::string::npos) << blocks;
    run("flac -s -t " + q(flac));
    // The padding takes a tag edit in place: the file keeps its size.
    auto size = std::filesystem::file_size(flac);
    run("metaflac --set-tag='COMMENT=edited later, in the padding' " + q(flac));
    EXPECT_EQ(std::filesystem::file_size(flac), size);
    EXPECT_NE(run("metaflac --export-tags-to=- " + q(flac)).find("COMMENT=edited later"),
              std::string::npos);
}

TEST(FlacWriter, LeavesOutTagsWithoutAValue) {
    TempDir dir;
    auto flac = dir / "t.flac";
    OutputFile out(flac, PolicyConfig{});
    FlacTags tags;
    tags.title = "Track 01";
    tags.track_number = 1;
    FlacWriter writer(out, 588, tags);
    writer.write(std::vector<std::byte>(588 * 4));
    writer.finish();
    out.publish();
    EXPECT_EQ(run("metaflac --export-tags-to=- " + q(flac)), "TITLE=Track 01\nTRACKNUMBER=1\n");
}

TEST(FlacWriter, CompressionLevelIsApplied) {
    TempDir dir;
    auto pcm = make_pcm(5 * 44100, 0, 3);
    std::uint64_t sizes[2] = {};
    for (int level : {0, 8}) {
        auto flac = dir / ("l" + std::to_string(level) + ".flac");
        OutputFile out(flac, PolicyConfig{});
        FlacWriter writer(out, samples_of(pcm), {}, FlacOptions{.compression_level = level});
        feed(writer, pcm);
        writer.finish();
        out.publish();
        sizes[level / 8] = std::filesystem::file_size(flac);
        run("flac -s -t " + q(flac));
    }
    EXPECT_LT(sizes[1], sizes[0]) << "level 8 is not smaller than level 0";
}

void expect_error_naming(const std::function<void()>& f, const std::string& name,
                         const std::string& text) {
    try {
        f();
        ADD_FAILURE() << "no AudioError";
    } catch (const AudioError& e) {
        std::string what = e.what();
        EXPECT_NE(what.find(name), std::string::npos) << what;
        EXPECT_NE(what.find(text), std::string::npos) << what;
    }
}

TEST(FlacWriter, InvalidOptionsAndSampleCountsThrowNamingTheFile) {
    TempDir dir;
    auto flac = dir / "named.flac";
    OutputFile out(flac, PolicyConfig{});
    expect_error_naming([&] { FlacWriter w(out, 588, {}, FlacOptions{.compression_level = 9}); },
                        "named.flac", "compression level 9");
    FlacTags empty_key;
    empty_key.extra = {{"", "x"}};
    expect_error_naming([&] { FlacWriter w(out, 588, empty_key); }, "named.flac", "empty key");
    expect_error_naming(
        [&] {
            FlacWriter w(out, 10, {});
            w.write(std::vector<std::byte>(11 * 4));
        },
        "named.flac", "more than the announced 10 samples");
    expect_error_naming(
        [&] {
            FlacWriter w(out, 10, {});
            w.write(std::vector<std::byte>(9 * 4));
            w.finish();
        },
        "named.flac", "9 samples came, 10 were announced");
    expect_error_naming(
        [&] {
            FlacWriter w(out, 10, {});
            w.write(std::vector<std::byte>(10 * 4 + 1));
            w.finish();
        },
        "named.flac", "1 bytes left over");
}

TEST(FlacWriter, FullDiskThrowsAudioErrorNamingTheFile) {
    FREEMKV_REQUIRE_ROOT();
    test::LoopExt4 fs(16 * MiB);
    struct statvfs st {};
    ASSERT_EQ(::statvfs(fs.mount_point().c_str(), &st), 0);
    // Leave 1 MiB free, then write 10 s of noise (~1.7 MB of FLAC).
    auto free_bytes = static_cast<std::uint64_t>(st.f_bfree) * st.f_frsize;
    ASSERT_GT(free_bytes, 2 * MiB);
    {
        UniqueFd filler(::open((fs.mount_point() / "filler").c_str(), O_CREAT | O_WRONLY, 0600));
        ASSERT_GE(filler.get(), 0);
        ASSERT_EQ(::posix_fallocate(filler.get(), 0, static_cast<off_t>(free_bytes - 1 * MiB)), 0);
    }
    auto flac = fs.mount_point() / "01 - Full.flac";
    auto pcm = make_pcm(0, 10 * 44100, 4);
    OutputFile out(flac, small_chunks());
    expect_error_naming(
        [&] {
            FlacWriter writer(out, samples_of(pcm), {});
            feed(writer, pcm);
            writer.finish();
        },
        flac.string(), "No space left on device");
    EXPECT_THROW(out.publish(), IoError) << "a FLAC whose write failed was published";
    EXPECT_FALSE(std::filesystem::exists(flac));
}

}  // namespace
}  // namespace freemkv
