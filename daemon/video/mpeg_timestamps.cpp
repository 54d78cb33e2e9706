#include "mpeg_timestamps.hpp"

#include <algorithm>
#include <cstdlib>

namespace freemkv {

std::optional<PictureInfo> parse_picture(std::span<const std::uint8_t> frame) {
    PictureInfo info;
    for (std::size_t i = 0; i + 5 < frame.size(); ++i) {
        if (frame[i] != 0 || frame[i + 1] != 0 || frame[i + 2] != 1) {
            continue;
        }
        std::uint8_t code = frame[i + 3];
        if (code == 0xb8) {
            info.gop_start = true;
        } else if (code == 0x00) {
            info.temporal_reference = (frame[i + 4] << 2) | (frame[i + 5] >> 6);
            return info;
        }
    }
    return std::nullopt;
}

VideoTimestamps::Stamp VideoTimestamps::next(std::optional<std::int64_t> pts,
                                             std::optional<PictureInfo> picture, bool cell_start) {
    if (cell_start || (picture && picture->gop_start)) {
        if (anchor_) {
            next_anchor_ = *anchor_ + (max_reference_ + 1) * duration_;
        }
        anchor_.reset();
        max_reference_ = -1;
    }
    int reference = picture ? picture->temporal_reference : max_reference_ + 1;
    Stamp stamp;
    if (pts) {
        stamp.pts = *pts;
        anchor_ = *pts - reference * duration_;
    } else {
        if (!anchor_) {
            anchor_ = next_anchor_
                          ? *next_anchor_
                          : (last_pts_ ? *last_pts_ + duration_ : 0) - reference * duration_;
        }
        stamp.pts = *anchor_ + reference * duration_;
    }
    max_reference_ = std::max(max_reference_, reference);

    // A frame decodes no later than it shows, and after the frame before it. The first one of
    // the stream precedes every frame that shows before it.
    if (!last_dts_) {
        stamp.dts = stamp.pts - (reference + 1) * duration_;
    } else {
        stamp.dts = std::max(std::min(stamp.pts, *last_dts_ + duration_), *last_dts_);
        stamp.pts = std::max(stamp.pts, stamp.dts);
    }
    last_dts_ = stamp.dts;
    last_pts_ = stamp.pts;
    return stamp;
}

std::optional<std::int64_t> AudioTimestamps::next(std::optional<std::int64_t> pts,
                                                  std::int64_t duration, bool cell_start) {
    std::int64_t time = 0;
    if (!end_) {
        if (!pts) {
            return std::nullopt;
        }
        time = *pts;
    } else if (!pts || duration <= 0) {
        time = pts ? *pts : *end_;
    } else if (!cell_start && std::abs(*pts - *end_) <= duration) {
        time = *end_;
    } else {
        time = *pts;
    }
    if (end_ && time < *end_) {
        return std::nullopt;
    }
    end_ = time + std::max<std::int64_t>(duration, 0);
    return time;
}

}  // namespace freemkv
