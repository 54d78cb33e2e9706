#pragma once

// What a disc (an optical drive's block device, a loop device or an image file) is, read from
// its own bytes with libblkid: filesystem, label, uuid, medium type and a fingerprint that
// recognises the same disc again later (to resume a rip).

#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>

#include "enum_names.hpp"

namespace freemkv {

// The medium cannot be ripped as it is: not a disc or image, empty, or truncated mid-sector.
class DiscError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// identify_disc was stopped through its stop token before it was done.
class IdentifyCancelled : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// The file a path named when a caller's access to it was checked. The path may point elsewhere
// by the time the rip opens it (a renamed file, a swapped symlink), so every later open compares
// the file it got with this one. Empty (ino 0) when nothing was checked: a drive, or a rip the
// daemon's own user asked for.
struct FileId {
    std::uint64_t dev = 0;
    std::uint64_t ino = 0;
    bool known() const { return ino != 0; }
    bool operator==(const FileId&) const = default;
};

// Throws DiscError when `expected` is known and the open `fd` is another file.
void expect_same_file(int fd, const FileId& expected, const std::filesystem::path& path);

enum class DiscType { unknown, cd, dvd, bd };

inline constexpr EnumNames<DiscType, 4> disc_type_names{{
    {DiscType::unknown, "unknown"},
    {DiscType::cd, "cd"},
    {DiscType::dvd, "dvd"},
    {DiscType::bd, "bd"},
}};
inline std::string_view to_string(DiscType type) {
    return name_of(disc_type_names, type);
}

inline constexpr std::uint32_t kDiscSectorBytes = 2048;

struct DiscInfo {
    std::filesystem::path source;
    bool is_block_device = false;
    std::uint64_t size_bytes = 0;  // BLKGETSIZE64 for devices, st_size for files
    std::uint32_t sector_size = kDiscSectorBytes;
    // "iso9660", "udf", or "" when neither is found: a raw data disc can still be ripped, so that
    // is not an error; label, volume_id and uuid are then empty too. A UDF bridge disc (ISO9660
    // and UDF, as on DVD-Video) is reported as "udf" with the UDF label.
    std::string fs_type;
    std::string label;      // blkid LABEL (UDF: logical volume id; ISO9660: volume id)
    std::string volume_id;  // blkid VOLUME_SET_ID, else VOLUME_ID; "" when blkid has neither
    std::string uuid;       // blkid UUID (ISO9660: from the creation date; UDF: volume set id)
    DiscType type = DiscType::unknown;
    bool type_guessed = false;  // true when `type` comes from the size, not from udev
    std::string identity;       // 16 hex digits; the same bytes give the same identity anywhere
    // The volume descriptors (sectors 16..256) could not be read: a scratch at the start of the
    // disc. The disc is still ripped (the rip engine deals with bad sectors); the filesystem
    // fields come from udev's probe if it had one (ID_FS_*), and the identity from the size and
    // those fields alone.
    bool start_unreadable = false;
};

// Opens, reads and probes `source`. `udev_props` are the device's udev properties when known;
// their ID_CDROM_MEDIA_BD* / _DVD* / _CD* entries decide the type. Without them the type is
// guessed from the size (type_guessed): up to 900 MiB cd, up to a dual-layer DVD dvd, else bd.
// Throws IoError when a system call fails (missing path; a read error other than EIO, which is
// start_unreadable) and DiscError when the source is not something that can be ripped.
// The medium is read as the rip reads it (bypassing the page cache where the source allows, in
// pieces of 32 KiB) and `stop` is checked between pieces: IdentifyCancelled.
DiscInfo identify_disc(const std::filesystem::path& source,
                       const std::map<std::string, std::string>& udev_props = {},
                       const FileId& expected = {}, std::stop_token stop = {});

// The same for a file the daemon was handed open (a caller's descriptor for an image): read
// through `fd` only, never re-opened by path, and buffered (O_DIRECT would change the flags the
// caller's descriptor shares); `name` is for messages.
DiscInfo identify_disc(int fd, const std::filesystem::path& name,
                       const std::map<std::string, std::string>& udev_props = {},
                       std::stop_token stop = {});

// Sectors per read request: the medium's ECC unit, so one bad spot costs exactly one unit.
// DVD 16 (32 KiB ECC block), BD 32 (64 KiB cluster). CD has no multi-sector ECC block (CIRC
// works within each sector's frames), so CD and unknown use 16: 32 KiB is an efficient read
// that every drive accepts, and on an unknown medium never spans more than one DVD ECC block.
unsigned ecc_block_sectors(DiscType type);

}  // namespace freemkv
