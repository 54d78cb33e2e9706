#pragma once

// A DVD-Video image whose title VOBs are read: libdvdread reads its file system and IFOs
// (DvdReader, dvd_reader.hpp, opened by path: the image is the daemon's own, in the library), and
// we read the title VOBs ourselves, pread on our own descriptor without readahead
// (POSIX_FADV_RANDOM; the kernel's window here is up to 8 MiB, which would stay cached past the
// reader) in 1 MiB reads, each dropped from the page cache once read (POSIX_FADV_DONTNEED), so
// remuxing an 8 GB image does not evict everything else.
//
// Why not libdvdread's own VOB reads: libdvdread 6.1 reads a stream only through libdvdcss (its
// plain file input ignores the stream callbacks), and Debian ships no libdvdcss, so
// DVDOpenStream2 fails on every clear image ("Can't open (null) for reading"), and DVDReadBlocks
// cannot be told to spare the page cache. Reading the VOBs ourselves skips libdvdread's CSS
// descrambling, which a clear image (the acquisition writes one) does not need.

#include <dvdread/dvd_reader.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "dvd_reader.hpp"
#include "title_sectors.hpp"
#include "unique_fd.hpp"

namespace freemkv {

class DvdImage {
  public:
    // Throws DvdError naming the image when it cannot be opened or has no VIDEO_TS.
    explicit DvdImage(const std::filesystem::path& image);
    DvdImage(const DvdImage&) = delete;
    DvdImage& operator=(const DvdImage&) = delete;

    dvd_reader_t* reader() const { return dvd_.get(); }
    const std::filesystem::path& path() const { return path_; }
    // libdvdread's last error message, for the error that follows it; empty when none.
    const std::string& last_error() const { return dvd_.last_error(); }

    // Where a titleset's title VOBs are in the image (DvdReader::title_vobs). Throws DvdError
    // when it has none or they are not one run.
    TitleVobs title_vobs(int titleset) const;
    // Reads `count` sectors from image sector `first` into `into` and drops them from the page
    // cache. Throws DvdError.
    void read_sectors(std::uint64_t first, std::uint32_t count, std::uint8_t* into) const;

  private:
    std::filesystem::path path_;
    UniqueFd fd_;
    DvdReader dvd_;
};

}  // namespace freemkv
