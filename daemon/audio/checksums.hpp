#pragma once

// The checksums of one ripped track, computed while its samples stream past: the EAC "Copy CRC"
// (CRC32 of the track's PCM bytes), AccurateRip v1 and v2, and AccurateRip's CRC of frame 450
// (what its database keeps to find a drive's read offset).
//
// Input: little-endian interleaved 16-bit stereo PCM (4 bytes a sample, left first), the track's
// bytes in order, in blocks of any size (a block may end inside a sample).
//
// AccurateRip sums each sample (its 4 bytes as a little-endian 32-bit word) times its 1-based
// position in the track: v1 keeps the low 32 bits of each product, v2 adds the high 32 bits too.
// The disc's first audio track leaves out its first 5 frames less one sample (2939 samples) and
// its last audio track its last 5 frames (2940 samples), as EAC's published code and whipper's
// accuraterip-checksum do; like them, a last track shorter than 5 frames is summed whole (their
// unsigned end position wraps), and a first track shorter than 5 frames sums to 0.
//
// Threading: none inside. One object per track, used by one thread at a time.

#include "cd_toc.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace freemkv {

inline constexpr std::uint32_t kCdSampleBytes = kCdFrameBytes / kCdSamplesPerFrame;  // 4
// Samples AccurateRip leaves out at the start of the first track and the end of the last one.
inline constexpr std::uint32_t kAccurateRipSkipSamples = 5 * kCdSamplesPerFrame;  // 2940

// Where a track sits among the disc's audio tracks (a single-track disc is both).
struct TrackPosition {
    bool first = false;
    bool last = false;
};

// The position of audio track `number` of `toc`; throws AudioError if it is not an audio track.
TrackPosition track_position(const CdToc& toc, int number);

struct TrackChecksums {
    std::uint64_t samples = 0;  // stereo samples fed
    std::uint32_t crc32 = 0;    // EAC's Copy CRC: zlib's crc32 over the PCM bytes
    std::uint32_t accuraterip_v1 = 0;
    std::uint32_t accuraterip_v2 = 0;
    // Samples 450 * 588 .. 451 * 588 - 1 of the track, each times its 1-based position in that
    // frame, low 32 bits; nothing when the track is shorter than 451 frames.
    std::optional<std::uint32_t> accuraterip_frame450;
};

class TrackChecksummer {
  public:
    explicit TrackChecksummer(TrackPosition position);

    void update(std::span<const std::byte> pcm);
    // Native 16-bit samples as paranoia returns them (little-endian on the hosts we build for).
    void update(std::span<const std::int16_t> pcm);

    // The checksums of everything fed. Throws AudioError if the input ended inside a sample.
    TrackChecksums finish() const;

  private:
    void add(std::uint32_t sample);

    TrackPosition position_;
    std::uint64_t samples_ = 0;
    std::uint32_t crc_ = 0;
    std::uint32_t v1_ = 0;
    std::uint32_t hi_ = 0;  // v2 = v1 + the sum of the products' high words
    std::uint32_t frame450_ = 0;
    std::byte partial_[4] = {};
    std::size_t partial_bytes_ = 0;
    // The last track's last 2940 samples, whose terms finish() takes out again: the track's end
    // is not known while it streams.
    std::vector<std::uint32_t> tail_;
};

}  // namespace freemkv
