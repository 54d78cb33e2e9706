#include "cd_toc.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace freemkv {

std::vector<const CdTrack*> CdToc::audio_tracks() const {
    std::vector<const CdTrack*> out;
    for (const auto& t : tracks) {
        if (t.audio) {
            out.push_back(&t);
        }
    }
    return out;
}

std::uint32_t CdToc::audio_leadout() const {
    bool audio_seen = false;
    for (const auto& t : tracks) {
        if (t.audio) {
            audio_seen = true;
        } else if (audio_seen) {
            return t.start >= kCdSessionGapFrames ? t.start - kCdSessionGapFrames : t.start;
        }
    }
    return leadout;
}

std::uint32_t CdToc::frames(const CdTrack& track) const {
    std::uint32_t end = audio_leadout();
    for (std::size_t i = 0; i < tracks.size(); ++i) {
        if (&tracks[i] == &track && i + 1 < tracks.size() && tracks[i + 1].audio) {
            end = tracks[i + 1].start;
        }
    }
    return end > track.start ? end - track.start : 0;
}

std::uint32_t CdToc::hidden_frames() const {
    if (tracks.empty() || !tracks.front().audio) {
        return 0;
    }
    // LBA 0 is already past the 150-frame lead-in gap: whatever track 1 has before its INDEX 01
    // from LBA 0 on is audio a player does not play.
    return tracks.front().start;
}

const CdTrack* CdToc::track(int number) const {
    for (const auto& t : tracks) {
        if (t.number == number) {
            return &t;
        }
    }
    return nullptr;
}

void check_toc(const CdToc& toc) {
    if (toc.audio_tracks().empty()) {
        throw std::invalid_argument("the disc has no audio track");
    }
    int number = 0;
    std::uint32_t start = 0;
    for (const auto& t : toc.tracks) {
        if (t.number <= number || t.number > 99) {
            throw std::invalid_argument(
                fmt::format("track {} is out of order (after track {})", t.number, number));
        }
        if (number != 0 && t.start <= start) {
            throw std::invalid_argument(fmt::format(
                "track {} starts at frame {}, not after track {}", t.number, t.start, number));
        }
        if (t.pregap > t.start) {
            throw std::invalid_argument(fmt::format(
                "track {}'s pregap of {} frames starts before the disc", t.number, t.pregap));
        }
        if (t.start >= toc.leadout) {
            throw std::invalid_argument(
                fmt::format("track {} starts at frame {}, past the lead-out at {}", t.number,
                            t.start, toc.leadout));
        }
        number = t.number;
        start = t.start;
    }
}

}  // namespace freemkv
