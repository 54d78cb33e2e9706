#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

namespace freemkv {

// Bytes of `path` currently in the page cache (mincore over a read-only mapping).
// Throws std::system_error.
std::uint64_t cached_bytes(const std::filesystem::path& path);

// Bytes of the open file `fd` that are dirty or under writeback, from cachestat(2) (Linux 6.5):
// the file's own share, unlike /proc/meminfo's machine-wide Dirty. Empty where the kernel lacks
// cachestat.
std::optional<std::uint64_t> dirty_bytes(int fd);

}  // namespace freemkv
