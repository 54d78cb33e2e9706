#include "file_system.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "io_error.hpp"
#include "unique_fd.hpp"

namespace freemkv {

namespace {

class RealFileSystem final : public FileSystem {
  public:
    void sync_data(int fd, const std::filesystem::path& path, std::uint64_t written) override {
        if (::fdatasync(fd) != 0) {
            throw IoError("sync", path, written, errno);
        }
    }

    void sync_file(int fd, const std::filesystem::path& path, std::uint64_t written) override {
        if (::fsync(fd) != 0) {
            throw IoError("sync", path, written, errno);
        }
    }

    void rename(const std::filesystem::path& from, const std::filesystem::path& to) override {
        if (::rename(from.c_str(), to.c_str()) != 0) {
            throw IoError("rename to " + to.string() + " from", from, 0, errno);
        }
    }

    void rename_noreplace(const std::filesystem::path& from, const std::filesystem::path& to,
                          std::uint64_t written) override {
        if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
            return;
        }
        if (errno != EINVAL) {
            throw IoError("rename to " + to.string() + " from", from, written, errno);
        }
        // The filesystem has no RENAME_NOREPLACE (NFS): link() also refuses to replace.
        if (::link(from.c_str(), to.c_str()) != 0) {
            throw IoError("link to " + to.string() + " from", from, written, errno);
        }
        if (::unlink(from.c_str()) != 0) {
            spdlog::warn("published {} but cannot remove {}: {}", to.string(), from.string(),
                         std::strerror(errno));
        }
    }

    void sync_directory(const std::filesystem::path& dir) override {
        UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!fd) {
            throw IoError("open directory", dir, 0, errno);
        }
        if (::fsync(fd.get()) != 0) {
            throw IoError("sync directory", dir, 0, errno);
        }
    }
};

}  // namespace

FileSystem& real_file_system() {
    static RealFileSystem fs;
    return fs;
}

std::filesystem::path parent_directory(const std::filesystem::path& path) {
    auto dir = path.parent_path();
    return dir.empty() ? "." : dir;
}

}  // namespace freemkv
