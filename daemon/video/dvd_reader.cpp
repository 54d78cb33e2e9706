#include "dvd_reader.hpp"

#include <dvdread/dvd_udf.h>
#include <linux/fs.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace freemkv {
namespace {

// The first sectors of an image: the UDF and ISO 9660 structures, and VIDEO_TS.IFO after them
// (the DVD-Video zone starts with it).
constexpr std::uint64_t structure_sectors = 2048;

// The sectors of a DVD image that libdvdread reads for its file system and IFOs, copied from a
// descriptor into a sparse memfd of the image's size (zeros elsewhere).
class IfoCopy {
  public:
    IfoCopy(int source, std::string name) : source_(source), name_(std::move(name)) {
        struct stat st {};
        if (::fstat(source_, &st) != 0) {
            fail("cannot stat it");
        }
        std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
        if (S_ISBLK(st.st_mode) && ::ioctl(source_, BLKGETSIZE64, &size) != 0) {
            fail("cannot read the size of the device");
        } else if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
            throw DvdError(name_ + ": not a file or block device");
        }
        sectors_ = size / sector_bytes;
        copy_ = ::memfd_create("freemkv-ifo", MFD_CLOEXEC);
        if (copy_ < 0) {
            fail("cannot make a memory file for its IFO files");
        }
        if (::ftruncate(copy_, static_cast<off_t>(sectors_ * sector_bytes)) != 0) {
            fail("cannot size the memory file for its IFO files");
        }
    }
    ~IfoCopy() { ::close(copy_); }
    IfoCopy(const IfoCopy&) = delete;
    IfoCopy& operator=(const IfoCopy&) = delete;

    int fd() const { return copy_; }

    // Copies sectors [first, first + count), as far as the image has them, and as long as the
    // copy stays within max_copy_sectors (an image made up to exhaust memory gets a partial copy,
    // which libdvdread then finds unreadable).
    void sectors(std::uint64_t first, std::uint64_t count) {
        count = std::min(count, max_copy_sectors - std::min(copied_, max_copy_sectors));
        copied_ += count;
        std::vector<char> buffer(sector_bytes * 64);
        for (std::uint64_t at = first; at < std::min(first + count, sectors_);) {
            std::uint64_t n = std::min<std::uint64_t>({64, first + count - at, sectors_ - at});
            std::size_t bytes = read(at, buffer.data(), n * sector_bytes);
            if (bytes == 0) {
                return;
            }
            write(at, buffer.data(), bytes);
            at += (bytes + sector_bytes - 1) / sector_bytes;
        }
    }

    // The first sector among those copied that starts VIDEO_TS.IFO, or none.
    std::uint64_t find_vmg() const {
        char sector[sector_bytes];
        for (std::uint64_t at = 0; at < std::min(structure_sectors, sectors_); ++at) {
            if (::pread(copy_, sector, sizeof sector, static_cast<off_t>(at * sector_bytes)) ==
                    static_cast<ssize_t>(sizeof sector) &&
                std::string_view(sector, 12) == "DVDVIDEO-VMG") {
                return at;
            }
        }
        return sectors_;
    }

    // Copies the IFO file at `first` whose identifier is `id` (its header says how long it is).
    void ifo_at(std::uint64_t first, std::string_view id) {
        char header[sector_bytes];
        // Titles of one titleset share its IFO.
        if (!ifos_.insert(first).second || first >= sectors_ ||
            read(first, header, sizeof header) != sizeof header ||
            std::string_view(header, id.size()) != id) {
            return;
        }
        // The last sector of the IFO, relative to its first: big-endian, at byte 28.
        std::uint32_t last = 0;
        for (int i = 28; i < 32; ++i) {
            last = last << 8 | static_cast<unsigned char>(header[i]);
        }
        sectors(first, std::min<std::uint64_t>(last, max_ifo_sectors) + 1);
    }

  private:
    static constexpr std::uint64_t max_ifo_sectors = 4096;    // 8 MiB: real ones are far smaller
    static constexpr std::uint64_t max_copy_sectors = 65536;  // 128 MiB in all
    static constexpr std::uint64_t sector_bytes = 2048;

    [[noreturn]] void fail(const std::string& what) const {
        throw DvdError(name_ + ": " + what + ": " + std::strerror(errno));
    }

    std::size_t read(std::uint64_t sector, char* buffer, std::size_t bytes) {
        std::size_t done = 0;
        while (done < bytes) {
            ssize_t n = ::pread(source_, buffer + done, bytes - done,
                                static_cast<off_t>(sector * sector_bytes + done));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                fail("cannot read it");
            }
            if (n == 0) {
                break;
            }
            done += static_cast<std::size_t>(n);
        }
        return done;
    }

    void write(std::uint64_t sector, const char* buffer, std::size_t bytes) {
        std::size_t done = 0;
        while (done < bytes) {
            ssize_t n = ::pwrite(copy_, buffer + done, bytes - done,
                                 static_cast<off_t>(sector * sector_bytes + done));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                fail("cannot copy its IFO files");
            }
            done += static_cast<std::size_t>(n);
        }
    }

    int source_;
    std::string name_;
    std::uint64_t sectors_ = 0;
    int copy_ = -1;
    std::uint64_t copied_ = 0;
    std::set<std::uint64_t> ifos_;  // the first sectors of the IFOs copied
};

}  // namespace

struct DvdReader::State {
    std::string name;
    std::string last_error;
    std::unique_ptr<IfoCopy> copy;  // what libdvdread reads when the image came as a descriptor
};

namespace {

void log_from_dvdread(void* priv, dvd_logger_level_t level, const char* format, va_list args) {
    auto* state = static_cast<DvdReader::State*>(priv);
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
    // not need, on every open. Its errors reach the user in the DvdError that follows them.
    spdlog::debug("{}: libdvdread: {}", state->name, text);
    if (level == DVD_LOGGER_LEVEL_ERROR) {
        state->last_error = text;
    }
}

const dvd_logger_cb logger{&log_from_dvdread};

}  // namespace

DvdReader::DvdReader(const std::filesystem::path& image)
    : state_(std::make_unique<State>(State{.name = image.string(), .last_error = {}, .copy = {}})) {
    // Checked here: libdvdread reports a missing path with perror() on stderr.
    std::error_code error;
    if (!std::filesystem::is_regular_file(image, error) &&
        !std::filesystem::is_block_file(image, error)) {
        throw DvdError(image.string() + ": not a file or block device" +
                       (error ? " (" + error.message() + ")" : ""));
    }
    open(image.string());
}

DvdReader::DvdReader(int fd, const std::string& name, Copy what)
    : state_(std::make_unique<State>(
          State{.name = name, .last_error = {}, .copy = std::make_unique<IfoCopy>(fd, name)})) {
    IfoCopy& copy = *state_->copy;
    std::string path = "/proc/self/fd/" + std::to_string(copy.fd());
    copy.sectors(0, structure_sectors);
    std::uint64_t vmg_sector = copy.find_vmg();
    copy.ifo_at(vmg_sector, "DVDVIDEO-VMG");
    open(path);
    if (what == Copy::titleset_ifos) {
        // The titlesets' IFOs start where the title table says, in sectors from VIDEO_TS.IFO.
        {
            IfoHandle vmg{ifoOpen(dvd_, 0)};
            if (vmg && vmg->tt_srpt != nullptr) {
                for (int n = 0; n < vmg->tt_srpt->nr_of_srpts; ++n) {
                    copy.ifo_at(vmg_sector + vmg->tt_srpt->title[n].title_set_sector,
                                "DVDVIDEO-VTS");
                }
            }
        }
        // Opened again: libdvdread may have kept what it read before the copy was complete.
        DVDClose(dvd_);
        dvd_ = nullptr;
        state_->last_error.clear();
        open(path);
    }
}

DvdReader::~DvdReader() {
    if (dvd_ != nullptr) {
        DVDClose(dvd_);
    }
}

void DvdReader::open(const std::string& path) {
    dvd_ = DVDOpen2(state_.get(), &logger, path.c_str());
    if (dvd_ == nullptr) {
        throw error("cannot open it as a DVD");
    }
}

const std::string& DvdReader::name() const {
    return state_->name;
}

const std::string& DvdReader::last_error() const {
    return state_->last_error;
}

DvdError DvdReader::error(std::string_view what) const {
    std::string message = state_->name + ": " + std::string(what);
    if (!state_->last_error.empty()) {
        message += " (libdvdread: " + state_->last_error + ")";
    }
    return DvdError(message);
}

IfoHandle DvdReader::vmg() const {
    IfoHandle vmg{ifoOpen(dvd_, 0)};
    if (!vmg || vmg->vmgi_mat == nullptr || vmg->tt_srpt == nullptr) {
        throw error("not a DVD-Video image: VIDEO_TS.IFO is missing or unreadable");
    }
    return vmg;
}

std::optional<TitleVobs> DvdReader::title_vobs(int titleset) const {
    TitleVobs vobs;
    std::uint64_t next = 0;
    for (int part = 1; part <= 9; ++part) {
        char file[32];
        std::snprintf(file, sizeof file, "/VIDEO_TS/VTS_%02d_%d.VOB", titleset, part);
        std::uint32_t bytes = 0;
        std::uint32_t start = UDFFindFile(dvd_, file, &bytes);
        if (start == 0) {
            break;
        }
        if (part == 1) {
            vobs.first_sector = start;
        } else if (start != next) {
            throw DvdError(state_->name + ": " + (file + 1) + " starts at sector " +
                           std::to_string(start) + ", not where the VOB before it ends (" +
                           std::to_string(next) + ")");
        }
        std::uint64_t sectors = (std::uint64_t{bytes} + DVD_VIDEO_LB_LEN - 1) / DVD_VIDEO_LB_LEN;
        vobs.sectors += sectors;
        next = start + sectors;
    }
    if (vobs.first_sector == 0) {
        return std::nullopt;
    }
    return vobs;
}

}  // namespace freemkv
