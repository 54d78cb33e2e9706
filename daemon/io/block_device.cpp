#include "block_device.hpp"

#include <linux/fs.h>
#include <sys/ioctl.h>

#include <cerrno>

#include "io_error.hpp"

namespace freemkv {

std::uint64_t block_device_bytes(int fd, const std::filesystem::path& path) {
    std::uint64_t bytes = 0;
    if (::ioctl(fd, BLKGETSIZE64, &bytes) != 0) {
        throw IoError("get size (BLKGETSIZE64) of", path, 0, errno);
    }
    return bytes;
}

}  // namespace freemkv
