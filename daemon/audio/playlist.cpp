#include "playlist.hpp"

#include <fmt/format.h>

#include "audio_error.hpp"
#include "cd_toc.hpp"
#include "utf8.hpp"

namespace freemkv {

std::string m3u_playlist(const std::vector<PlaylistEntry>& entries) {
    std::string out = "#EXTM3U\n";
    for (const auto& e : entries) {
        if (e.file.empty()) {
            throw AudioError("playlist: an entry titled \"" + safe_text(e.title) +
                             "\" has no file");
        }
        std::uint32_t seconds = (e.frames + kCdFramesPerSecond / 2) / kCdFramesPerSecond;
        std::string name = e.artist.empty() ? safe_text(e.title)
                                            : safe_text(e.artist) + " - " + safe_text(e.title);
        out += fmt::format("#EXTINF:{},{}\n{}\n", seconds, name, safe_text(e.file));
    }
    return out;
}

}  // namespace freemkv
