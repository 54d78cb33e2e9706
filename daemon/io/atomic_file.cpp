#include "atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "io_error.hpp"
#include "unique_fd.hpp"

namespace freemkv {

namespace {

void write_durably(const std::filesystem::path& path, std::string_view text, FileSystem& fs) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) {
        throw IoError("create", path, 0, errno);
    }
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw IoError("write", path, done, errno);
        }
        done += static_cast<std::size_t>(n);
    }
    fs.sync_file(fd.get(), path, done);
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
    std::string text;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw IoError("read", path, text.size(), errno);
        }
        if (n == 0) {
            return text;
        }
        text.append(buf, static_cast<std::size_t>(n));
    }
}

}  // namespace freemkv
