#pragma once

// How much of a title's video a damaged rip lost: its cells mapped onto the image
// (title_sectors.hpp) and intersected with the mapfile's unfinished ranges.

#include <cstdint>
#include <vector>

#include "mapfile.hpp"
#include "title_info.hpp"
#include "title_sectors.hpp"

namespace freemkv {

// A run of image sectors.
struct SectorRange {
    std::uint64_t first = 0;
    std::uint64_t count = 0;
    std::uint64_t end() const { return first + count; }
    bool operator==(const SectorRange&) const = default;
};

struct VideoLoss {
    // The title's duration times the share of its sectors that are lost, a cell played twice
    // counted twice (as in TitleInfo::sectors): proportional, not frame exact.
    double seconds = 0;
    std::uint64_t sectors = 0;  // lost sectors of its cells, a cell played twice counted twice
    // The lost image ranges within its cells, each once, sorted and merged: what to retry.
    std::vector<SectorRange> ranges;
};

// A sector is lost when any byte of it is not finished in `map` (non-tried, non-trimmed,
// non-scraped or bad), or lies past the map's end (a short image).
VideoLoss video_lost(const TitleInfo& title, const TitleVobs& vobs, const Mapfile& map);

// The same with the image's map of titlesets; throws DvdError when the title's titleset has no
// title VOBs in it.
VideoLoss video_lost(const TitleInfo& title, const TitleSectorMap& vobs, const Mapfile& map);

inline double seconds_lost(const TitleInfo& title, const TitleVobs& vobs, const Mapfile& map) {
    return video_lost(title, vobs, map).seconds;
}
inline double seconds_lost(const TitleInfo& title, const TitleSectorMap& vobs, const Mapfile& map) {
    return video_lost(title, vobs, map).seconds;
}

}  // namespace freemkv
