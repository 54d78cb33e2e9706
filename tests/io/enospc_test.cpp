// Filling a real filesystem: a tiny ext4 on a loop device. Needs root; runs serially.

#include <gtest/gtest.h>

#include "async_writer.hpp"
#include "io_error.hpp"
#include "output_file.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using test::LoopExt4;
using test::random_bytes;

PolicyConfig small_chunks() {
    PolicyConfig c;
    c.min_bytes = 1 * MiB;
    c.start_bytes = 4 * MiB;
    return c;
}

void expect_enospc(const IoError& e, const std::filesystem::path& part) {
    EXPECT_EQ(e.code(), std::errc::no_space_on_device) << e.what();
    EXPECT_EQ(e.path(), part);
    EXPECT_GT(e.offset(), 0u);
    std::string what = e.what();
    EXPECT_NE(what.find(part.string()), std::string::npos) << what;
    EXPECT_NE(what.find("offset " + std::to_string(e.offset())), std::string::npos) << what;
}

TEST(DiskFull, OutputFileFailsNamingPathAndOffsetAndKeepsThePart) {
    FREEMKV_REQUIRE_ROOT();
    LoopExt4 fs(16 * MiB);
    auto final_path = fs.mount_point() / "disc.iso";
    auto block = random_bytes(1 * MiB, 21);
    OutputFile out(final_path, small_chunks());
    bool failed = false;
    for (int i = 0; i < 64 && !failed; ++i) {
        try {
            out.write(block);
        } catch (const IoError& e) {
            expect_enospc(e, out.part_path());
            failed = true;
        }
    }
    EXPECT_TRUE(failed) << "64 MiB fitted on a 16 MiB filesystem";
    EXPECT_TRUE(std::filesystem::exists(out.part_path()));
    EXPECT_FALSE(std::filesystem::exists(final_path));
    EXPECT_GT(std::filesystem::file_size(out.part_path()), 0u);
}

TEST(DiskFull, AsyncWriterReportsItToTheProducer) {
    FREEMKV_REQUIRE_ROOT();
    LoopExt4 fs(16 * MiB);
    auto final_path = fs.mount_point() / "disc.iso";
    auto block = random_bytes(1 * MiB, 22);
    OutputFile out(final_path, small_chunks());
    AsyncWriter writer(out, BufferConfig{.buffer_bytes = 8 * MiB, .block_bytes = 1 * MiB});
    try {
        for (int i = 0; i < 64; ++i) {
            writer.write(block);
        }
        writer.close();
        FAIL() << "64 MiB fitted on a 16 MiB filesystem";
    } catch (const IoError& e) {
        expect_enospc(e, out.part_path());
    }
    EXPECT_THROW(out.publish(), IoError) << "a failed file must not be published";
    EXPECT_FALSE(std::filesystem::exists(final_path));
    EXPECT_TRUE(std::filesystem::exists(out.part_path()));
}

}  // namespace
}  // namespace freemkv
