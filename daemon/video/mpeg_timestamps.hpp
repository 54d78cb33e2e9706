#pragma once

// The timestamp repair a DVD title's MPEG program stream needs before Matroska takes it. Plain
// functions on 90 kHz ticks, without libav, so they are tested alone (tests/video/).
//
// - Video: only some frames carry a PTS in the program stream (B-frames often none). Each MPEG-2
//   picture header has a temporal_reference, its place in display order within its GOP, so a
//   frame without PTS gets  anchor + temporal_reference * frame duration, the anchor being the
//   GOP's time of temporal_reference 0 from a frame of the GOP that has a PTS. The DTS, which
//   Matroska does not store but the muxer checks, follows decode order.
// - Audio: the PS parser's PTS of AC-3 frames jitter; a frame within one frame duration of where
//   the previous one ended is placed there, so the audio stays continuous. A larger jump, or the
//   first frame of a cell, resyncs to the frame's own PTS; a frame that would overlap what is
//   already out is dropped.

#include <cstdint>
#include <optional>
#include <span>

namespace freemkv {

struct PictureInfo {
    int temporal_reference = 0;
    bool gop_start = false;  // a GOP header precedes the picture
};

// The first picture header of one MPEG-2 video frame (as the demuxer's parser cuts them), or
// nothing when there is none.
std::optional<PictureInfo> parse_picture(std::span<const std::uint8_t> frame);

class VideoTimestamps {
  public:
    explicit VideoTimestamps(std::int64_t frame_duration) : duration_(frame_duration) {}

    struct Stamp {
        std::int64_t pts = 0;
        std::int64_t dts = 0;
    };
    // The next frame in decode order. `cell_start`: the first frame of a new cell, where the
    // timestamps may restart.
    Stamp next(std::optional<std::int64_t> pts, std::optional<PictureInfo> picture,
               bool cell_start);

  private:
    std::int64_t duration_;
    std::optional<std::int64_t> anchor_;       // the current GOP's time of temporal_reference 0
    std::optional<std::int64_t> next_anchor_;  // where the next GOP starts if it brings no PTS
    int max_reference_ = -1;
    std::optional<std::int64_t> last_pts_;
    std::optional<std::int64_t> last_dts_;
};

class AudioTimestamps {
  public:
    // The time of the next audio frame, or nothing to drop it. `duration`: the frame's length in
    // ticks (0 when unknown: then the frame's own PTS is used).
    std::optional<std::int64_t> next(std::optional<std::int64_t> pts, std::int64_t duration,
                                     bool cell_start);

  private:
    std::optional<std::int64_t> end_;  // where the last frame out ended
};

}  // namespace freemkv
