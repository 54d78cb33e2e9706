#include "dvd_stream.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "dvd_titles.hpp"

namespace freemkv {

DvdImage::DvdImage(const std::filesystem::path& image) : path_(image), dvd_(image) {
    // DvdReader has checked that it is a file or block device.
    fd_ = UniqueFd(::open(image.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd_) {
        throw DvdError(image.string() + ": cannot open it: " + std::strerror(errno));
    }
    int advice = ::posix_fadvise(fd_.get(), 0, 0, POSIX_FADV_RANDOM);
    if (advice != 0) {
        spdlog::debug("{}: posix_fadvise(RANDOM): {}", path_.string(), std::strerror(advice));
    }
    // DVDOpen2 accepts any file; a DVD-Video shows by its VIDEO_TS.IFO.
    IfoHandle vmg = dvd_.vmg();
}

TitleVobs DvdImage::title_vobs(int titleset) const {
    auto vobs = dvd_.title_vobs(titleset);
    if (!vobs) {
        char name[32];
        std::snprintf(name, sizeof name, "VTS_%02d_1.VOB", titleset);
        throw DvdError(path_.string() + ": " + name + " is missing");
    }
    return *vobs;
}

void DvdImage::read_sectors(std::uint64_t first, std::uint32_t count, std::uint8_t* into) const {
    std::size_t size = std::size_t{count} * DVD_VIDEO_LB_LEN;
    auto offset = static_cast<off_t>(first * DVD_VIDEO_LB_LEN);
    std::size_t done = 0;
    while (done < size) {
        ssize_t n = ::pread(fd_.get(), into + done, size - done, offset + static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw DvdError(path_.string() + ": cannot read sectors " + std::to_string(first) + "-" +
                           std::to_string(first + count - 1) + ": " +
                           (n == 0 ? "past the end of the image" : std::strerror(errno)));
        }
        done += static_cast<std::size_t>(n);
    }
    // From the page the read began in: the previous read may have left it half read.
    off_t from = offset & ~off_t{4095};
    int advice = ::posix_fadvise(fd_.get(), from, offset + static_cast<off_t>(size) - from,
                                 POSIX_FADV_DONTNEED);
    if (advice != 0) {
        spdlog::debug("{}: posix_fadvise(DONTNEED): {}", path_.string(), std::strerror(advice));
    }
}

}  // namespace freemkv
