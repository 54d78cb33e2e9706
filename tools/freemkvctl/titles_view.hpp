#pragma once

// `freemkvctl titles`: what ListTitles answered, as a table and as JSON, and the title numbers of
// `rip --titles 1,3`.

#include <sdbus-c++/sdbus-c++.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "format.hpp"

namespace freemkv::ctl {

struct TitleAudio {
    std::string codec;
    std::string language;  // ISO 639-1, "" when the disc names none
    unsigned channels = 0;
};

struct TitleView {
    unsigned number = 0;
    unsigned titleset = 0;
    std::uint64_t duration_ms = 0;
    unsigned chapters = 0;
    unsigned angles = 0;
    std::vector<TitleAudio> audio;
    std::vector<std::string> subpictures;  // languages
    std::uint64_t sectors = 0;
    bool main = false;
};

// ListTitles' dicts; a key missing or of another type keeps its default.
std::vector<TitleView> title_views(const std::vector<std::map<std::string, sdbus::Variant>>& dicts);

// The table: a header, one line per title ("*" marks the main feature), and a legend.
std::string titles_table(const std::vector<TitleView>& titles);

// {"source": ..., "titles": [{"number", "titleset", "main", "duration_ms", "duration",
// "chapters", "angles", "audio": [{"codec", "language", "channels"}], "subtitles", "sectors",
// "bytes"}]}, the keys in that order.
Json titles_json(const std::string& source, const std::vector<TitleView>& titles);

// "1,3" or "1, 3" to {1, 3}: numbers separated by commas. Throws UsageError for anything else
// (the daemon checks the range and duplicates).
std::vector<std::uint16_t> parse_title_numbers(std::string_view text);

}  // namespace freemkv::ctl
