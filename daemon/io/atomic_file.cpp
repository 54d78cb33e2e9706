#include "atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <span>

#include "full_io.hpp"
#include "io_error.hpp"
#include "unique_fd.hpp"

namespace freemkv {

namespace {

void write_durably(const std::filesystem::path& path, std::string_view text, FileSystem& fs) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) {
        throw IoError("create", path, 0, errno);
    }
    pwrite_full(fd.get(), std::as_bytes(std::span(text)), 0, path);
    fs.sync_file(fd.get(), path, text.size());
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::string_view content,
                           FileSystem& fs) {
    const std::filesystem::path tmp = path.string() + ".tmp";
    try {
        write_durably(tmp, content, fs);
        fs.rename(tmp, path);
    } catch (...) {
        ::unlink(tmp.c_str());
        throw;
    }
    fs.sync_directory(parent_directory(path));
}

std::string read_whole_file(const std::filesystem::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        throw IoError("open", path, 0, errno);
    }
    constexpr std::size_t step = 65536;
    std::string text;
    for (;;) {
        const std::size_t old = text.size();
        text.resize(old + step);
        const std::size_t n =
            read_full(fd.get(), std::as_writable_bytes(std::span(text)).subspan(old), old, path);
        text.resize(old + n);
        if (n < step) {
            return text;
        }
    }
}

}  // namespace freemkv
