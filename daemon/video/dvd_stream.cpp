#include "dvd_stream.hpp"

#include <dvdread/dvd_udf.h>
#include <dvdread/ifo_read.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "dvd_titles.hpp"

namespace freemkv {

DvdImage::DvdImage(const std::filesystem::path& image) : path_(image) {
    // Checked here: libdvdread reports a missing path with perror() on stderr.
    std::error_code error;
    if (!std::filesystem::is_regular_file(image, error) &&
        !std::filesystem::is_block_file(image, error)) {
        throw DvdError(image.string() + ": not a file or block device" +
                       (error ? " (" + error.message() + ")" : ""));
    }
    fd_ = UniqueFd(::open(image.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd_) {
        throw DvdError(image.string() + ": cannot open it: " + std::strerror(errno));
    }
    int advice = ::posix_fadvise(fd_.get(), 0, 0, POSIX_FADV_RANDOM);
    if (advice != 0) {
        spdlog::debug("{}: posix_fadvise(RANDOM): {}", path_.string(), std::strerror(advice));
    }
    logger_.pf_log = &DvdImage::log;
    auto fail = [&](std::string_view what) {
        std::string message = image.string() + ": " + std::string(what);
        if (!last_error_.empty()) {
            message += " (libdvdread: " + last_error_ + ")";
        }
        return DvdError(message);
    };
    dvd_ = DVDOpen2(this, &logger_, image.c_str());
    if (dvd_ == nullptr) {
        throw fail("cannot open it as a DVD");
    }
    // DVDOpen2 accepts any file; a DVD-Video shows by its VIDEO_TS.IFO.
    ifo_handle_t* vmg = ifoOpen(dvd_, 0);
    if (vmg == nullptr) {
        DVDClose(dvd_);
        throw fail("not a DVD-Video image: VIDEO_TS.IFO is missing or unreadable");
    }
    ifoClose(vmg);
}

DvdImage::~DvdImage() {
    DVDClose(dvd_);
}

DvdImage::Extent DvdImage::title_vobs(int titleset) const {
    Extent extent;
    for (int part = 1; part <= 9; ++part) {
        char name[32];
        std::snprintf(name, sizeof name, "/VIDEO_TS/VTS_%02d_%d.VOB", titleset, part);
        std::uint32_t bytes = 0;
        std::uint32_t start = UDFFindFile(dvd_, name, &bytes);
        if (start == 0) {
            if (part == 1) {
                throw DvdError(path_.string() + ": " + (name + 1) + " is missing");
            }
            break;
        }
        if (part == 1) {
            extent.first_sector = start;
        } else if (start != extent.first_sector + extent.sectors) {
            throw DvdError(path_.string() + ": " + (name + 1) +
                           " does not follow the titleset's previous VOB");
        }
        extent.sectors += bytes / DVD_VIDEO_LB_LEN;
    }
    return extent;
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

void DvdImage::log(void* self, dvd_logger_level_t level, const char* format, va_list args) {
    auto* image = static_cast<DvdImage*>(self);
    char buffer[512];
    int length = std::vsnprintf(buffer, sizeof buffer, format, args);
    if (length < 0) {
        return;
    }
    std::string_view text(buffer, std::min<std::size_t>(length, sizeof buffer - 1));
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.remove_suffix(1);
    }
    // Everything at debug: libdvdread warns about the missing libdvdcss, which a clear disc does
    // not need, on every open. Its errors reach the user in the exception that follows them.
    spdlog::debug("{}: libdvdread: {}", image->path_.string(), text);
    if (level == DVD_LOGGER_LEVEL_ERROR) {
        image->last_error_ = text;
    }
}

}  // namespace freemkv
