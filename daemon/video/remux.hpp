#pragma once

// One DVD-Video title to Matroska, by stream copy (libavformat's mpeg demuxer and matroska
// muxer), with the timestamps repaired (mpeg_timestamps.hpp) and the cells placed end to end
// (title_reader.hpp). The tracks come from the IFO (TitleInfo), not from probing, so a subtitle
// whose first packet comes late is still there: the video, every audio stream the PGC enables
// (AC-3, DTS, MPEG audio; LPCM is left out, with a warning, as Matroska has no DVD LPCM), every
// subpicture stream as S_VOBSUB with the PGC's palette, languages as ISO 639-2/B. Chapters start
// where the cells of the PGC's programs start.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <stop_token>
#include <vector>

#include "byte_sink.hpp"
#include "remux_error.hpp"
#include "title_info.hpp"

namespace freemkv {

struct RemuxProgress {
    std::uint64_t sectors_done = 0;
    std::uint64_t sectors_total = 0;
};

struct RemuxResult {
    std::chrono::milliseconds duration{0};  // the cells end to end, from their NAV packs
    std::uint64_t video_frames = 0;
    std::vector<std::chrono::milliseconds> chapter_starts;
    std::uint64_t bytes_written = 0;  // the size of the Matroska file
};

// Remuxes title `title` (a TitleInfo from list_titles, dvd_titles.hpp) of the DVD-Video image
// at `image` into Matroska written to `out`. The image's pages are dropped from the page cache
// as they are read. Throws DvdError (the image cannot be read as a DVD-Video) or RemuxError,
// naming the image and title; RemuxCancelled when `stop` is requested; whatever `out` throws.
// `progress` is called every few MiB of the title and at its end.
RemuxResult remux_title(const std::filesystem::path& image, const TitleInfo& title, ByteSink& out,
                        const std::function<void(const RemuxProgress&)>& progress,
                        std::stop_token stop);

}  // namespace freemkv
