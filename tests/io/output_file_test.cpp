#include "output_file.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "io_error.hpp"
#include "page_cache.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using test::random_bytes;
using test::read_file;
using test::TempDir;

PolicyConfig fixed_chunk(std::uint64_t bytes) {
    PolicyConfig c;
    c.kind = PolicyKind::fixed;
    c.min_bytes = 1 * MiB;
    c.start_bytes = bytes;
    return c;
}

std::span<const std::byte> slice(const std::vector<std::byte>& v, std::size_t off, std::size_t n) {
    return std::span(v).subspan(off, n);
}

TEST(OutputFile, SequentialRandomSizesAreByteIdentical) {
    TempDir dir;
    auto data = random_bytes(48 * MiB + 12345, 1);
    std::mt19937_64 rng(2);
    {
        OutputFile out(dir / "disc.iso", fixed_chunk(2 * MiB));
        std::size_t off = 0;
        while (off < data.size()) {
            std::size_t n = std::min<std::size_t>(1 + rng() % (3 * MiB), data.size() - off);
            out.write(slice(data, off, n));
            off += n;
        }
        EXPECT_EQ(out.position(), data.size());
        out.publish();
    }
    EXPECT_EQ(read_file(dir / "disc.iso"), data);
}

TEST(OutputFile, OffsetsAndSeeksAreByteIdentical) {
    TempDir dir;
    auto data = random_bytes(24 * MiB, 3);
    // Write 64 segments in shuffled order, then rewrite a few at random offsets.
    std::size_t seg = data.size() / 64;
    std::vector<std::size_t> order(64);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(4);
    std::shuffle(order.begin(), order.end(), rng);
    {
        OutputFile out(dir / "disc.iso", fixed_chunk(1 * MiB));
        for (std::size_t i : order) {
            out.write_at(i * seg, slice(data, i * seg, seg));
        }
        for (int i = 0; i < 20; ++i) {
            std::size_t off = rng() % (data.size() - 100000);
            std::size_t n = 1 + rng() % 100000;
            out.write_at(off, slice(data, off, n));
        }
        out.publish();
    }
    EXPECT_EQ(read_file(dir / "disc.iso"), data);
}

// Records the page cache residency of the file while it is being written.
class ResidencyProbe : public WritebackObserver {
  public:
    explicit ResidencyProbe(std::filesystem::path path) : path_(std::move(path)) {}
    void on_chunk(const ChunkEvent& e) override {
        ++chunks;
        peak = std::max(peak, cached_bytes(path_));
        EXPECT_EQ(e.offset, next_offset) << "chunks are contiguous";
        next_offset = e.offset + e.length;
    }
    std::size_t peak = 0;
    std::uint64_t next_offset = 0;
    int chunks = 0;

  private:
    std::filesystem::path path_;
};

TEST(OutputFile, PageCacheStaysNearTwoChunks) {
    TempDir dir;
    const std::uint64_t chunk = 8 * MiB;
    const std::size_t block = 1 * MiB;
    auto data = random_bytes(block, 5);
    ResidencyProbe probe(dir / "big.iso.part");
    OutputFile out(dir / "big.iso", fixed_chunk(chunk), OutputFile::Mode::truncate, &probe);
    for (int i = 0; i < 256; ++i) {
        out.write(data);
    }
    out.finalize();
    EXPECT_EQ(probe.chunks, 256 * MiB / chunk);
    // At each chunk boundary: the chunk just kicked and the one before it were just
    // finalised; nothing older may stay. The kernel may keep a few pages (read-around).
    EXPECT_LE(probe.peak, 2 * chunk + 1 * MiB);
    EXPECT_LE(cached_bytes(out.part_path()), 2 * chunk)
        << "after finalize the file must not stay in the page cache";
}

TEST(OutputFile, FinalizeAndPublishAreIdempotent) {
    TempDir dir;
    auto data = random_bytes(5 * MiB, 6);
    OutputFile out(dir / "a.iso", fixed_chunk(1 * MiB));
    out.write(data);
    out.finalize();
    out.finalize();
    out.publish();
    out.publish();
    out.finalize();
    EXPECT_TRUE(out.published());
    EXPECT_EQ(read_file(dir / "a.iso"), data);
}

TEST(OutputFile, IsAPartFileUntilPublished) {
    TempDir dir;
    auto data = random_bytes(3 * MiB, 7);
    {
        OutputFile out(dir / "b.iso", fixed_chunk(1 * MiB));
        out.write(data);
        EXPECT_TRUE(std::filesystem::exists(dir / "b.iso.part"));
        EXPECT_FALSE(std::filesystem::exists(dir / "b.iso"));
        out.publish();
        EXPECT_FALSE(std::filesystem::exists(dir / "b.iso.part"));
        EXPECT_TRUE(std::filesystem::exists(dir / "b.iso"));
    }
    {
        OutputFile out(dir / "c.iso", fixed_chunk(1 * MiB));
        out.write(data);
    }  // abandoned: never presented as complete
    EXPECT_FALSE(std::filesystem::exists(dir / "c.iso"));
    EXPECT_EQ(read_file(dir / "c.iso.part"), data);
}

TEST(OutputFile, ResumeContinuesAtTheEndOfThePart) {
    TempDir dir;
    auto data = random_bytes(9 * MiB, 8);
    {
        OutputFile out(dir / "d.iso", fixed_chunk(1 * MiB));
        out.write(slice(data, 0, 4 * MiB));
    }
    OutputFile out(dir / "d.iso", fixed_chunk(1 * MiB), OutputFile::Mode::resume);
    EXPECT_EQ(out.position(), 4 * MiB);
    out.write(slice(data, 4 * MiB, 5 * MiB));
    out.publish();
    EXPECT_EQ(read_file(dir / "d.iso"), data);
}

TEST(OutputFile, PublishNeverReplacesAnExistingFile) {
    TempDir dir;
    auto old_data = random_bytes(1000, 9);
    {
        OutputFile first(dir / "e.iso", fixed_chunk(1 * MiB));
        first.write(old_data);
        first.publish();
    }
    OutputFile second(dir / "e.iso", fixed_chunk(1 * MiB));
    second.write(random_bytes(2000, 10));
    try {
        second.publish();
        FAIL() << "publish replaced an existing file";
    } catch (const IoError& e) {
        EXPECT_EQ(e.code(), std::errc::file_exists);
        EXPECT_NE(std::string(e.what()).find("e.iso"), std::string::npos) << e.what();
    }
    EXPECT_EQ(read_file(dir / "e.iso"), old_data);
    EXPECT_TRUE(std::filesystem::exists(dir / "e.iso.part"));
}

TEST(OutputFile, OpenErrorNamesThePath) {
    TempDir dir;
    try {
        OutputFile out(dir / "missing" / "f.iso", fixed_chunk(1 * MiB));
        FAIL() << "opened a file in a missing directory";
    } catch (const IoError& e) {
        EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
        EXPECT_NE(std::string(e.what()).find("missing/f.iso.part"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace freemkv
