#include "css.hpp"

#include <dlfcn.h>
#include <linux/cdrom.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "dvd_titles.hpp"
#include "title_sectors.hpp"

namespace freemkv {
namespace {

constexpr std::size_t kSector = 2048;
// Packs read per titleset: past the first NAV pack (never scrambled) into the video and audio
// packs that CSS scrambles, while a disc of many titlesets costs a drive little reading.
constexpr std::uint64_t kPacksPerTitleset = 32;

std::uint8_t byte_at(std::span<const std::byte> s, std::size_t i) {
    return static_cast<std::uint8_t>(s[i]);
}

bool start_code_at(std::span<const std::byte> s, std::size_t i, std::uint8_t id) {
    return i + 4 <= s.size() && byte_at(s, i) == 0 && byte_at(s, i + 1) == 0 &&
           byte_at(s, i + 2) == 1 && byte_at(s, i + 3) == id;
}

// The drive's copyright info for layer 0, when `fd` is a drive that answers.
std::string drive_copyright(int fd, const std::filesystem::path& name, bool& css) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISBLK(st.st_mode)) {
        return {};
    }
    dvd_struct request{};
    request.type = DVD_STRUCT_COPYRIGHT;
    request.copyright.layer_num = 0;
    if (::ioctl(fd, DVD_READ_STRUCT, &request) != 0) {
        // A loop device, a CD, a drive without a DVD: no copyright info to read.
        spdlog::debug("{}: no DVD copyright info: {}", name.string(), std::strerror(errno));
        return {};
    }
    // cpst, the copy protection system type (MMC-6 READ DISC STRUCTURE format 01h): 0 none,
    // 1 CSS/CPPM, 2 CPRM.
    int cpst = request.copyright.cpst;
    css = cpst != 0;
    return "the drive reports copy protection system type " + std::to_string(cpst) +
           (cpst == 1 ? " (CSS)" : "") + ", region mask 0x" +
           fmt::format("{:02x}", request.copyright.rmi);
}

}  // namespace

// A DVD sector is one MPEG-2 program stream pack (ISO/IEC 13818-1, 2.5.3.3): the pack start code
// 0x000001BA, then '01' and the SCR (byte 4), ..., pack_stuffing_length in the low 3 bits of byte
// 13, the stuffing; then maybe a system header (0x000001BB, 2.5.3.5, with its own length), then
// one PES packet (2.4.3.6): its start code and stream_id, PES_packet_length (2 bytes), and for
// the stream ids that carry the optional PES header (private_stream_1 0xBD, audio 0xC0-0xDF,
// video 0xE0-0xEF: table 2-21) the byte '10' PES_scrambling_control(2) PES_priority
// data_alignment copyright original_or_copy. PES_scrambling_control 00 is "not scrambled"
// (table 2-19); CSS marks its scrambled sectors with a non-zero value (libdvdcss's
// dvdcss_unscramble tests the same bits, byte 0x14 & 0x30, assuming no stuffing or system
// header). The copyright bit is not looked at: it says the content is copyrighted, not that the
// sector is scrambled. NAV packs (private_stream_2) and padding have no such field and are never
// scrambled.
bool pack_scrambled(std::span<const std::byte> s) {
    if (s.size() < kSector || !start_code_at(s, 0, 0xba) || (byte_at(s, 4) & 0xc0) != 0x40) {
        return false;  // not an MPEG-2 pack (MPEG-1 packs have no scrambling field)
    }
    std::size_t pos = 14 + (byte_at(s, 13) & 0x07);
    if (start_code_at(s, pos, 0xbb) && pos + 6 <= s.size()) {
        pos += 6 + ((std::size_t{byte_at(s, pos + 4)} << 8) | byte_at(s, pos + 5));
    }
    if (pos + 7 > s.size() || !start_code_at(s, pos, byte_at(s, pos + 3))) {
        return false;
    }
    std::uint8_t id = byte_at(s, pos + 3);
    if (id != 0xbd && (id < 0xc0 || id > 0xef)) {
        return false;
    }
    std::uint8_t flags = byte_at(s, pos + 6);
    return (flags & 0xc0) == 0x80 && (flags & 0x30) != 0;
}

Protection detect_css(int fd, const std::filesystem::path& name) {
    Protection result;
    std::vector<std::string> evidence;
    bool drive_says_css = false;
    if (auto info = drive_copyright(fd, name, drive_says_css); !info.empty()) {
        evidence.push_back(std::move(info));
    }

    bool scrambled_seen = false;
    try {
        std::vector<std::byte> buffer(kPacksPerTitleset * kSector);
        for (const auto& [titleset, vobs] : title_sector_map(fd, name)) {
            std::uint64_t packs = std::min(vobs.sectors, kPacksPerTitleset);
            auto offset = static_cast<off_t>(std::uint64_t{vobs.first_sector} * kSector);
            ssize_t got;
            do {
                got = ::pread(fd, buffer.data(), packs * kSector, offset);
            } while (got < 0 && errno == EINTR);
            auto vob = fmt::format("VTS_{:02d}_1.VOB", titleset);
            if (got < 0) {
                // A drive may refuse scrambled sectors before authentication; so may damage.
                evidence.push_back(vob + ": its first sectors are unreadable (" +
                                   std::strerror(errno) + ")");
                continue;
            }
            std::uint64_t read = static_cast<std::uint64_t>(got) / kSector;
            std::uint64_t scrambled = 0;
            for (std::uint64_t i = 0; i < read; ++i) {
                scrambled += pack_scrambled(std::span(buffer).subspan(i * kSector, kSector));
            }
            if (scrambled > 0) {
                scrambled_seen = true;
                evidence.push_back(fmt::format("{}: {} of its first {} packs are scrambled", vob,
                                               scrambled, read));
                break;  // enough to tell
            }
            evidence.push_back(
                fmt::format("{}: none of its first {} packs is scrambled", vob, read));
        }
    } catch (const DvdError& e) {
        evidence.push_back(std::string("no DVD-Video title VOBs: ") + e.what());
    }
    result.css = drive_says_css || scrambled_seen;
    for (const auto& part : evidence) {
        result.evidence += (result.evidence.empty() ? "" : "; ") + part;
    }
    return result;
}

bool dvdcss_available(const char* soname) {
    void* handle = ::dlopen(soname, RTLD_LAZY | RTLD_LOCAL);
    if (handle == nullptr) {
        return false;
    }
    ::dlclose(handle);
    return true;
}

std::string css_refusal(const Protection& protection, bool dvdcss_present) {
    if (!protection.css || dvdcss_present) {
        return {};
    }
    return "this DVD is CSS-protected; install libdvdcss2 (Debian contrib: apt install "
           "libdvd-pkg && dpkg-reconfigure libdvd-pkg) (" +
           protection.evidence + ")";
}

}  // namespace freemkv
