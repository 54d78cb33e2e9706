#include "disc_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <new>
#include <stdexcept>
#include <string>

#include "block_device.hpp"
#include "io_error.hpp"

namespace freemkv {
namespace {

constexpr std::uint64_t kDescrambledSector = 2048;

}  // namespace

DiscReader::DiscReader(const std::filesystem::path& source, std::size_t max_read,
                       const FileId& expected)
    : path_(source), expected_(expected), max_read_(max_read) {
    fd_ = UniqueFd(::open(source.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECT));
    direct_ = static_cast<bool>(fd_);
    if (!fd_ && errno == EINVAL) {  // the filesystem (tmpfs, some FUSE) has no O_DIRECT
        fd_ = UniqueFd(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
    }
    if (!fd_) {
        throw IoError("open", source, 0, errno);
    }
    expect_same_file(fd_.get(), expected_, path_);
    init();
}

DiscReader::DiscReader(int fd, const std::filesystem::path& name, std::size_t max_read)
    : path_(name), max_read_(max_read) {
    fd_ = UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
    if (!fd_) {
        throw IoError("dup", name, 0, errno);
    }
    init();
}

void DiscReader::init() {
    void* p = nullptr;
    if (::posix_memalign(&p, 4096, max_read_) != 0) {
        throw std::bad_alloc();
    }
    buffer_.reset(static_cast<std::byte*>(p));
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) {
        throw IoError("stat", path_, 0, errno);
    }
    is_block_device_ = S_ISBLK(st.st_mode);
    if (!is_block_device_ && !S_ISREG(st.st_mode)) {
        throw IoError("read (not a block device or regular file)", path_, 0, EINVAL);
    }
    size_ = current_size();
}

std::uint64_t DiscReader::current_size() const {
    if (is_block_device_) {
        return block_device_bytes(fd_.get(), path_);
    }
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) {
        throw IoError("stat", path_, 0, errno);
    }
    return static_cast<std::uint64_t>(st.st_size);
}

bool DiscReader::still_present() const {
    try {
        return current_size() == size_;
    } catch (const IoError&) {
        return false;
    }
}

void DiscReader::set_descrambler(std::shared_ptr<Descrambler> descrambler) {
    descrambler_ = std::move(descrambler);
}

ReadStatus DiscReader::read(std::uint64_t pos, std::size_t n) {
    last_size_ = 0;
    std::span<std::byte> out(buffer_.get(), n);
    // With a descrambler, the read is cut where its runs begin and end: each piece is read by
    // whoever can deliver it in the clear.
    std::size_t done = 0;
    while (done < n) {
        std::uint64_t at = pos + done;
        std::uint64_t piece_end = pos + n;
        bool descrambled = false;
        if (descrambler_) {
            for (const SectorRun& run : descrambler_->runs()) {
                std::uint64_t first = run.first * kDescrambledSector;
                std::uint64_t end = run.end * kDescrambledSector;
                if (end <= at) {
                    continue;
                }
                descrambled = first <= at;
                piece_end = std::min(piece_end, descrambled ? end : first);
                break;
            }
        }
        auto piece = out.subspan(done, piece_end - at);
        ReadStatus status = descrambled ? read_descrambled(at, piece) : read_own(at, piece);
        if (status != ReadStatus::ok) {
            return status;
        }
        done += piece.size();
    }
    bytes_read_ += n;
    last_size_ = n;
    return ReadStatus::ok;
}

ReadStatus DiscReader::read_descrambled(std::uint64_t pos, std::span<std::byte> out) {
    if (pos % kDescrambledSector != 0 || out.size() % kDescrambledSector != 0) {
        throw std::logic_error(path_.string() + ": a read through the descrambler at byte " +
                               std::to_string(pos) + " is not in whole 2048-byte sectors");
    }
    int error = descrambler_->read(pos / kDescrambledSector, out);
    return error == 0 ? ReadStatus::ok : failed(error);
}

ReadStatus DiscReader::failed(int error) {
    last_error_ = error;
    switch (error) {
        case ENOMEDIUM:
        case ENXIO:
        case ENODEV:
            return ReadStatus::removed;
        default:
            return still_present() ? ReadStatus::bad : ReadStatus::removed;
    }
}

ReadStatus DiscReader::read_own(std::uint64_t pos, std::span<std::byte> out) {
    // Drop whatever the cache holds for this range: a failed range must be read from the medium
    // again, and a rip should not fill the cache with a disc it reads once. Without O_DIRECT the
    // advice is best effort: if the kernel ignores it, only cache efficiency suffers.
    auto drop = [&] {
        if (direct_) {
            return;
        }
        (void)::posix_fadvise(fd_.get(), static_cast<off_t>(pos), static_cast<off_t>(out.size()),
                              POSIX_FADV_DONTNEED);
    };
    // Not pread_full: every way out of this loop is a verdict on the medium (bad or removed), not
    // an error to throw, and a refused O_DIRECT read goes on buffered from the same byte.
    std::size_t done = 0;
    while (done < out.size()) {
        ssize_t n = ::pread(fd_.get(), out.data() + done, out.size() - done,
                            static_cast<off_t>(pos + done));
        if (n > 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EINVAL && direct_) {
            // The source wants larger alignment than a sector (4Kn storage): read it through
            // the page cache from now on rather than call readable sectors bad.
            UniqueFd buffered(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
            if (buffered) {
                expect_same_file(buffered.get(), expected_, path_);
                fd_ = std::move(buffered);
                direct_ = false;
                continue;
            }
        }
        // A short read inside the medium's size means it shrank or went away.
        int error = n == 0 ? ENXIO : errno;
        drop();
        return failed(error);
    }
    drop();
    return ReadStatus::ok;
}

ReadStatus DiscReader::probe(std::uint64_t pos, std::size_t n) {
    ReadStatus status = read(pos, n);
    if (status == ReadStatus::ok) {
        bytes_read_ -= n;
    }
    return status;
}

}  // namespace freemkv
