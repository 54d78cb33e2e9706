#include "disc_info.hpp"

#include <blkid/blkid.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <type_traits>
#include <vector>

#include "block_device.hpp"
#include "full_io.hpp"
#include "io_error.hpp"
#include "unique_fd.hpp"

namespace freemkv {

namespace {

// Sectors 16..256: the ISO9660 volume descriptors and UDF volume recognition sequence start at
// 16, the UDF main volume descriptor sequence usually follows, and the UDF anchor is at 256.
constexpr std::uint64_t kIdentityOffset = 16 * kDiscSectorBytes;
constexpr std::uint64_t kIdentityBytes = (257 - 16) * kDiscSectorBytes;

// Largest CD (99 minutes) is about 870 MB; the largest dual-layer DVD (DVD+R DL) is
// 4,173,824 sectors. Anything larger is a BD.
constexpr std::uint64_t kCdMaxBytes = 900ULL * 1024 * 1024;
constexpr std::uint64_t kDvdMaxBytes = 4'173'824ULL * kDiscSectorBytes;

std::string describe(const std::filesystem::path& path) {
    return path.string() + ": ";
}

constexpr std::size_t kPieceBytes = 32 * 1024;

struct Free {
    void operator()(void* p) const { std::free(p); }
};

// Reads up to `length` bytes at `offset`, fewer only at the end of the medium, the way the rip
// reads: O_DIRECT where the source takes it (a buffered read of a scratched start makes the
// kernel retry page by page, for minutes), in pieces, checking `stop` before each.
std::vector<unsigned char> read_area(const UniqueFd& fd, const std::filesystem::path& path,
                                     std::uint64_t offset, std::uint64_t length, bool may_go_direct,
                                     const std::stop_token& stop) {
    void* p = nullptr;
    if (::posix_memalign(&p, 4096, kPieceBytes) != 0) {
        throw std::bad_alloc();
    }
    std::unique_ptr<unsigned char, Free> buffer(static_cast<unsigned char*>(p));
    int flags = ::fcntl(fd.get(), F_GETFL);
    bool direct = may_go_direct && flags >= 0 && ::fcntl(fd.get(), F_SETFL, flags | O_DIRECT) == 0;
    auto buffered = [&] {
        if (direct) {
            direct = false;
            (void)::fcntl(fd.get(), F_SETFL, flags);  // best effort: reads stay correct either way
        }
    };
    std::vector<unsigned char> data;
    data.reserve(length);
    try {
        while (data.size() < length) {
            if (stop.stop_requested()) {
                throw IdentifyCancelled(describe(path) + "identification cancelled");
            }
            std::size_t n = std::min<std::uint64_t>(kPieceBytes, length - data.size());
            ssize_t got =
                ::pread(fd.get(), buffer.get(), n, static_cast<off_t>(offset + data.size()));
            if (got < 0 && errno == EINTR) {
                continue;
            }
            if (got < 0 && errno == EINVAL && direct) {
                buffered();  // larger alignment than a sector (4Kn storage): through the cache
                continue;
            }
            if (got < 0) {
                throw IoError("read", path, offset + data.size(), errno);
            }
            if (got == 0) {
                break;
            }
            data.insert(data.end(), buffer.get(), buffer.get() + got);
        }
    } catch (...) {
        buffered();
        throw;
    }
    buffered();
    return data;
}

// A memory file the size of the disc holding only `area` at `offset`: blkid probes it instead of
// the medium, so everything it looks at was read (interruptibly) once.
UniqueFd memory_copy(const std::filesystem::path& path, std::uint64_t size, std::uint64_t offset,
                     const std::vector<unsigned char>& area) {
    UniqueFd fd(::memfd_create("freemkv-identify", MFD_CLOEXEC));
    if (!fd) {
        throw IoError("create a memory file for", path, 0, errno);
    }
    if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
        throw IoError("size a memory file for", path, size, errno);
    }
    pwrite_full(fd.get(), std::as_bytes(std::span(area)), offset, path);
    return fd;
}

struct ProbeDeleter {
    void operator()(blkid_probe probe) const { blkid_free_probe(probe); }
};
using Probe = std::unique_ptr<std::remove_pointer_t<blkid_probe>, ProbeDeleter>;

std::string lookup(blkid_probe probe, const char* name) {
    const char* data = nullptr;
    std::size_t len = 0;
    if (blkid_probe_lookup_value(probe, name, &data, &len) != 0 || data == nullptr) {
        return {};
    }
    return std::string(data, ::strnlen(data, len));
}

void probe_filesystem(const UniqueFd& fd, const std::filesystem::path& path, DiscInfo& info) {
    Probe probe(blkid_new_probe());
    if (!probe) {
        throw std::bad_alloc();
    }
    errno = 0;
    if (blkid_probe_set_device(probe.get(), fd.get(), 0, 0) != 0) {
        throw IoError("probe (blkid)", path, 0, errno != 0 ? errno : EIO);
    }
    blkid_probe_enable_partitions(probe.get(), 0);
    blkid_probe_enable_superblocks(probe.get(), 1);
    // Only disc filesystems: other signatures (an isohybrid's extra ones, chance matches in raw
    // data) would otherwise make the result ambivalent or misleading.
    char iso9660[] = "iso9660";
    char udf[] = "udf";
    char* names[] = {iso9660, udf, nullptr};
    if (blkid_probe_filter_superblocks_type(probe.get(), BLKID_FLTR_ONLYIN, names) != 0) {
        throw IoError("set up probe (blkid) for", path, 0, ENOMEM);
    }

    errno = 0;
    int rc = blkid_do_safeprobe(probe.get());
    if (rc == 1) {
        return;  // no filesystem: raw data, still rippable
    }
    if (rc == -2) {
        throw DiscError(describe(path) + "conflicting ISO9660/UDF signatures (blkid)");
    }
    if (rc != 0) {
        throw IoError("probe (blkid)", path, 0, errno != 0 ? errno : EIO);
    }
    info.fs_type = lookup(probe.get(), "TYPE");
    info.label = lookup(probe.get(), "LABEL");
    info.uuid = lookup(probe.get(), "UUID");
    info.volume_id = lookup(probe.get(), "VOLUME_SET_ID");
    if (info.volume_id.empty()) {
        info.volume_id = lookup(probe.get(), "VOLUME_ID");
    }
}

// udev's cdrom_id sets ID_CDROM_MEDIA_<PROFILE>=1 for the inserted medium, e.g. BD, BD_R,
// DVD, DVD_PLUS_R_DL, CD, CD_RW. (ID_CDROM_<PROFILE> without MEDIA is what the drive can read.)
std::optional<DiscType> type_from_udev(const std::map<std::string, std::string>& props) {
    constexpr std::string_view kPrefix = "ID_CDROM_MEDIA_";
    auto present = [&](std::string_view profile) {
        return std::any_of(props.begin(), props.end(), [&](const auto& prop) {
            std::string_view key = prop.first;
            if (prop.second != "1" || !key.starts_with(kPrefix)) {
                return false;
            }
            key.remove_prefix(kPrefix.size());
            return key == profile || (key.starts_with(profile) && key.size() > profile.size() &&
                                      key[profile.size()] == '_');
        });
    };
    if (present("BD")) {
        return DiscType::bd;
    }
    if (present("DVD")) {
        return DiscType::dvd;
    }
    if (present("CD")) {
        return DiscType::cd;
    }
    return std::nullopt;
}

DiscType type_from_size(std::uint64_t size) {
    if (size <= kCdMaxBytes) {
        return DiscType::cd;
    }
    if (size <= kDvdMaxBytes) {
        return DiscType::dvd;
    }
    return DiscType::bd;
}

class Fnv1a64 {
  public:
    void add(const void* data, std::size_t size) {
        const auto* bytes = static_cast<const unsigned char*>(data);
        for (std::size_t i = 0; i < size; ++i) {
            hash_ = (hash_ ^ bytes[i]) * 0x100000001b3ULL;
        }
    }
    void add(std::uint64_t value) {
        unsigned char bytes[8];
        for (int i = 0; i < 8; ++i) {
            bytes[i] = static_cast<unsigned char>(value >> (8 * i));
        }
        add(bytes, sizeof bytes);
    }
    // Length first, so ("ab", "c") and ("a", "bc") differ.
    void add(const std::string& text) {
        add(static_cast<std::uint64_t>(text.size()));
        add(text.data(), text.size());
    }
    std::string hex() const {
        static constexpr char kDigits[] = "0123456789abcdef";
        std::string out(16, '0');
        for (int i = 0; i < 16; ++i) {
            out[static_cast<std::size_t>(15 - i)] = kDigits[(hash_ >> (4 * i)) & 0xf];
        }
        return out;
    }

  private:
    std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

std::string compute_identity(const std::vector<unsigned char>& area, const DiscInfo& info) {
    Fnv1a64 hash;
    hash.add(info.size_bytes);
    if (info.start_unreadable) {
        hash.add(std::string("start unreadable"));
    } else {
        hash.add(area.data(), area.size());
    }
    hash.add(info.uuid);
    hash.add(info.label);
    return hash.hex();
}

}  // namespace

unsigned ecc_block_sectors(DiscType type) {
    return type == DiscType::bd ? 32 : 16;
}

void expect_same_file(int fd, const FileId& expected, const std::filesystem::path& path) {
    struct stat st {};
    if (!expected.known()) {
        return;
    }
    if (::fstat(fd, &st) != 0) {
        throw IoError("stat", path, 0, errno);
    }
    if (FileId{st.st_dev, st.st_ino} != expected) {
        throw DiscError(describe(path) +
                        "is another file than the one checked when the rip was requested (it "
                        "was replaced or a link on the way was changed); request it again");
    }
}

namespace {

// Everything after the open: size, filesystem, identity, type. `own_fd`: the daemon opened it, so
// read_area may switch it to O_DIRECT; a caller's descriptor shares its flags with the caller.
DiscInfo identify_open(const UniqueFd& fd, const std::filesystem::path& source,
                       bool is_block_device, const std::map<std::string, std::string>& udev_props,
                       bool own_fd, const std::stop_token& stop) {
    DiscInfo info;
    info.source = source;
    info.is_block_device = is_block_device;
    struct stat st {};
    if (info.is_block_device) {
        info.size_bytes = block_device_bytes(fd.get(), source);
    } else {
        if (::fstat(fd.get(), &st) != 0) {
            throw IoError("stat", source, 0, errno);
        }
        info.size_bytes = static_cast<std::uint64_t>(st.st_size);
    }
    if (info.size_bytes == 0) {
        throw DiscError(describe(source) + "is empty (0 bytes)");
    }
    if (info.size_bytes % kDiscSectorBytes != 0) {
        throw DiscError(describe(source) + "size " + std::to_string(info.size_bytes) +
                        " is not a whole number of " + std::to_string(kDiscSectorBytes) +
                        "-byte sectors (truncated image?)");
    }

    std::vector<unsigned char> area;
    try {
        if (info.size_bytes > kIdentityOffset) {
            auto length = std::min(kIdentityBytes, info.size_bytes - kIdentityOffset);
            area = read_area(fd, source, kIdentityOffset, length, own_fd, stop);
            if (area.size() != length) {
                throw IoError("read (medium ended early)", source, kIdentityOffset + area.size(),
                              EIO);
            }
        }
        probe_filesystem(memory_copy(source, info.size_bytes, kIdentityOffset, area), source, info);
        info.identity = compute_identity(area, info);
    } catch (const IoError& e) {
        if (e.code().value() != EIO) {
            throw;
        }
        spdlog::warn("{}: the volume descriptors are unreadable ({}); ripping it anyway",
                     source.string(), e.what());
        info.start_unreadable = true;
        auto udev = [&](const char* key) {
            auto it = udev_props.find(key);
            return it == udev_props.end() ? std::string() : it->second;
        };
        info.fs_type = udev("ID_FS_TYPE");
        info.label = udev("ID_FS_LABEL");
        info.uuid = udev("ID_FS_UUID");
        info.volume_id = udev("ID_FS_VOLUME_SET_ID");
        info.identity = compute_identity(area, info);
    }

    if (auto type = type_from_udev(udev_props)) {
        info.type = *type;
    } else {
        info.type = type_from_size(info.size_bytes);
        info.type_guessed = true;
    }
    return info;
}

}  // namespace

DiscInfo identify_disc(const std::filesystem::path& source,
                       const std::map<std::string, std::string>& udev_props, const FileId& expected,
                       std::stop_token stop) {
    // stat before open: opening a FIFO would block, and a directory opens fine.
    struct stat st {};
    if (::stat(source.c_str(), &st) != 0) {
        throw IoError("stat", source, 0, errno);
    }
    if (S_ISDIR(st.st_mode)) {
        throw DiscError(describe(source) + "is a directory, not a disc or disc image");
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        throw DiscError(describe(source) + "is neither a block device nor a regular file");
    }

    UniqueFd fd(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        throw IoError("open", source, 0, errno);
    }
    expect_same_file(fd.get(), expected, source);
    return identify_open(fd, source, S_ISBLK(st.st_mode), udev_props, true, stop);
}

DiscInfo identify_disc(int image_fd, const std::filesystem::path& name,
                       const std::map<std::string, std::string>& udev_props, std::stop_token stop) {
    struct stat st {};
    if (::fstat(image_fd, &st) != 0) {
        throw IoError("stat", name, 0, errno);
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        throw DiscError(describe(name) + "is neither a block device nor a regular file");
    }
    UniqueFd fd(::fcntl(image_fd, F_DUPFD_CLOEXEC, 0));
    if (!fd) {
        throw IoError("dup", name, 0, errno);
    }
    return identify_open(fd, name, S_ISBLK(st.st_mode), udev_props, false, stop);
}

}  // namespace freemkv
