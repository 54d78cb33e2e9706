#include "publish_dir.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "io_error.hpp"

namespace freemkv {

void publish_directory(const std::filesystem::path& from, const std::filesystem::path& to,
                       FileSystem& fs) {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0) {
        if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
            throw IoError("rename directory to " + to.string() + " from", from, 0, errno);
        }
        if (::mkdir(to.c_str(), 0755) != 0) {
            throw IoError("claim directory " + to.string() + " for", from, 0, errno);
        }
        // rename(2) replaces an empty directory atomically: the one just claimed.
        if (::rename(from.c_str(), to.c_str()) != 0) {
            int error = errno;
            if (::rmdir(to.c_str()) != 0) {
                spdlog::warn("cannot remove the claimed directory {}: {}", to.string(),
                             std::strerror(errno));
            }
            throw IoError("rename directory to " + to.string() + " from", from, 0, error);
        }
    }
    fs.sync_directory(parent_directory(to));
}

}  // namespace freemkv
