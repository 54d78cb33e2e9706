#include "async_writer.hpp"

#include <gtest/gtest.h>

#include <random>

#include "io_error.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using test::random_bytes;
using test::read_file;
using test::TempDir;

PolicyConfig small_chunks() {
    PolicyConfig c;
    c.min_bytes = 1 * MiB;
    c.start_bytes = 2 * MiB;
    return c;
}

TEST(AsyncWriter, RandomWritesAndASeekAreByteIdentical) {
    TempDir dir;
    auto data = random_bytes(40 * MiB + 777, 11);
    std::mt19937_64 rng(12);
    BufferConfig buffer{.buffer_bytes = 4 * MiB, .block_bytes = 256 * 1024};
    ProducerStats stats;
    {
        OutputFile out(dir / "x.iso", small_chunks());
        AsyncWriter writer(out, buffer);
        // The first MiB is written last, at an offset, to exercise a seek.
        std::size_t off = 1 * MiB;
        while (off < data.size()) {
            std::size_t n = std::min<std::size_t>(1 + rng() % (600 * 1024), data.size() - off);
            writer.write_at(off, std::span(data).subspan(off, n));
            off += n;
        }
        writer.write_at(0, std::span(data).subspan(0, 1 * MiB));
        writer.close();
        stats = writer.stats();
        out.publish();
    }
    EXPECT_EQ(read_file(dir / "x.iso"), data);
    EXPECT_LE(stats.peak_buffered, buffer.buffer_bytes);
    EXPECT_GT(stats.peak_buffered, 0u);
}

TEST(AsyncWriter, FlushMakesDataVisibleInTheFile) {
    TempDir dir;
    auto data = random_bytes(3 * MiB, 13);
    OutputFile out(dir / "y.iso", small_chunks());
    AsyncWriter writer(out, BufferConfig{});
    writer.write(data);
    writer.flush();
    EXPECT_EQ(out.position(), data.size());
    EXPECT_EQ(read_file(out.part_path()), data);
}

TEST(AsyncWriter, WriterErrorReachesTheProducerWithPathAndOffset) {
    TempDir dir;
    OutputFile out(dir / "z.iso", small_chunks());
    AsyncWriter writer(out, BufferConfig{.buffer_bytes = 2 * MiB, .block_bytes = 1 * MiB});
    auto data = random_bytes(1 * MiB, 14);
    writer.write(data);
    // Far beyond the largest file any Linux filesystem takes: the writer thread gets EFBIG.
    const std::uint64_t too_far = std::uint64_t{1} << 62;
    writer.write_at(too_far, data);
    try {
        writer.flush();
        for (int i = 0; i < 8; ++i) {
            writer.write(data);
        }
        FAIL() << "the writer's error was lost";
    } catch (const IoError& e) {
        EXPECT_TRUE(e.code() == std::errc::file_too_large ||
                    e.code() == std::errc::invalid_argument)
            << e.what();
        EXPECT_EQ(e.path(), out.part_path());
        EXPECT_EQ(e.offset(), too_far);
    }
    // Data written before the failure is still in the file.
    EXPECT_EQ(read_file(out.part_path()), data);
    EXPECT_THROW(writer.close(), IoError);
}

TEST(AsyncWriter, RejectsABufferSmallerThanTwoBlocks) {
    TempDir dir;
    OutputFile out(dir / "w.iso", small_chunks());
    EXPECT_THROW(AsyncWriter(out, BufferConfig{.buffer_bytes = 1 * MiB, .block_bytes = 1 * MiB}),
                 std::invalid_argument);
}

}  // namespace
}  // namespace freemkv
