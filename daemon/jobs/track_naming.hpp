#pragma once

// Where an audio CD's files go in the library: one FLAC per track from a template such as
// "{artist}/{album}/{track:02} - {title}", and the album's cue sheet, log and playlist named
// after the album ("{artist}/{album}/{album}" + ".cue", ".log", ".m3u").
//
// Placeholders: {artist}, {album}, {title}, {discid}, {track} and {track:02} (at least two
// digits); "{{" and "}}" are literal braces; '/' makes subdirectories. Every field is sanitised
// like safe_file_name() (no '/', no leading dot, no control characters or NUL, invalid UTF-8 as
// '_', at most max_label_bytes), so a field can add no component and no "..". Empty fields
// (also after sanitising) fall back to "Unknown Artist", "Audio CD <discid>" (or "Audio CD")
// and "Track NN"; {discid} to "unknown". A component longer than max_component_bytes is cut on
// a character boundary.
//
// Pure functions, no I/O. Errors: std::invalid_argument naming the template.

#include <filesystem>
#include <string>
#include <string_view>

namespace freemkv {

inline constexpr std::string_view default_track_naming = "{artist}/{album}/{track:02} - {title}";
inline constexpr std::string_view default_album_naming = "{artist}/{album}/{album}";

struct AlbumNameFields {
    std::string artist;  // the album artist (CD-TEXT or MusicBrainz); "" when unknown
    std::string album;   // "" when unknown
    std::string discid;  // the MusicBrainz disc ID
};

// Throws std::invalid_argument saying what is wrong with a track or album template: an
// unknown placeholder, an unmatched brace, an absolute path, an empty, "." or ".." component.
void validate_track_template(std::string_view tmpl);

// A track's FLAC, relative to the library: the template filled in, plus ".flac".
std::filesystem::path track_file(std::string_view tmpl, const AlbumNameFields& album, int track,
                                 std::string_view title);

// An album file (cue sheet, log, playlist), relative to the library: the template filled in
// ({track} and {title} are refused), plus `extension` (".cue").
std::filesystem::path album_file(std::string_view tmpl, const AlbumNameFields& album,
                                 std::string_view extension);

}  // namespace freemkv
