#include "cue_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string>
#include <vector>

namespace freemkv::ctl {

namespace {

std::string_view trim_front(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
        s.remove_prefix(1);
    }
    return s;
}

// The file name of a FILE line's rest: "quoted name" BINARY, or name BINARY.
std::string file_name(std::string_view rest) {
    rest = trim_front(rest);
    if (rest.starts_with('"')) {
        rest.remove_prefix(1);
        return std::string(rest.substr(0, rest.find('"')));
    }
    auto end = std::find_if(rest.begin(), rest.end(),
                            [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
    return std::string(rest.begin(), end);
}

}  // namespace

bool is_cue_sheet(const std::filesystem::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext == ".cue";
}

std::filesystem::path cue_data_file(const std::filesystem::path& cue, std::string_view text) {
    if (text.starts_with("\xEF\xBB\xBF")) {  // a UTF-8 byte order mark
        text.remove_prefix(3);
    }
    std::vector<std::string> files;
    while (!text.empty()) {
        auto eol = text.find_first_of("\r\n");
        std::string_view line = trim_front(text.substr(0, eol));
        text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
        if (line.size() > 4 && line.starts_with("FILE") &&
            std::isspace(static_cast<unsigned char>(line[4]))) {
            files.push_back(file_name(line.substr(4)));
        }
    }
    if (files.size() != 1 || files[0].empty()) {
        throw std::runtime_error(fmt::format(
            "{}: the cue sheet names {} data files; freemkvd rips cue sheets with one BIN",
            cue.string(), files.size()));
    }
    std::filesystem::path file = files[0];
    return file.is_absolute() ? file : cue.parent_path() / file;
}

}  // namespace freemkv::ctl
