#pragma once

// The album's m3u playlist (extended M3U, UTF-8):
//
//   #EXTM3U
//   #EXTINF:238,Artist - Title
//   01 - Title.flac
//
// Paths are relative to the playlist, as given. Text is made valid UTF-8 on one line
// (safe_text()). Pure text: no I/O, no threads.

#include <cstdint>
#include <string>
#include <vector>

namespace freemkv {

struct PlaylistEntry {
    std::string file;          // relative to the playlist
    std::uint32_t frames = 0;  // the track's length in CD frames (75 a second)
    std::string artist;
    std::string title;
};

// Seconds are rounded to the nearest. Throws AudioError for an entry without a file.
std::string m3u_playlist(const std::vector<PlaylistEntry>& entries);

}  // namespace freemkv
