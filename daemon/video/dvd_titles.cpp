#include "dvd_titles.hpp"

#include <dvdread/dvd_reader.h>
#include <dvdread/ifo_read.h>
#include <dvdread/ifo_types.h>
#include <linux/fs.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

namespace freemkv {
namespace {

// What libdvdread said while reading one image: logged, and its last complaint kept for the
// error that follows it.
struct LogContext {
    std::string image;
    std::string last_error;
};

void log_from_dvdread(void* priv, dvd_logger_level_t level, const char* format, va_list args) {
    auto* context = static_cast<LogContext*>(priv);
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
    spdlog::debug("{}: libdvdread: {}", context->image, text);
    if (level == DVD_LOGGER_LEVEL_ERROR) {
        context->last_error = text;
    }
}

const dvd_logger_cb kLogger{&log_from_dvdread};

struct DvdCloser {
    void operator()(dvd_reader_t* dvd) const { DVDClose(dvd); }
};
struct IfoCloser {
    void operator()(ifo_handle_t* ifo) const { ifoClose(ifo); }
};
using DvdHandle = std::unique_ptr<dvd_reader_t, DvdCloser>;
using IfoHandle = std::unique_ptr<ifo_handle_t, IfoCloser>;

int from_bcd(std::uint8_t value) {
    return (value >> 4) * 10 + (value & 0x0f);
}

std::chrono::milliseconds to_duration(const dvd_time_t& time) {
    // The two high bits of frame_u are the frame rate: 1 is 25 fps, 3 is 29.97 fps.
    double fps = (time.frame_u >> 6) == 3 ? 30000.0 / 1001.0 : 25.0;
    auto frames = from_bcd(time.frame_u & 0x3f);
    auto seconds = from_bcd(time.hour) * 3600 + from_bcd(time.minute) * 60 + from_bcd(time.second);
    return std::chrono::milliseconds(seconds * 1000) +
           std::chrono::milliseconds(static_cast<long>(frames * 1000.0 / fps + 0.5));
}

std::string language_of(int type, std::uint16_t code) {
    if (type != 1 || code == 0) {
        return {};
    }
    std::string language{static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
    for (char c : language) {
        if (c < 'a' || c > 'z') {
            return {};
        }
    }
    return language;
}

std::string codec_of(const audio_attr_t& attr) {
    switch (attr.audio_format) {
        case 0:
            return "ac3";
        case 2:
            return "mpeg1";
        case 3:
            return "mpeg2";
        case 4:
            return "lpcm";
        case 6:
            return "dts";
        case 7:
            return "sdds";
        default:
            return "unknown";
    }
}

// The id of audio stream `number` (the PGC's audio control) in the VOBs.
int audio_stream_id(const audio_attr_t& attr, int number) {
    switch (attr.audio_format) {
        case 0:
            return 0x80 + number;
        case 2:
        case 3:
            return 0x1c0 + number;
        case 4:
            return 0xa0 + number;
        case 6:
            return 0x88 + number;
        default:
            return 0;
    }
}

// The streams the PGC marks available, with the titleset's attributes of each.
void add_streams(const vtsi_mat_t& mat, const pgc_t& pgc, TitleInfo& title) {
    for (int i = 0; i < mat.nr_of_vts_audio_streams && i < 8; ++i) {
        if (pgc.audio_control[i] & 0x8000) {
            const audio_attr_t& attr = mat.vts_audio_attr[i];
            title.audio.push_back(
                {.codec = codec_of(attr),
                 .channels = attr.channels + 1,
                 .language = language_of(attr.lang_type, attr.lang_code),
                 .stream_id = audio_stream_id(attr, (pgc.audio_control[i] >> 8) & 7)});
        }
    }
    // Each subpicture stream names its substream per display shape: 4:3 in bits 24-28, wide in
    // bits 16-20.
    int shift = title.video.wide ? 16 : 24;
    for (int i = 0; i < mat.nr_of_vts_subp_streams && i < 32; ++i) {
        if (pgc.subp_control[i] & 0x80000000u) {
            const subp_attr_t& attr = mat.vts_subp_attr[i];
            title.subpictures.push_back(
                {.language = language_of(attr.type, attr.lang_code),
                 .stream_id = 0x20 + static_cast<int>((pgc.subp_control[i] >> shift) & 0x1f)});
        }
    }
}

VideoFormat video_format_of(const video_attr_t& attr) {
    VideoFormat video;
    bool pal = attr.video_format == 1;
    video.height = pal ? 576 : 480;
    video.frame_rate_num = pal ? 25 : 30000;
    video.frame_rate_den = pal ? 1 : 1001;
    static constexpr int kWidths[] = {720, 704, 352, 352};
    video.width = kWidths[attr.picture_size & 3];
    if (attr.picture_size == 3) {
        video.height /= 2;
    }
    video.wide = attr.display_aspect_ratio == 3;
    return video;
}

// Appends the PGC's cells of angle 1 and returns, for each cell of the PGC, its index in
// title.cells (a cell of another angle maps to its block's first cell).
std::vector<std::size_t> add_cells(const pgc_t& pgc, TitleInfo& title) {
    std::vector<std::size_t> index;
    for (int i = 0; i < pgc.nr_of_cells; ++i) {
        const cell_playback_t& cell = pgc.cell_playback[i];
        // In an angle block (block_type 1) only its first cell (block_mode 1) is angle 1.
        if (cell.block_type == 1 && cell.block_mode != 1) {
            index.push_back(title.cells.empty() ? 0 : title.cells.size() - 1);
            continue;
        }
        index.push_back(title.cells.size());
        title.cells.push_back({.first_sector = cell.first_sector,
                               .last_sector = cell.last_sector,
                               .last_vobu_start_sector = cell.last_vobu_start_sector});
        title.sectors += cell.last_sector - cell.first_sector + 1;
    }
    return index;
}

// The first sectors of an image: the UDF and ISO 9660 structures, and VIDEO_TS.IFO after them
// (the DVD-Video zone starts with it).
constexpr std::uint64_t structure_sectors = 2048;

// The sectors of a DVD image that libdvdread reads to list its titles, copied from a descriptor
// into a sparse memfd of the image's size (zeros elsewhere).
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

// The titles of an open image; `context` is the one it was opened with.
std::vector<TitleInfo> read_titles(DvdHandle dvd, LogContext& context) {
    auto fail = [&](std::string_view what) {
        std::string message = context.image + ": " + std::string(what);
        if (!context.last_error.empty()) {
            message += " (libdvdread: " + context.last_error + ")";
        }
        return DvdError(message);
    };
    if (!dvd) {
        throw fail("cannot open it as a DVD");
    }
    IfoHandle vmg{ifoOpen(dvd.get(), 0)};
    if (!vmg || vmg->tt_srpt == nullptr) {
        throw fail("not a DVD-Video image: VIDEO_TS.IFO is missing or unreadable");
    }

    std::map<int, IfoHandle> titlesets;
    std::vector<TitleInfo> titles;
    const tt_srpt_t& table = *vmg->tt_srpt;
    for (int n = 0; n < table.nr_of_srpts; ++n) {
        const title_info_t& entry = table.title[n];
        auto name = "title " + std::to_string(n + 1) + " (titleset " +
                    std::to_string(entry.title_set_nr) + ")";
        auto& vts = titlesets[entry.title_set_nr];
        if (!vts) {
            vts.reset(ifoOpen(dvd.get(), entry.title_set_nr));
        }
        if (!vts || vts->vtsi_mat == nullptr || vts->vts_ptt_srpt == nullptr ||
            vts->vts_pgcit == nullptr) {
            throw fail(name + ": its titleset's IFO is missing or unreadable");
        }
        if (entry.vts_ttn < 1 || entry.vts_ttn > vts->vts_ptt_srpt->nr_of_srpts) {
            throw fail(name + ": not in its titleset's part-of-title table");
        }

        TitleInfo title{.number = n + 1,
                        .titleset = entry.title_set_nr,
                        .chapters = entry.nr_of_ptts,
                        .angles = entry.nr_of_angles};
        // The PGCs the title's chapters play, in order, a run of chapters in one PGC once (usually
        // a single PGC).
        const ttu_t& parts = vts->vts_ptt_srpt->title[entry.vts_ttn - 1];
        title.video = video_format_of(vts->vtsi_mat->vts_video_attr);
        int last_pgcn = 0;
        const pgc_t* pgc = nullptr;
        std::vector<std::size_t> cell_index;
        for (int p = 0; p < parts.nr_of_ptts; ++p) {
            int pgcn = parts.ptt[p].pgcn;
            if (pgcn != last_pgcn) {
                if (pgcn < 1 || pgcn > vts->vts_pgcit->nr_of_pgci_srp) {
                    throw fail(name + ": chapter " + std::to_string(p + 1) +
                               " names a missing PGC");
                }
                pgc = vts->vts_pgcit->pgci_srp[pgcn - 1].pgc;
                if (pgc == nullptr) {
                    throw fail(name + ": PGC " + std::to_string(pgcn) + " is unreadable");
                }
                if (last_pgcn == 0) {
                    add_streams(*vts->vtsi_mat, *pgc, title);
                    for (std::size_t i = 0; i < title.palette.size(); ++i) {
                        title.palette[i] = pgc->palette[i];
                    }
                }
                title.duration += to_duration(pgc->playback_time);
                cell_index = add_cells(*pgc, title);
                last_pgcn = pgcn;
            }
            // A chapter starts at its program's entry cell.
            int program = parts.ptt[p].pgn;
            if (program >= 1 && program <= pgc->nr_of_programs && pgc->program_map != nullptr) {
                std::size_t cell = pgc->program_map[program - 1];
                if (cell >= 1 && cell <= cell_index.size()) {
                    title.chapter_cells.push_back(cell_index[cell - 1]);
                }
            }
        }
        titles.push_back(std::move(title));
    }
    return titles;
}

}  // namespace

std::vector<TitleInfo> list_titles(const std::filesystem::path& image) {
    LogContext context{.image = image.string()};
    std::error_code error;
    if (!std::filesystem::is_regular_file(image, error) &&
        !std::filesystem::is_block_file(image, error)) {
        throw DvdError(image.string() + ": not a file or block device" +
                       (error ? " (" + error.message() + ")" : ""));
    }
    return read_titles(DvdHandle{DVDOpen2(&context, &kLogger, image.c_str())}, context);
}

std::vector<TitleInfo> list_titles(int fd, const std::string& name) {
    // libdvdread 6.1 reads an image only by path (its stream callbacks work only through
    // libdvdcss), and opening /proc/self/fd/N would check the daemon's right to read the file,
    // not the caller's. So the sectors it needs (the file system's structures and the IFO files)
    // are copied from the descriptor into a sparse file of our own, and listed from there.
    LogContext context{.image = name};
    IfoCopy copy(fd, name);
    std::string path = "/proc/self/fd/" + std::to_string(copy.fd());
    copy.sectors(0, structure_sectors);
    std::uint64_t vmg_sector = copy.find_vmg();
    copy.ifo_at(vmg_sector, "DVDVIDEO-VMG");
    {
        // The titlesets' IFOs start where the title table says, in sectors from VIDEO_TS.IFO.
        DvdHandle dvd{DVDOpen2(&context, &kLogger, path.c_str())};
        IfoHandle vmg{dvd ? ifoOpen(dvd.get(), 0) : nullptr};
        if (vmg && vmg->tt_srpt != nullptr) {
            for (int n = 0; n < vmg->tt_srpt->nr_of_srpts; ++n) {
                copy.ifo_at(vmg_sector + vmg->tt_srpt->title[n].title_set_sector, "DVDVIDEO-VTS");
            }
        }
    }
    context.last_error.clear();
    return read_titles(DvdHandle{DVDOpen2(&context, &kLogger, path.c_str())}, context);
}

}  // namespace freemkv
