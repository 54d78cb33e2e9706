#pragma once

// A DVD-Video image: libdvdread reads its file system and IFOs, and we read the title VOBs
// ourselves, pread on our own descriptor without readahead (POSIX_FADV_RANDOM; the kernel's
// window here is up to 8 MiB, which would stay cached past the reader) in 1 MiB reads, each
// dropped from the page cache once read (POSIX_FADV_DONTNEED), so remuxing an 8 GB image does
// not evict everything else. libdvdread's messages, among them its libdvdcss banner, go to spdlog
// at debug level.
//
// Why DVDOpen2 and not DVDOpenStream2 with our own read callbacks: libdvdread 6.1 reads a stream
// only through libdvdcss (its plain file input ignores the stream callbacks), and Debian ships no
// libdvdcss, so DVDOpenStream2 fails on every clear image ("Can't open (null) for reading").
// Reading the VOBs ourselves skips libdvdread's CSS descrambling, which a clear image (the
// acquisition writes one) does not need.

#include <dvdread/dvd_reader.h>

#include <cstdarg>
#include <cstdint>
#include <filesystem>
#include <string>

#include "unique_fd.hpp"

namespace freemkv {

class DvdImage {
  public:
    // Throws DvdError naming the image when it cannot be opened or has no VIDEO_TS.
    explicit DvdImage(const std::filesystem::path& image);
    ~DvdImage();
    DvdImage(const DvdImage&) = delete;
    DvdImage& operator=(const DvdImage&) = delete;

    dvd_reader_t* reader() const { return dvd_; }
    const std::filesystem::path& path() const { return path_; }
    // libdvdread's last error message, for the error that follows it; empty when none.
    const std::string& last_error() const { return last_error_; }

    struct Extent {
        std::uint32_t first_sector = 0;  // in the image
        std::uint32_t sectors = 0;
    };
    // Where a titleset's title VOBs (VTS_nn_1.VOB, _2, ...) are in the image: one run of sectors,
    // as DVD-Video lays them out. Throws DvdError when they are missing or not one run.
    Extent title_vobs(int titleset) const;
    // Reads `count` sectors from image sector `first` into `into` and drops them from the page
    // cache. Throws DvdError.
    void read_sectors(std::uint64_t first, std::uint32_t count, std::uint8_t* into) const;

  private:
    static void log(void* self, dvd_logger_level_t level, const char* format, va_list args);

    std::filesystem::path path_;
    UniqueFd fd_;
    std::string last_error_;
    dvd_logger_cb logger_{};
    dvd_reader_t* dvd_ = nullptr;
};

}  // namespace freemkv
