#pragma once

// A block device's size, asked in one place: disc identification and the disc reader both need
// it, and a failure should read the same from either.

#include <cstdint>
#include <filesystem>

namespace freemkv {

// The size in bytes of the block device open as `fd` (BLKGETSIZE64). Throws IoError naming
// `path`, with ENOTTY when `fd` is not a block device.
std::uint64_t block_device_bytes(int fd, const std::filesystem::path& path);

}  // namespace freemkv
