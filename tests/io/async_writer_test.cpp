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
    // Data written before the failure is still in the file; what failed is told apart.
    EXPECT_EQ(read_file(out.part_path()), data);
    EXPECT_THROW(writer.close(), IoError);
    auto lost = writer.unwritten();
    ASSERT_FALSE(lost.empty());
    EXPECT_EQ(lost.front().offset, too_far);
    EXPECT_EQ(lost.front().size, data.size());
    for (const AsyncWriter::Extent& e : lost) {
        EXPECT_GE(e.offset, too_far) << "the first MiB reached the file";
    }
}

// Small writes at scattered offsets (a repair pass) each fill a block buffer of their own. The
// bound is on that memory, not on the bytes written: otherwise 64 MiB of 2 KiB writes would hold
// 32768 buffers of 1 MiB.
TEST(AsyncWriter, ManySmallScatteredWritesAreBoundedByTheMemoryTheyHold) {
    TempDir dir;
    BufferConfig buffer{.buffer_bytes = 4 * MiB, .block_bytes = 1 * MiB};
    OutputFile out(dir / "s.iso", small_chunks());
    AsyncWriter writer(out, buffer);
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    writer.post([released] { released.wait(); });  // a stuck disk
    constexpr int kWrites = 64;
    constexpr std::uint64_t kStride = 64 * 1024;
    auto sector = random_bytes(2048, 15);
    std::atomic<int> done{0};
    std::thread producer([&] {
        for (int i = 0; i < kWrites; ++i) {
            writer.write_at(static_cast<std::uint64_t>(i) * kStride, sector);
            ++done;
        }
    });
    // Either the producer waits for room or it got through everything without waiting.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (writer.stats().blocked_count == 0 && done < kWrites &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    int before_release = done;
    bool blocked = writer.stats().blocked_count > 0;
    release.set_value();
    producer.join();
    writer.close();
    EXPECT_TRUE(blocked) << before_release << " scattered writes taken with the disk stuck";
    EXPECT_LE(before_release, 4) << "4 MiB hold four 1 MiB blocks";
    EXPECT_LE(writer.stats().peak_buffered, buffer.buffer_bytes);
    auto file = read_file(out.part_path());
    ASSERT_EQ(file.size(), (kWrites - 1) * kStride + sector.size());
    for (int i = 0; i < kWrites; ++i) {
        auto at = file.begin() + static_cast<std::ptrdiff_t>(i * kStride);
        ASSERT_TRUE(std::equal(sector.begin(), sector.end(), at)) << "write " << i;
    }
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
