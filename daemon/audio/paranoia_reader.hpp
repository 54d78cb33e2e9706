#pragma once

// Reads an audio CD's tracks with libcdio-paranoia, as whipper and EAC do: a track under the
// append-gaps convention (CdToc::frames), shifted by the drive's read offset, delivered in blocks
// of little-endian interleaved stereo 16-bit samples so the caller hashes and encodes while
// reading.
//
// The read offset, in samples: +N means the drive delivers each sample N samples late, so a
// track's samples are those N samples later in the stream it returns. Samples the offset moves
// before the disc's start or past its audio (CdToc::audio_leadout) come out as zeros, as EAC and
// whipper write them.
//
// Paranoia's messages go to spdlog (CDDA_MESSAGE_LOGIT, drained after each call), never to
// stderr. Its callback is counted per read: reads, verifies, fixups (corrections), skips (samples
// given up on after the retries: uncorrectable), with where each skip was.
//
// Unreadable frames (a scratch). Pathology: paranoia (libcdio-paranoia 10.2+2.0.1,
// i_paranoia_read_limited) does not bound the reads of a frame that fails. A failed read leaves
// zeros flagged unread, which never verify, so it rereads its whole cache window (1200 frames)
// again and again; it compares its retry count with max_retries only every fifth retry (1 or 3
// never match) and otherwise skips only once its overlap window has grown to its widest, which
// on failing reads takes many minutes or never comes (measured: over 150 s on a 4-frame bad
// region of an 832-frame BIN, full and overlap modes, unfinished). Strategy: the read function
// under paranoia bounds it, so paranoia never sees a failed read. A frame that fails is read again
// at once, `retries` reads in all (one once failed reads have cost the track `error_time`); when
// none succeeds it is given up for the rest of this read: it reads as the same noise every time,
// so paranoia verifies it and goes on, and the track gets zeros for it and a skip at its
// position. Errors and skips count only where they fall inside the track's samples: paranoia
// reads far ahead (its cache window) and back (its overlap), into the neighbouring tracks.
//
// Byte order: paranoia guesses a drive's from the audio itself; MMC drives and BIN files deliver
// CD-DA little-endian, so the guess is switched off and little-endian assumed.
//
// Errors: AudioError naming the source and track (paranoia cannot open the disc, a read fails
// hard). Threading: one read at a time per reader, on the calling thread; the sink, progress and
// the stop token are called and checked on it, per sector.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "cd_source.hpp"

namespace freemkv {

enum class ParanoiaMode { full, overlap, off };

// "full", "overlap" or "off"; throws AudioError naming `name` otherwise.
ParanoiaMode parse_paranoia_mode(const std::string& name);
const char* paranoia_mode_name(ParanoiaMode mode);

struct ParanoiaOptions {
    ParanoiaMode mode = ParanoiaMode::full;
    int retries = 20;              // failed reads of a frame before it is skipped (at least 1)
    std::int32_t read_offset = 0;  // samples, see above
    // Once a track's failed reads took this long, each further bad frame gets one read.
    std::chrono::steady_clock::duration error_time = std::chrono::minutes(5);
};

struct TrackReadStats {
    std::uint64_t samples = 0;  // stereo samples delivered
    std::uint64_t reads = 0;    // PARANOIA_CB_READ
    std::uint64_t verifies = 0;
    std::uint64_t fixups = 0;       // edge, atom, dropped, duped fixups
    std::uint64_t skips = 0;        // uncorrectable: paranoia or the retries above gave up
    std::uint64_t read_errors = 0;  // failed reads inside the track (several per bad frame)
    // Where frames were skipped, in stereo samples from the disc's LBA 0.
    std::vector<std::uint64_t> skip_positions;
    bool silent = true;      // every delivered sample is zero
    bool cancelled = false;  // the stop token stopped the read; the sink got a prefix
};

// Little-endian interleaved stereo: 2 values per sample.
using SampleSink = std::function<void(std::span<const std::int16_t>)>;
// Stereo samples delivered so far in this read.
using ReadProgress = std::function<void(std::uint64_t)>;

class ParanoiaReader {
  public:
    // Throws AudioError when paranoia cannot open the source.
    ParanoiaReader(const CdSource& source, ParanoiaOptions options);
    ParanoiaReader(const ParanoiaReader&) = delete;
    ParanoiaReader& operator=(const ParanoiaReader&) = delete;
    ~ParanoiaReader();

    // Track `number` (an audio track of the source's TOC) under the append-gaps convention.
    TrackReadStats read_track(int number, const SampleSink& sink, std::stop_token stop = {},
                              const ReadProgress& progress = {});
    // The hidden track one audio, "track 0": CdToc::hidden_frames() from LBA 0 (no samples when
    // the disc has none). `silent` in the result tells whether it is worth keeping.
    TrackReadStats read_hidden(const SampleSink& sink, std::stop_token stop = {},
                               const ReadProgress& progress = {});
    // `frames` frames from `first` (LBA), shifted by the read offset: what the two above use.
    TrackReadStats read_frames(std::uint32_t first, std::uint32_t frames, const std::string& what,
                               const SampleSink& sink, std::stop_token stop,
                               const ReadProgress& progress);

  private:
    struct State;
    const CdSource& source_;
    ParanoiaOptions options_;
    std::unique_ptr<State> state_;
};

}  // namespace freemkv
