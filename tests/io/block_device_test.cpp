// block_device_bytes on a loop device (needs root; runs serially) and on what is not a device.

#include "block_device.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

#include "io_error.hpp"
#include "support/test_support.hpp"
#include "unique_fd.hpp"

namespace freemkv {
namespace {

using test::LoopDevice;
using test::random_bytes;
using test::TempDir;
using test::write_file;

TEST(BlockDevice, SizeOfALoopDevice) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    write_file(dir / "disc.img", random_bytes(3 * 1024 * 1024, 1));
    LoopDevice loop(dir / "disc.img");
    UniqueFd fd(::open(loop.device().c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd) << loop.device();
    EXPECT_EQ(block_device_bytes(fd.get(), loop.device()), 3u * 1024 * 1024);
}

TEST(BlockDevice, ARegularFileIsNotOneAndTheErrorNamesIt) {
    TempDir dir;
    write_file(dir / "disc.img", random_bytes(4096, 2));
    UniqueFd fd(::open((dir / "disc.img").c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd);
    try {
        block_device_bytes(fd.get(), dir / "disc.img");
        FAIL() << "a regular file has a block device size";
    } catch (const IoError& e) {
        EXPECT_EQ(e.code().value(), ENOTTY);
        EXPECT_EQ(e.path(), dir / "disc.img");
        EXPECT_EQ(std::string(e.what()), "get size (BLKGETSIZE64) of " +
                                             (dir / "disc.img").string() +
                                             " at offset 0: Inappropriate ioctl for device");
    }
}

}  // namespace
}  // namespace freemkv
