#pragma once

// An audio CD's table of contents: the vocabulary every audio stage shares (reading, checksums,
// disc IDs, the cue sheet, the log).
//
// Red Book: a frame (sector) holds 2352 bytes, 588 stereo samples of 16 bits, 75 frames a
// second. LBA 0 is MSF 00:02:00: the 150 frames before it are not addressable.
//
// Track lengths follow the convention of EAC, whipper and cyanrip: a track runs from its INDEX 01
// to the next track's INDEX 01, so the pregap (INDEX 00) of a track is appended to the end of the
// one before it. Audio before track 1's INDEX 01 (a "hidden track one audio") belongs to no track.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace freemkv {

inline constexpr std::uint32_t kCdFrameBytes = 2352;
inline constexpr std::uint32_t kCdSamplesPerFrame = 588;
inline constexpr std::uint32_t kCdFramesPerSecond = 75;
inline constexpr std::uint32_t kCdBytesPerSecond = kCdFrameBytes * kCdFramesPerSecond;  // "1x"
inline constexpr std::uint32_t kCdLeadInFrames = 150;
// Between the audio session of an enhanced CD and its data session: lead-out, lead-in and pregap
// of the second session (the Blue Book's 11,400 frames, as libdiscid and MusicBrainz count it).
inline constexpr std::uint32_t kCdSessionGapFrames = 11400;

struct CdTrack {
    int number = 0;             // 1..99
    std::uint32_t start = 0;    // LBA of INDEX 01
    std::uint32_t pregap = 0;   // frames of INDEX 00 before `start` (0: none)
    bool audio = true;          // false: a data track (left out of an audio rip)
    bool pre_emphasis = false;  // the Q subchannel's pre-emphasis flag
    std::string isrc;           // "" when the disc has none
    std::string title;          // CD-TEXT, "" when absent
    std::string performer;      // CD-TEXT, "" when absent
};

struct CdToc {
    std::vector<CdTrack> tracks;  // in disc order, numbers ascending
    std::uint32_t leadout = 0;    // LBA of the lead-out (the disc's last session)
    std::string catalog;          // the media catalog number (UPC/EAN), "" when absent
    std::string album_title;      // CD-TEXT, "" when absent
    std::string album_performer;  // CD-TEXT, "" when absent

    // The audio tracks, in order.
    std::vector<const CdTrack*> audio_tracks() const;
    // Where the audio ends: the lead-out, or on an enhanced CD (audio, then a data track in a
    // second session) the data track's start less the session gap.
    std::uint32_t audio_leadout() const;
    // Frames of `track` under the append-gaps convention: to the next track's INDEX 01 (the next
    // track's pregap included), the last audio track to audio_leadout().
    std::uint32_t frames(const CdTrack& track) const;
    // Frames before track 1's INDEX 01 that hold audio a player skips (hidden track one audio):
    // track 1's pregap beyond the standard 150-frame lead-in gap. 0 when there is none.
    std::uint32_t hidden_frames() const;
    const CdTrack* track(int number) const;
};

// Throws std::invalid_argument naming what is wrong: no audio track, numbers not ascending from
// 1..99, starts not ascending, a track past the lead-out.
void check_toc(const CdToc& toc);

}  // namespace freemkv
