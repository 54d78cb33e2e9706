#include "css_descrambler.hpp"

#include <dlfcn.h>
#include <dvdread/dvd_udf.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "dvd_reader.hpp"
#include "dvdcss_abi.hpp"
#include "unique_fd.hpp"

namespace freemkv {

struct CssDescrambler::Library {
    void* dl = nullptr;
    dvdcss::OpenFn open = nullptr;
    dvdcss::OpenStreamFn open_stream = nullptr;
    dvdcss::CloseFn close = nullptr;
    dvdcss::SeekFn seek = nullptr;
    dvdcss::ReadFn read = nullptr;
    dvdcss::ErrorFn error = nullptr;  // optional
    dvdcss::Handle* handle = nullptr;

    ~Library() {
        if (handle != nullptr && close(handle) != 0) {
            spdlog::debug("libdvdcss: closing the disc failed");
        }
        if (dl != nullptr) {
            ::dlclose(dl);
        }
    }
};

// libdvdcss's reads of a caller's descriptor: pread from a position of its own, so the
// descriptor's offset is never moved.
struct CssDescrambler::Stream {
    UniqueFd fd;
    std::uint64_t pos = 0;
    dvdcss::StreamCallbacks callbacks{&Stream::seek, &Stream::read, &Stream::readv};

    static int seek(void* self, std::uint64_t offset) {
        static_cast<Stream*>(self)->pos = offset;
        return 0;
    }
    static int read(void* self, void* buffer, int bytes) {
        auto* s = static_cast<Stream*>(self);
        std::size_t done = 0;
        while (done < static_cast<std::size_t>(bytes)) {
            ssize_t n =
                ::pread(s->fd.get(), static_cast<char*>(buffer) + done,
                        static_cast<std::size_t>(bytes) - done, static_cast<off_t>(s->pos + done));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                return -1;
            }
            if (n == 0) {
                break;
            }
            done += static_cast<std::size_t>(n);
        }
        s->pos += done;
        return static_cast<int>(done);
    }
    static int readv(void* self, void* iovecs, int count) {
        auto* iov = static_cast<struct iovec*>(iovecs);
        int total = 0;
        for (int i = 0; i < count; ++i) {
            int n = read(self, iov[i].iov_base, static_cast<int>(iov[i].iov_len));
            if (n < 0) {
                return -1;
            }
            total += n;
            if (static_cast<std::size_t>(n) < iov[i].iov_len) {
                break;
            }
        }
        return total;
    }
};

namespace {

template <typename Fn>
Fn symbol(void* dl, const char* name, const std::string& library, bool required = true) {
    void* p = ::dlsym(dl, name);
    if (p == nullptr && required) {
        throw DescrambleError(library + " has no " + name + ": not a usable libdvdcss");
    }
    return reinterpret_cast<Fn>(p);
}

std::optional<SectorRun> file_run(const DvdReader& dvd, const char* file) {
    std::uint32_t bytes = 0;
    std::uint32_t start = UDFFindFile(dvd.get(), file, &bytes);
    if (start == 0 || bytes == 0) {
        return std::nullopt;
    }
    return SectorRun{start,
                     start + (std::uint64_t{bytes} + DVD_VIDEO_LB_LEN - 1) / DVD_VIDEO_LB_LEN};
}

}  // namespace

CssDescrambler::CssDescrambler(const std::filesystem::path& source, int fd, const char* library)
    : name_(source.string()), library_(std::make_unique<Library>()) {
    // The VOB sets first: a disc that is not a DVD-Video needs no libdvdcss.
    {
        auto dvd = fd >= 0 ? std::make_unique<DvdReader>(fd, name_, DvdReader::Copy::structures)
                           : std::make_unique<DvdReader>(source);
        if (auto menu = file_run(*dvd, "/VIDEO_TS/VIDEO_TS.VOB")) {
            sets_.push_back({*menu, "VIDEO_TS.VOB"});
        }
        IfoHandle vmg = dvd->vmg();
        for (int titleset = 1; titleset <= vmg->vmgi_mat->vmg_nr_of_title_sets; ++titleset) {
            auto menu_file = fmt::format("/VIDEO_TS/VTS_{:02d}_0.VOB", titleset);
            if (auto menu = file_run(*dvd, menu_file.c_str())) {
                sets_.push_back({*menu, menu_file.substr(10)});
            }
            if (auto titles = dvd->title_vobs(titleset)) {
                sets_.push_back({{titles->first_sector, titles->first_sector + titles->sectors},
                                 fmt::format("VTS_{:02d}_1.VOB", titleset)});
            }
        }
    }
    std::sort(sets_.begin(), sets_.end(),
              [](const VobSet& a, const VobSet& b) { return a.run.first < b.run.first; });
    for (std::size_t i = 0; i < sets_.size(); ++i) {
        if (i > 0 && sets_[i].run.first < sets_[i - 1].run.end) {
            throw DescrambleError(name_ + ": " + sets_[i].name + " overlaps " + sets_[i - 1].name);
        }
        runs_.push_back(sets_[i].run);
    }

    Library& lib = *library_;
    lib.dl = ::dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (lib.dl == nullptr) {
        throw DescrambleError(std::string("cannot load ") + library + ": " + ::dlerror());
    }
    lib.open = symbol<dvdcss::OpenFn>(lib.dl, "dvdcss_open", library);
    lib.open_stream = symbol<dvdcss::OpenStreamFn>(lib.dl, "dvdcss_open_stream", library);
    lib.close = symbol<dvdcss::CloseFn>(lib.dl, "dvdcss_close", library);
    lib.seek = symbol<dvdcss::SeekFn>(lib.dl, "dvdcss_seek", library);
    lib.read = symbol<dvdcss::ReadFn>(lib.dl, "dvdcss_read", library);
    lib.error = symbol<dvdcss::ErrorFn>(lib.dl, "dvdcss_error", library, false);
    if (fd >= 0) {
        stream_ = std::make_unique<Stream>();
        stream_->fd = UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
        if (!stream_->fd) {
            throw DescrambleError(name_ +
                                  ": cannot duplicate its descriptor: " + std::strerror(errno));
        }
        lib.handle = lib.open_stream(stream_.get(), &stream_->callbacks);
    } else {
        lib.handle = lib.open(source.c_str());
    }
    if (lib.handle == nullptr) {
        throw DescrambleError("libdvdcss cannot open " + name_ +
                              " (for a drive: is it a DVD drive, and the disc's region its own?)");
    }
    spdlog::info("{}: CSS-protected; reading its {} VOB sets decrypted through libdvdcss", name_,
                 sets_.size());
}

CssDescrambler::~CssDescrambler() = default;

const CssDescrambler::VobSet* CssDescrambler::set_of(std::uint64_t sector) const {
    for (const VobSet& set : sets_) {
        if (set.run.first <= sector && sector < set.run.end) {
            return &set;
        }
    }
    return nullptr;
}

std::string CssDescrambler::set_name(std::uint64_t sector) const {
    const VobSet* set = set_of(sector);
    return set != nullptr ? set->name : std::string();
}

std::string CssDescrambler::last_error() const {
    const char* text = library_->error != nullptr ? library_->error(library_->handle) : nullptr;
    return text != nullptr && *text != '\0' ? text : "no reason given";
}

int CssDescrambler::read(std::uint64_t sector, std::span<std::byte> out) {
    const VobSet* set = set_of(sector);
    std::uint64_t blocks = out.size() / dvdcss::kBlockSize;
    if (set == nullptr || sector + blocks > set->run.end || sector > INT_MAX) {
        throw std::logic_error(fmt::format("{}: sectors {}..{} are not within one VOB set", name_,
                                           sector, sector + blocks));
    }
    Library& lib = *library_;
    if (set != keyed_) {
        if (lib.seek(lib.handle, static_cast<int>(set->run.first), dvdcss::kSeekKey) < 0) {
            throw DescrambleError(fmt::format("{}: libdvdcss found no key for {} (sector {}): {}",
                                              name_, set->name, set->run.first, last_error()));
        }
        keyed_ = set;
    }
    auto failure = [] { return errno != 0 ? errno : EIO; };
    errno = 0;
    if (lib.seek(lib.handle, static_cast<int>(sector), dvdcss::kNoFlags) !=
        static_cast<int>(sector)) {
        return failure();
    }
    errno = 0;
    int got = lib.read(lib.handle, out.data(), static_cast<int>(blocks), dvdcss::kReadDecrypt);
    if (got != static_cast<int>(blocks)) {
        int error = failure();
        spdlog::debug("{}: libdvdcss read {} of {} sectors at {}: {}", name_, got, blocks, sector,
                      last_error());
        return error;
    }
    return 0;
}

}  // namespace freemkv
