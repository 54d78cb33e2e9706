#include "dvd_titles.hpp"

#include <dvdread/ifo_types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "dvd_reader.hpp"
#include "pgc_cells.hpp"

namespace freemkv {
namespace {

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
            bool lpcm = attr.audio_format == 4;
            title.audio.push_back(
                {.codec = codec_of(attr),
                 .channels = attr.channels + 1,
                 .language = language_of(attr.lang_type, attr.lang_code),
                 .stream_id = audio_stream_id(attr, (pgc.audio_control[i] >> 8) & 7),
                 // quantization 0, 1, 2: 16, 20, 24 bits; sample_frequency 1: 96 kHz
                 .bits = lpcm ? 16 + 4 * std::min<int>(attr.quantization, 2) : 16,
                 .sample_rate = lpcm && attr.sample_frequency == 1 ? 96000 : 48000});
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

// The titles of an open image.
std::vector<TitleInfo> read_titles(const DvdReader& dvd) {
    auto fail = [&](std::string_view what) { return dvd.error(what); };
    IfoHandle vmg = dvd.vmg();

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
    return read_titles(DvdReader(image));
}

std::vector<TitleInfo> list_titles(int fd, const std::string& name) {
    return read_titles(DvdReader(fd, name, DvdReader::Copy::titleset_ifos));
}

}  // namespace freemkv
