#pragma once

// What a DVD-Video title is, as its IFO files describe it: read by list_titles
// (dvd_titles.hpp), judged by choose_main_feature (main_feature.hpp).

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace freemkv {

struct AudioStream {
    std::string codec;     // "ac3", "mpeg1", "mpeg2", "lpcm", "dts", "sdds", or "unknown"
    int channels = 0;      // as the IFO declares them (2 for stereo, 6 for 5.1)
    std::string language;  // ISO 639-1 as on the disc ("en"), empty when the disc names none
    bool operator==(const AudioStream&) const = default;
};

struct SubpictureStream {
    std::string language;  // ISO 639-1 ("en"), empty when the disc names none
    bool operator==(const SubpictureStream&) const = default;
};

// One cell of the title's program chain: a run of sectors of its titleset's title VOBs
// (VTS_nn_1.VOB...), counted from the first of them. A title may play the same cell twice.
struct Cell {
    std::uint32_t first_sector = 0;
    std::uint32_t last_sector = 0;  // inclusive
    bool operator==(const Cell&) const = default;
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
};

}  // namespace freemkv
