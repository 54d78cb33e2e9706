#pragma once

// What may be ripped as an image. A caller hands the daemon an image open (StartRipImage): the
// kernel checked the caller's own rights when they opened it (ACLs, groups, every directory on the
// way), so the daemon only checks what the descriptor is. A path (StartRip) is read with the
// daemon's rights, so on the system bus it is taken only from root or inside an import folder.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "disc_info.hpp"

namespace freemkv {

struct ImageFd {
    enum class Verdict {
        image,         // a regular file with data: rip it through the descriptor
        block_device,  // the caller decides whether `device` is a drive it manages
        refused,       // not something to rip: `why` says what it is
        unreadable,    // opened without read access (write-only, O_PATH)
    };
    Verdict verdict = Verdict::refused;
    std::string why;
    FileId file;       // its (dev, inode)
    dev_t device = 0;  // a block device's number
};

// Looks at a descriptor a caller handed over as an image, without reading from it or blocking:
// its access mode (not the file's mode bits), its type (a FIFO, socket, character device or
// directory is refused at once), its size (an empty file is refused) and its filesystem (nothing
// from /proc or /sys).
ImageFd check_image_fd(int fd);

// Whether `path` (absolute) is inside one of `folders` once symbolic links and ".." are resolved
// on both sides, so that neither can lead out of a folder. A missing path is in no folder.
bool in_import_folder(const std::filesystem::path& path,
                      const std::vector<std::filesystem::path>& folders);

// Whether `path` names something in /proc or /sys (a kernel interface, never a disc image).
bool is_kernel_interface(const std::filesystem::path& path);

}  // namespace freemkv
