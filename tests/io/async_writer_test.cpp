#include "async_writer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <random>
#include <thread>

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

// A writer held up (a posted action that waits) lets the producer fill the buffer, then blocks
// it: the producer never gets more than buffer_bytes ahead, and resumes once the writer drains.
TEST(AsyncWriter, AProducerAheadOfAStalledWriterBlocksAtTheBufferBound) {
    TempDir dir;
    const BufferConfig buffer{.buffer_bytes = 4 * MiB, .block_bytes = 1 * MiB};
    auto data = random_bytes(12 * MiB, 15);
    OutputFile out(dir / "b.iso", small_chunks());
    AsyncWriter writer(out, buffer);
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    writer.post([released] { released.wait(); });
    std::atomic<std::size_t> written{0};
    std::jthread producer([&] {
        for (std::size_t off = 0; off < data.size(); off += buffer.block_bytes) {
            writer.write(std::span(data).subspan(off, buffer.block_bytes));
            written = off + buffer.block_bytes;
        }
    });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (written < buffer.buffer_bytes && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(written.load(), buffer.buffer_bytes) << "the producer ran past the bound";
    release.set_value();
    producer.join();
    writer.close();
    ProducerStats stats = writer.stats();
    EXPECT_GE(stats.blocked_count, 1u);
    EXPECT_LE(stats.peak_buffered, buffer.buffer_bytes);
    EXPECT_EQ(read_file(out.part_path()), data);
}

// A posted action runs after every byte written before it is in the file, before any byte
// written after it, and actions run in the order they were posted.
TEST(AsyncWriter, PostedActionsSeeExactlyTheDataWrittenBeforeThem) {
    TempDir dir;
    auto data = random_bytes(9 * MiB + 4321, 16);
    OutputFile out(dir / "p.iso", small_chunks());
    std::vector<std::size_t> cuts;  // where each action was posted
    std::vector<std::size_t> seen;  // the file's size when each action ran (writer thread)
    bool prefix_ok = true;
    {
        AsyncWriter writer(out, BufferConfig{.buffer_bytes = 3 * MiB, .block_bytes = 512 * 1024});
        std::mt19937_64 rng(17);
        std::size_t off = 0;
        while (off < data.size()) {
            std::size_t n = std::min<std::size_t>(1 + rng() % (700 * 1024), data.size() - off);
            writer.write(std::span(data).subspan(off, n));
            off += n;
            cuts.push_back(off);
            writer.post([&, off] {
                auto now = read_file(out.part_path());
                seen.push_back(now.size());
                prefix_ok =
                    prefix_ok && now.size() >= off &&
                    std::equal(now.begin(), now.begin() + std::ptrdiff_t(off), data.begin());
            });
        }
        writer.close();
    }
    EXPECT_EQ(seen, cuts) << "an action saw data written after it, or ran out of order";
    EXPECT_TRUE(prefix_ok) << "an action saw data that was not what was written before it";
}

TEST(AsyncWriter, RejectsABufferSmallerThanTwoBlocks) {
    TempDir dir;
    OutputFile out(dir / "w.iso", small_chunks());
    EXPECT_THROW(AsyncWriter(out, BufferConfig{.buffer_bytes = 1 * MiB, .block_bytes = 1 * MiB}),
                 std::invalid_argument);
}

}  // namespace
}  // namespace freemkv
