#pragma once

// One CD track encoded to FLAC (libFLAC++), written through an OutputFile and so through the
// writeback pipeline like every file the daemon writes.
//
// The input is the reader's stream: interleaved little-endian signed 16-bit stereo at 44.1 kHz,
// in blocks of any size (a block may end inside a sample; the rest comes with the next block).
// The encoder runs with verify on (it decodes every frame it made and compares), at a compression
// level 0-8, with the track's total samples in STREAMINFO from the start, Vorbis comments and a
// PADDING block, so that tags can be edited later without rewriting the file.
//
// The encoder writes at offset 0 of `out` and onwards, and seeks back once at the end to rewrite
// STREAMINFO (OutputFile drains its pipeline for that). The caller publishes `out` after finish().
//
// Errors: AudioError naming the file (the OutputFile's final path), for an invalid option or tag
// key, a failed write (the IoError's text is kept: "No space left on device"), a verify mismatch,
// or a sample count that differs from the one announced. After an error the writer is unusable
// and the OutputFile must not be published.
//
// Threading: none of its own; one thread at a time. The pipeline work happens in write() and
// finish(), on the caller's thread.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "output_file.hpp"

namespace freemkv {

struct FlacOptions {
    int compression_level = 5;           // 0 (fastest) .. 8 (smallest)
    std::uint32_t padding_bytes = 8192;  // room for later tag edits
};

// The Vorbis comments of one track. Empty values are left out (ISRC when the disc has none, DATE
// when unknown). Values may be any bytes: invalid UTF-8 and control characters become U+FFFD (a
// line break becomes a space), as safe_text() does.
struct FlacTags {
    std::string title;
    std::string artist;
    std::string album;
    std::string album_artist;
    std::optional<int> track_number;  // nullopt: left out (0 is the hidden track one audio)
    int track_total = 0;              // 0: left out
    std::string musicbrainz_discid;
    std::string musicbrainz_albumid;  // the release MBID
    std::string isrc;
    std::string date;
    // Further comments in this order (ACCURATERIP results, a read-errors flag...). A key may hold
    // ASCII 0x20-0x7D except '=' (the Vorbis comment spec); other bytes become '_'. An empty key
    // is an error.
    std::vector<std::pair<std::string, std::string>> extra;
};

// The comments as written, key and value each, in file order.
std::vector<std::pair<std::string, std::string>> vorbis_comments(const FlacTags& tags);

// A key made valid per the Vorbis comment spec ('_' for each byte outside 0x20-0x7D or '=').
std::string vorbis_key(std::string_view key);

class FlacWriter {
  public:
    // Starts the stream of a track of `total_samples` stereo samples (588 per CD frame). `out`
    // must outlive the writer. Throws AudioError.
    FlacWriter(OutputFile& out, std::uint64_t total_samples, const FlacTags& tags,
               const FlacOptions& options = {});
    ~FlacWriter();
    FlacWriter(const FlacWriter&) = delete;
    FlacWriter& operator=(const FlacWriter&) = delete;

    // Encodes the next bytes of PCM. Throws AudioError (also for more samples than announced).
    void write(std::span<const std::byte> pcm);
    // Ends the stream: flushes the last frame and rewrites STREAMINFO. Throws AudioError when
    // fewer samples came than announced, or a byte is left over.
    void finish();

    std::uint64_t samples_written() const;

  private:
    class Encoder;
    std::unique_ptr<Encoder> encoder_;
};

}  // namespace freemkv
