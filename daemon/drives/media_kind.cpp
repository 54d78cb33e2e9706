#include "media_kind.hpp"

#include <algorithm>
#include <charconv>
#include <string_view>

namespace freemkv {

namespace {

std::string value(const std::map<std::string, std::string>& props, const std::string& key) {
    auto it = props.find(key);
    return it == props.end() ? std::string() : it->second;
}

unsigned count(const std::map<std::string, std::string>& props, const std::string& key) {
    std::string text = value(props, key);
    unsigned n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    return ec == std::errc() && end == text.data() + text.size() ? n : 0;
}

// ID_CDROM_MEDIA_CD, ID_CDROM_MEDIA_CD_R, ID_CDROM_MEDIA_CD_RW: the medium is a CD.
bool is_cd(const std::map<std::string, std::string>& props) {
    return std::any_of(props.begin(), props.end(), [](const auto& prop) {
        std::string_view key = prop.first;
        return prop.second == "1" &&
               (key == "ID_CDROM_MEDIA_CD" || key.starts_with("ID_CDROM_MEDIA_CD_"));
    });
}

}  // namespace

MediaKind media_kind(const std::map<std::string, std::string>& props) {
    if (value(props, "ID_CDROM_MEDIA_STATE") == "blank") {
        return MediaKind::blank;
    }
    // Audio tracks, and no data track in the same session: an audio CD, or an enhanced CD (its
    // data in a second session). A mixed-mode CD (a data track, then audio, in one session: old
    // games) is imaged, or its data would be lost.
    if (is_cd(props) && count(props, "ID_CDROM_MEDIA_TRACK_COUNT_AUDIO") > 0 &&
        (count(props, "ID_CDROM_MEDIA_TRACK_COUNT_DATA") == 0 ||
         count(props, "ID_CDROM_MEDIA_SESSION_COUNT") > 1)) {
        return MediaKind::audio_cd;
    }
    return MediaKind::data;
}

}  // namespace freemkv
