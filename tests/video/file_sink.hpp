#pragma once

// A ByteSink that is a plain file, written where the muxer says, for the remux tests; counts the
// writes that go back before the furthest byte written.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <span>
#include <system_error>

#include "byte_sink.hpp"

namespace freemkv::test {

class FileSink : public ByteSink {
  public:
    explicit FileSink(const std::filesystem::path& path)
        : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) {
        if (fd_ < 0) {
            throw std::system_error(errno, std::generic_category(), path.string());
        }
    }
    ~FileSink() override { ::close(fd_); }
    FileSink(const FileSink&) = delete;
    FileSink& operator=(const FileSink&) = delete;

    void write_at(std::uint64_t offset, std::span<const std::byte> data) override {
        if (offset < last_end_) {
            ++seeks_back;
        }
        while (!data.empty()) {
            ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
            if (n < 0) {
                throw std::system_error(errno, std::generic_category(), "pwrite");
            }
            data = data.subspan(static_cast<std::size_t>(n));
            offset += static_cast<std::uint64_t>(n);
        }
        last_end_ = std::max(last_end_, offset);
    }
    int seeks_back = 0;

  private:
    int fd_;
    std::uint64_t last_end_ = 0;
};

}  // namespace freemkv::test
