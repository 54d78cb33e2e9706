#include "track_naming.hpp"

#include <fmt/format.h>

#include <optional>
#include <stdexcept>

#include "naming.hpp"

namespace freemkv {

namespace {

[[noreturn]] void invalid(std::string_view tmpl, std::string_view why) {
    throw std::invalid_argument(fmt::format("track naming template '{}': {}", tmpl, why));
}

std::string or_else(std::string_view value, std::string fallback) {
    std::string s = sanitize_component(value);
    return s.empty() ? fallback : s;
}

// The template filled in; `track` unset refuses {track} and {title}.
std::filesystem::path expand(std::string_view tmpl, const AlbumNameFields& album,
                             std::optional<int> track, std::string_view title) {
    auto value = [&](std::string_view field) -> std::string {
        if (field == "artist") {
            return or_else(album.artist, "Unknown Artist");
        }
        if (field == "album") {
            std::string id = sanitize_component(album.discid);
            return or_else(album.album, id.empty() ? "Audio CD" : "Audio CD " + id);
        }
        if (field == "discid") {
            return or_else(album.discid, "unknown");
        }
        if (field != "track" && field != "track:02" && field != "title") {
            invalid(tmpl, fmt::format("unknown placeholder {{{}}}", field));
        }
        if (!track) {
            invalid(tmpl, fmt::format("{{{}}} in an album file's name", field));
        }
        if (field == "track") {
            return std::to_string(*track);
        }
        if (field == "track:02") {
            return fmt::format("{:02}", *track);
        }
        return or_else(title, fmt::format("Track {:02}", *track));
    };

    std::filesystem::path result;
    std::string component;
    auto end_component = [&] {
        cut_component(component, max_component_bytes);
        if (component.empty() || component.find_first_not_of(' ') == std::string::npos ||
            component == "." || component == "..") {
            invalid(tmpl, "it has an empty, '.' or '..' component");
        }
        result /= component;
        component.clear();
    };
    if (tmpl.starts_with('/')) {
        invalid(tmpl, "it is an absolute path");
    }
    for (std::size_t i = 0; i < tmpl.size(); ++i) {
        char c = tmpl[i];
        if ((c == '{' || c == '}') && i + 1 < tmpl.size() && tmpl[i + 1] == c) {
            component += c;
            ++i;
        } else if (c == '}') {
            invalid(tmpl, "'}' without '{'");
        } else if (c == '/') {
            end_component();
        } else if (c == '\0') {
            invalid(tmpl, "it has a NUL");
        } else if (c != '{') {
            component += c;
        } else {
            auto end = tmpl.find('}', i);
            if (end == std::string_view::npos) {
                invalid(tmpl, "'{' without '}'");
            }
            component += value(tmpl.substr(i + 1, end - i - 1));
            i = end;
        }
    }
    end_component();
    return result;
}

}  // namespace

void validate_track_template(std::string_view tmpl) {
    (void)expand(tmpl, {}, 1, "");  // only the errors matter here
}

std::filesystem::path track_file(std::string_view tmpl, const AlbumNameFields& album, int track,
                                 std::string_view title) {
    auto path = expand(tmpl, album, track, title);
    return path.string() + ".flac";
}

std::filesystem::path album_file(std::string_view tmpl, const AlbumNameFields& album,
                                 std::string_view extension) {
    auto path = expand(tmpl, album, std::nullopt, "");
    return path.string() + std::string(extension);
}

}  // namespace freemkv
