#include "title_list.hpp"

#include <cstdint>

#include "main_feature.hpp"
#include "utf8.hpp"

namespace freemkv::bus {

TitleDicts title_dicts(const std::vector<TitleInfo>& titles) {
    std::optional<int> main = choose_main_feature(titles);
    TitleDicts dicts;
    for (const TitleInfo& title : titles) {
        std::vector<sdbus::Struct<std::string, std::string, std::uint16_t>> audio;
        for (const AudioStream& stream : title.audio) {
            audio.emplace_back(safe_text(stream.codec), safe_text(stream.language),
                               static_cast<std::uint16_t>(stream.channels));
        }
        std::vector<std::string> subpictures;
        for (const SubpictureStream& stream : title.subpictures) {
            subpictures.push_back(safe_text(stream.language));
        }
        auto q = [](int n) { return sdbus::Variant(static_cast<std::uint16_t>(n)); };
        dicts.push_back({
            {"number", q(title.number)},
            {"titleset", q(title.titleset)},
            {"duration_ms", sdbus::Variant(static_cast<std::uint64_t>(title.duration.count()))},
            {"chapters", q(title.chapters)},
            {"angles", q(title.angles)},
            {"audio", sdbus::Variant(audio)},
            {"subpictures", sdbus::Variant(subpictures)},
            {"sectors", sdbus::Variant(static_cast<std::uint64_t>(title.sectors))},
            {"main", sdbus::Variant(main == title.number)},
        });
    }
    return dicts;
}

}  // namespace freemkv::bus
