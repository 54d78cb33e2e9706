#pragma once

// Whether a DVD-Video is CSS-protected, found out before a rip reads it, and whether libdvdcss
// (which libdvdread loads to decrypt it) is there. Debian does not ship libdvdcss: contrib's
// libdvd-pkg builds it on the user's machine.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace freemkv {

struct Protection {
    bool css = false;
    // What was found, for the log and the refusal: the drive's copyright info, the scrambled
    // packs seen; "" when nothing was looked at (not a DVD-Video).
    std::string evidence;
};

// Reads the raw sectors at the start of each titleset's title VOBs through `fd` (never
// decrypted: libdvdread is only asked where they are) and checks their packets' scrambling
// bits; on a block device it also asks the drive for the disc's copyright info (DVD_READ_STRUCT,
// DVD_STRUCT_COPYRIGHT), which a loop device or a file cannot answer. Not a DVD-Video, or
// unreadable sectors: not CSS as far as can be told (the rip deals with bad sectors), and the
// evidence says so. `name` is for messages. Never throws for what it reads.
Protection detect_css(int fd, const std::filesystem::path& name);

// Whether one 2048-byte sector is an MPEG-2 pack whose PES packet is marked scrambled (see the
// definition for the bits).
bool pack_scrambled(std::span<const std::byte> sector);

// Whether libdvdcss can be loaded (dlopen, then dlclose); `soname` for tests.
bool dvdcss_available(const char* soname = "libdvdcss.so.2");

// Why a disc with `protection` must not be ripped when libdvdcss is `dvdcss_present` or not:
// "" to go on. The reason names the package to install.
std::string css_refusal(const Protection& protection, bool dvdcss_present);

}  // namespace freemkv
