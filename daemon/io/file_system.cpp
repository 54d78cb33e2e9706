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

void KernelFileSystem::sync_data(int fd, const std::filesystem::path& path, std::uint64_t written) {
    if (::fdatasync(fd) != 0) {
        throw IoError("sync", path, written, errno);
    }
}

void KernelFileSystem::sync_file(int fd, const std::filesystem::path& path, std::uint64_t written) {
    if (::fsync(fd) != 0) {
        throw IoError("sync", path, written, errno);
    }
}

void KernelFileSystem::rename(const std::filesystem::path& from, const std::filesystem::path& to) {
    if (::rename(from.c_str(), to.c_str()) != 0) {
        throw IoError("rename to " + to.string() + " from", from, 0, errno);
    }
}

int KernelFileSystem::rename_exclusive(const std::filesystem::path& from,
                                       const std::filesystem::path& to) {
    return ::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE);
}

void KernelFileSystem::rename_noreplace(const std::filesystem::path& from,
                                        const std::filesystem::path& to, std::uint64_t written) {
    if (rename_exclusive(from, to) == 0) {
        return;
    }
    // Filesystems without RENAME_NOREPLACE say so differently: NFS EINVAL, FUSE ENOSYS, SMB
    // EOPNOTSUPP or EPERM. link() also refuses to replace; a real EPERM fails there again.
    if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP && errno != EPERM) {
        throw IoError("rename to " + to.string() + " from", from, written, errno);
    }
    if (::link(from.c_str(), to.c_str()) != 0) {
        throw IoError("link to " + to.string() + " from", from, written, errno);
    }
    if (::unlink(from.c_str()) != 0) {
        spdlog::warn("published {} but cannot remove {}: {}", to.string(), from.string(),
                     std::strerror(errno));
    }
}

void KernelFileSystem::sync_directory(const std::filesystem::path& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) {
        throw IoError("open directory", dir, 0, errno);
    }
    if (::fsync(fd.get()) != 0) {
        throw IoError("sync directory", dir, 0, errno);
    }
}

FileSystem& real_file_system() {
    static KernelFileSystem fs;
    return fs;
}

std::filesystem::path parent_directory(const std::filesystem::path& path) {
    auto dir = path.parent_path();
    return dir.empty() ? "." : dir;
}

}  // namespace freemkv
