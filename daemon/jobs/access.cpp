#include "access.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <cerrno>
#include <cstring>

namespace freemkv {

namespace {

bool kernel_filesystem(const struct statfs& fs) {
    return fs.f_type == PROC_SUPER_MAGIC || fs.f_type == SYSFS_MAGIC;
}

}  // namespace

ImageFd check_image_fd(int fd) {
    ImageFd out;
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) {
        out.why = std::string("not an open file: ") + std::strerror(errno);
        return out;
    }
    int mode = flags & O_ACCMODE;
    if ((flags & O_PATH) != 0 || (mode != O_RDONLY && mode != O_RDWR)) {
        out.verdict = ImageFd::Verdict::unreadable;
        out.why = "it was not opened for reading";
        return out;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        out.why = std::string("cannot stat it: ") + std::strerror(errno);
        return out;
    }
    out.file = {st.st_dev, st.st_ino};
    struct statfs fs {};
    if (::fstatfs(fd, &fs) != 0) {
        out.why = std::string("cannot stat its filesystem: ") + std::strerror(errno);
        return out;
    }
    if (kernel_filesystem(fs)) {
        out.why = "it is a kernel interface (/proc or /sys), not a disc image";
        return out;
    }
    if (S_ISBLK(st.st_mode)) {
        out.verdict = ImageFd::Verdict::block_device;
        out.device = st.st_rdev;
        return out;
    }
    if (!S_ISREG(st.st_mode)) {
        out.why = S_ISFIFO(st.st_mode)   ? "it is a pipe, not a disc image"
                  : S_ISSOCK(st.st_mode) ? "it is a socket, not a disc image"
                  : S_ISCHR(st.st_mode)  ? "it is a character device, not a disc image"
                  : S_ISDIR(st.st_mode)  ? "it is a directory, not a disc image"
                                         : "it is not a regular file";
        return out;
    }
    if (st.st_size == 0) {
        out.why = "it is empty (0 bytes)";
        return out;
    }
    out.verdict = ImageFd::Verdict::image;
    return out;
}

bool in_import_folder(const std::filesystem::path& path,
                      const std::vector<std::filesystem::path>& folders) {
    std::error_code ec;
    auto real = std::filesystem::canonical(path, ec);
    if (ec) {
        return false;
    }
    for (const auto& folder : folders) {
        auto base = std::filesystem::canonical(folder, ec);
        if (ec) {
            continue;
        }
        auto rel = real.lexically_relative(base);
        if (!rel.empty() && *rel.begin() != ".." && rel != ".") {
            return true;
        }
    }
    return false;
}

bool is_kernel_interface(const std::filesystem::path& path) {
    struct statfs fs {};
    if (::statfs(path.c_str(), &fs) == 0 && kernel_filesystem(fs)) {
        return true;
    }
    auto first = std::next(path.begin());
    return path.is_absolute() && first != path.end() && (*first == "proc" || *first == "sys");
}

}  // namespace freemkv
