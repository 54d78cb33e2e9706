#pragma once

// Reads sectors from a disc: an optical drive, a loop device or an image file. Classifies each
// failed read as a bad sector (retry or skip) or as the medium being gone (stop, resumable).
//
// Reads bypass the page cache (O_DIRECT) where the source allows it: buffered reads of a failing
// range make the kernel retry page by page and read ahead into neighbouring sectors, which turns
// one bad sector into many failed reads of seconds each and smears errors over good sectors.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <span>

#include "descrambler.hpp"
#include "disc_info.hpp"
#include "unique_fd.hpp"

namespace freemkv {

enum class ReadStatus {
    ok,
    bad,      // the medium could not deliver these sectors (EIO and friends)
    removed,  // the medium or device is gone, or changed size
};

class DiscReader {
  public:
    // Reads of up to `max_read` bytes (a multiple of 4096). Throws IoError if `source` cannot be
    // opened or sized, DiscError if it is not the `expected` file.
    DiscReader(const std::filesystem::path& source, std::size_t max_read,
               const FileId& expected = {});

    // Reads through a duplicate of `fd` (a caller's open image), never re-opening it by path:
    // buffered, since O_DIRECT can only be asked for at open. `name` is for messages.
    DiscReader(int fd, const std::filesystem::path& name, std::size_t max_read);

    // From now on, reads the descrambler's runs through it (a CSS DVD's VOBs in the clear).
    void set_descrambler(std::shared_ptr<Descrambler> descrambler);

    std::uint64_t size() const { return size_; }
    const std::filesystem::path& path() const { return path_; }
    // Reads exactly `n` bytes at `pos` (n <= max_read, pos + n <= size(), both multiples of 512)
    // into data().
    ReadStatus read(std::uint64_t pos, std::size_t n);
    // read(), for a check of the medium rather than for its data: not counted in bytes_read().
    ReadStatus probe(std::uint64_t pos, std::size_t n);
    // The bytes of the last successful read.
    std::span<const std::byte> data() const { return {buffer_.get(), last_size_}; }
    bool direct() const { return direct_; }
    // The errno of the last failed read.
    int last_error() const { return last_error_; }
    // Bytes delivered by successful reads so far.
    std::uint64_t bytes_read() const { return bytes_read_; }

  private:
    void init();  // after fd_ is set: buffer, type, size

    struct Free {
        void operator()(std::byte* p) const { std::free(p); }
    };

    ReadStatus read_own(std::uint64_t pos, std::span<std::byte> out);
    ReadStatus read_descrambled(std::uint64_t pos, std::span<std::byte> out);
    ReadStatus failed(int error);
    std::uint64_t current_size() const;
    bool still_present() const;

    std::filesystem::path path_;
    FileId expected_;
    UniqueFd fd_;
    bool is_block_device_ = false;
    bool direct_ = false;
    std::shared_ptr<Descrambler> descrambler_;
    std::unique_ptr<std::byte, Free> buffer_;
    std::size_t max_read_;
    std::size_t last_size_ = 0;
    std::uint64_t size_ = 0;
    std::uint64_t bytes_read_ = 0;
    int last_error_ = 0;
};

}  // namespace freemkv
