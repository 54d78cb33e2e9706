#include "video_lost.hpp"

#include <algorithm>
#include <limits>

#include "disc_info.hpp"
#include "dvd_titles.hpp"

namespace freemkv {
namespace {

// The map's unfinished ranges in whole sectors (a partly unfinished sector is lost), merged,
// and everything past its end.
std::vector<SectorRange> unfinished_sectors(const Mapfile& map) {
    constexpr std::uint64_t sector = kDiscSectorBytes;
    std::vector<SectorRange> result;
    auto add = [&](std::uint64_t first, std::uint64_t end) {
        if (!result.empty() && result.back().end() >= first) {
            result.back().count = std::max(result.back().end(), end) - result.back().first;
        } else {
            result.push_back({first, end - first});
        }
    };
    for (const MapRange& range : map.ranges()) {
        if (range.status != BlockStatus::finished && range.size > 0) {
            add(range.pos / sector, (range.end() + sector - 1) / sector);
        }
    }
    std::uint64_t past_end = (map.device_size() + sector - 1) / sector;
    add(past_end, std::numeric_limits<std::uint64_t>::max());
    return result;
}

}  // namespace

VideoLoss video_lost(const TitleInfo& title, const TitleVobs& vobs, const Mapfile& map) {
    auto unfinished = unfinished_sectors(map);
    VideoLoss loss;
    std::vector<SectorRange> hits;
    for (const Cell& cell : title.cells) {
        std::uint64_t first = std::uint64_t{vobs.first_sector} + cell.first_sector;
        std::uint64_t end = std::uint64_t{vobs.first_sector} + cell.last_sector + 1;
        for (const SectorRange& bad : unfinished) {
            std::uint64_t from = std::max(first, bad.first);
            std::uint64_t to = std::min(end, bad.end());
            if (from < to) {
                loss.sectors += to - from;
                hits.push_back({from, to - from});
            }
        }
    }
    std::sort(hits.begin(), hits.end(),
              [](const SectorRange& a, const SectorRange& b) { return a.first < b.first; });
    for (const SectorRange& hit : hits) {
        if (!loss.ranges.empty() && loss.ranges.back().end() >= hit.first) {
            auto end = std::max(loss.ranges.back().end(), hit.end());
            loss.ranges.back().count = end - loss.ranges.back().first;
        } else {
            loss.ranges.push_back(hit);
        }
    }
    if (title.sectors > 0) {
        double seconds = std::chrono::duration<double>(title.duration).count();
        loss.seconds =
            seconds * static_cast<double>(loss.sectors) / static_cast<double>(title.sectors);
    }
    return loss;
}

VideoLoss video_lost(const TitleInfo& title, const TitleSectorMap& vobs, const Mapfile& map) {
    auto found = vobs.find(title.titleset);
    if (found == vobs.end()) {
        throw DvdError("title " + std::to_string(title.number) + ": titleset " +
                       std::to_string(title.titleset) + " has no title VOBs");
    }
    return video_lost(title, found->second, map);
}

}  // namespace freemkv
