#pragma once

// Reads and writes that do all they were asked. read(2) and write(2) may move fewer bytes than
// asked (a signal, a pipe, a disk filling up) or fail with EINTR before moving any, so every
// caller needs the same loop; these are that loop, once. They throw IoError naming the path and
// the offset where the failing call started.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>

namespace freemkv {

// Reads from the descriptor's current position until `buf` is full or the file ends; returns the
// bytes read. `offset` is that position, for errors only.
std::size_t read_full(int fd, std::span<std::byte> buf, std::uint64_t offset,
                      const std::filesystem::path& path);

// Reads at `offset` until `buf` is full or the file ends; returns the bytes read.
std::size_t pread_full(int fd, std::span<std::byte> buf, std::uint64_t offset,
                       const std::filesystem::path& path);

// Writes all of `data` at `offset`. After each write that moved bytes, `progress` (if set) is
// told where the written bytes now end.
void pwrite_full(int fd, std::span<const std::byte> data, std::uint64_t offset,
                 const std::filesystem::path& path,
                 const std::function<void(std::uint64_t end)>& progress = {});

}  // namespace freemkv
