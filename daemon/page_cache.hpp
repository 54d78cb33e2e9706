#pragma once

#include <cstdint>
#include <filesystem>

namespace freemkv {

// Bytes of `path` currently in the page cache (mincore over a read-only mapping).
// Throws std::system_error.
std::uint64_t cached_bytes(const std::filesystem::path& path);

}  // namespace freemkv
