#include "full_io.hpp"

#include <unistd.h>

#include <cerrno>

#include "io_error.hpp"

namespace freemkv {

namespace {

// Calls `read_some(rest of buf, its offset)` until `buf` is full or it returns 0 (end of file).
template <typename ReadSome>
std::size_t read_loop(std::span<std::byte> buf, std::uint64_t offset,
                      const std::filesystem::path& path, ReadSome read_some) {
    std::size_t done = 0;
    while (done < buf.size()) {
        ssize_t n = read_some(buf.subspan(done), offset + done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw IoError("read", path, offset + done, errno);
        }
        if (n == 0) {
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    return done;
}

}  // namespace

std::size_t read_full(int fd, std::span<std::byte> buf, std::uint64_t offset,
                      const std::filesystem::path& path) {
    return read_loop(buf, offset, path, [fd](std::span<std::byte> rest, std::uint64_t) {
        return ::read(fd, rest.data(), rest.size());
    });
}

std::size_t pread_full(int fd, std::span<std::byte> buf, std::uint64_t offset,
                       const std::filesystem::path& path) {
    return read_loop(buf, offset, path, [fd](std::span<std::byte> rest, std::uint64_t at) {
        return ::pread(fd, rest.data(), rest.size(), static_cast<off_t>(at));
    });
}

void pwrite_full(int fd, std::span<const std::byte> data, std::uint64_t offset,
                 const std::filesystem::path& path,
                 const std::function<void(std::uint64_t end)>& progress) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n =
            ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw IoError("write", path, offset + done, errno);
        }
        done += static_cast<std::size_t>(n);
        if (progress) {
            progress(offset + done);
        }
    }
}

}  // namespace freemkv
