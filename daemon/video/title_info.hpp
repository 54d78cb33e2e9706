#pragma once

// What a DVD-Video title is, as its IFO files describe it: read by list_titles
// (dvd_titles.hpp), judged by choose_main_feature (main_feature.hpp).

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace freemkv {

struct AudioStream {
    std::string codec;     // "ac3", "mpeg1", "mpeg2", "lpcm", "dts", "sdds", or "unknown"
    int channels = 0;      // as the IFO declares them (2 for stereo, 6 for 5.1)
    std::string language;  // ISO 639-1 as on the disc ("en"), empty when the disc names none
    // The stream's id in the title VOBs, as libavformat's mpeg demuxer numbers it: a private
    // stream 1 substream (0x80-0x87 AC-3, 0x88-0x8f DTS, 0xa0-0xaf LPCM) or an MPEG audio
    // stream (0x1c0-0x1c7); 0 for a codec the remux cannot carry (SDDS).
    int stream_id = 0;
    int bits = 16;            // LPCM's sample size (16, 20 or 24); 16 for the others
    int sample_rate = 48000;  // 48000, or 96000 (LPCM only)
    bool operator==(const AudioStream&) const = default;
};

struct SubpictureStream {
    std::string language;  // ISO 639-1 ("en"), empty when the disc names none
    int stream_id = 0;     // private stream 1 substream 0x20-0x3f, for the title's aspect
    bool operator==(const SubpictureStream&) const = default;
};

// One cell of the title's program chain: a run of sectors of its titleset's title VOBs
// (VTS_nn_1.VOB...), counted from the first of them. A title may play the same cell twice.
struct Cell {
    std::uint32_t first_sector = 0;
    std::uint32_t last_sector = 0;  // inclusive
    std::uint32_t last_vobu_start_sector = 0;
    bool operator==(const Cell&) const = default;
};

struct VideoFormat {
    int width = 720;
    int height = 576;
    int frame_rate_num = 25;  // 25/1 (PAL) or 30000/1001 (NTSC)
    int frame_rate_den = 1;
    bool wide = false;  // 16:9, else 4:3
    bool operator==(const VideoFormat&) const = default;
};

struct TitleInfo {
    int number = 0;  // 1-based, as a player numbers it
    int titleset = 0;
    std::chrono::milliseconds duration{0};
    int chapters = 0;
    int angles = 1;
    std::vector<AudioStream> audio;
    std::vector<SubpictureStream> subpictures;
    // The cells of angle 1, in playing order; cells of other angles are left out.
    std::vector<Cell> cells;
    // The sectors those cells span, counting a cell played twice twice.
    std::uint64_t sectors = 0;
    // Index into `cells` of each chapter's first cell (the PGC program map), one per chapter.
    std::vector<std::size_t> chapter_cells;
    VideoFormat video;
    // The subpicture colours of the (first) PGC, each 0x00YYCrCb as on the disc.
    std::array<std::uint32_t, 16> palette{};
};

}  // namespace freemkv
