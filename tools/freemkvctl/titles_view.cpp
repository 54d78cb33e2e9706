#include "titles_view.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "bus.hpp"
#include "ctl.hpp"

namespace freemkv::ctl {

namespace {

constexpr std::uint64_t sector_bytes = 2048;

std::string hours_minutes_seconds(std::uint64_t ms) {
    std::uint64_t s = (ms + 500) / 1000;
    return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
}

std::string language_or_dash(const std::string& language) {
    return language.empty() ? "-" : language;
}

std::string audio_text(const std::vector<TitleAudio>& audio) {
    std::string text;
    for (const TitleAudio& a : audio) {
        text += (text.empty() ? "" : ", ") +
                fmt::format("{} {} {}ch", language_or_dash(a.language), a.codec, a.channels);
    }
    return text.empty() ? "-" : text;
}

std::string subtitles_text(const std::vector<std::string>& languages) {
    std::string text;
    for (const std::string& language : languages) {
        text += (text.empty() ? "" : ", ") + language_or_dash(language);
    }
    return text.empty() ? "-" : text;
}

std::string mib(std::uint64_t sectors) {
    return fmt::format("{:.1f}", static_cast<double>(sectors * sector_bytes) / (1024.0 * 1024.0));
}

// The value of `key` as a T, for unsigned types of any width the daemon may send.
template <typename T>
void read_number(const std::map<std::string, sdbus::Variant>& dict, const char* key, T& out) {
    auto it = dict.find(key);
    if (it == dict.end()) {
        return;
    }
    if (it->second.containsValueOfType<std::uint16_t>()) {
        out = it->second.get<std::uint16_t>();
    } else if (it->second.containsValueOfType<std::uint32_t>()) {
        out = it->second.get<std::uint32_t>();
    } else if (it->second.containsValueOfType<std::uint64_t>()) {
        out = static_cast<T>(it->second.get<std::uint64_t>());
    }
}

}  // namespace

std::vector<TitleView> title_views(
    const std::vector<std::map<std::string, sdbus::Variant>>& dicts) {
    std::vector<TitleView> titles;
    for (const auto& dict : dicts) {
        TitleView t;
        read_number(dict, "number", t.number);
        read_number(dict, "titleset", t.titleset);
        read_number(dict, "duration_ms", t.duration_ms);
        read_number(dict, "chapters", t.chapters);
        read_number(dict, "angles", t.angles);
        read_number(dict, "sectors", t.sectors);
        read_prop(dict, "main", t.main);
        std::vector<sdbus::Struct<std::string, std::string, std::uint16_t>> audio;
        read_prop(dict, "audio", audio);
        for (const auto& a : audio) {
            t.audio.push_back({safe_text(a.get<0>()), safe_text(a.get<1>()), a.get<2>()});
        }
        read_prop(dict, "subpictures", t.subpictures);
        for (std::string& language : t.subpictures) {
            language = safe_text(language);
        }
        titles.push_back(std::move(t));
    }
    return titles;
}

std::string titles_table(const std::vector<TitleView>& titles) {
    std::vector<std::vector<std::string>> rows = {
        {"TITLE", "DURATION", "CHAPTERS", "SIZE MiB", "AUDIO", "SUBTITLES"}};
    bool any_main = false;
    for (const TitleView& t : titles) {
        any_main = any_main || t.main;
        rows.push_back({fmt::format("{}{}", t.main ? "*" : " ", t.number),
                        hours_minutes_seconds(t.duration_ms), std::to_string(t.chapters),
                        mib(t.sectors), audio_text(t.audio), subtitles_text(t.subpictures)});
    }
    std::vector<std::size_t> widths(rows[0].size() - 1, 0);
    for (const auto& row : rows) {
        for (std::size_t i = 0; i < widths.size(); ++i) {
            widths[i] = std::max(widths[i], row[i].size());
        }
    }
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < widths.size(); ++i) {
            // Numbers right-aligned, text left-aligned.
            bool numeric = i == 0 || i == 2 || i == 3;
            line += numeric ? fmt::format("{:>{}}  ", row[i], widths[i])
                            : fmt::format("{:<{}}  ", row[i], widths[i]);
        }
        out += line + row.back() + "\n";
    }
    if (titles.empty()) {
        out += "no titles\n";
    } else if (any_main) {
        out += "* main feature\n";
    }
    return out;
}

Json titles_json(const std::string& source, const std::vector<TitleView>& titles) {
    Json items = Json::array();
    for (const TitleView& t : titles) {
        Json audio = Json::array();
        for (const TitleAudio& a : t.audio) {
            audio.push_back(
                {{"codec", a.codec}, {"language", a.language}, {"channels", a.channels}});
        }
        Json item;
        item["number"] = t.number;
        item["titleset"] = t.titleset;
        item["main"] = t.main;
        item["duration_ms"] = t.duration_ms;
        item["duration"] = hours_minutes_seconds(t.duration_ms);
        item["chapters"] = t.chapters;
        item["angles"] = t.angles;
        item["audio"] = std::move(audio);
        item["subtitles"] = t.subpictures;
        item["sectors"] = t.sectors;
        item["bytes"] = t.sectors * sector_bytes;
        items.push_back(std::move(item));
    }
    Json o;
    o["source"] = source;
    o["titles"] = std::move(items);
    return o;
}

std::vector<std::uint16_t> parse_title_numbers(std::string_view text) {
    std::vector<std::uint16_t> numbers;
    auto bad = [&] {
        throw UsageError(fmt::format(
            "--titles '{}': expected title numbers separated by commas, e.g. 1,3", text));
    };
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t comma = std::min(text.find(',', start), text.size());
        std::string_view item = text.substr(start, comma - start);
        while (!item.empty() && item.front() == ' ') {
            item.remove_prefix(1);
        }
        while (!item.empty() && item.back() == ' ') {
            item.remove_suffix(1);
        }
        std::uint16_t n = 0;
        auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
        if (item.empty() || ec != std::errc() || end != item.data() + item.size()) {
            bad();
        }
        numbers.push_back(n);
        start = comma + 1;
    }
    return numbers;
}

}  // namespace freemkv::ctl
