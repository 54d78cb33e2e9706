#pragma once

// The AccurateRip database: a disc's entry (a dBAR file) fetched and parsed, and the verdict on a
// rip's per-track checksums against it.
//
// A dBAR file is a sequence of responses (pressings), each: 1 byte track count N, the disc's
// three IDs as uint32 little-endian (AccurateRip id1, id2, the CDDB/freedb ID), then N times:
// 1 byte confidence, the track's CRC (v1 or v2: the database keeps both kinds side by side),
// uint32 LE, and a CRC of frame 450, uint32 LE (unused here). The same layout as whipper's
// whipper/common/accurip.py reads.
//
// The verdict follows whipper: a track matches when our v1 or v2 checksum equals its CRC in a
// response; its confidence is the highest confidence among the responses with that CRC (whipper's
// "confidence"), and total_confidence their sum. Unlike whipper, a response whose disc IDs or
// track count are not ours is ignored.
//
// Everything blocks the calling thread and may run on several at once.

#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "audio_error.hpp"
#include "http_get.hpp"

namespace freemkv {

struct AccurateRipOptions {
    std::string base = "http://www.accuraterip.com";
    HttpOptions http;
};

struct ArDiscIds {
    std::uint32_t id1 = 0;
    std::uint32_t id2 = 0;
    std::uint32_t cddb = 0;
    bool operator==(const ArDiscIds&) const = default;
};

struct ArEntry {
    unsigned confidence = 0;  // 0..255
    std::uint32_t crc = 0;
    std::uint32_t frame450_crc = 0;
};

struct ArResponse {
    ArDiscIds ids;
    std::vector<ArEntry> tracks;  // the audio tracks in order, hidden track one audio not counted
};

// "<base>/accuraterip/<path>". `path` is the entry's place, "a/b/c/dBAR-NNN-xxxxxxxx-xxxxxxxx-
// xxxxxxxx.bin" (lowercase hex, as disc_ids computes it; a leading "accuraterip/" or "/" is
// accepted). Anything else throws AudioError: only such a path goes into the URL.
std::string accuraterip_url(const std::string& base, const std::string& path);

// Fetches and parses the entry. Nothing when the database has no entry for the disc (404).
// Throws AudioError naming the URL for what http_get throws for, another status than 200 or 404,
// and what parse_accuraterip throws for; HttpCancelled when `stop` was requested.
std::optional<std::vector<ArResponse>> fetch_accuraterip(const std::string& path,
                                                         const AccurateRipOptions& options = {},
                                                         std::stop_token stop = {});

// Parses a dBAR file. Throws AudioError naming `source` and the byte offset for an empty file, a
// response with no tracks, or one cut short. Never reads past `data`.
std::vector<ArResponse> parse_accuraterip(std::string_view data, const std::string& source);

// Our checksums of one track.
struct ArChecksums {
    std::uint32_t v1 = 0;
    std::uint32_t v2 = 0;
};

enum class ArMatch { none, v1, v2 };

struct ArTrackVerdict {
    // The kind of checksum that matched; when both did, the one with the higher confidence (v2 on
    // a tie).
    ArMatch match = ArMatch::none;
    unsigned confidence = 0;        // the highest confidence of a response with the matching CRC
    unsigned total_confidence = 0;  // summed over the responses with the matching CRC
    unsigned max_confidence = 0;    // the highest confidence of any response for this track
    std::uint32_t db_crc = 0;       // the matching CRC; unmatched: the one of max_confidence
};

// One verdict per entry of `ours` (the audio tracks in order). Responses whose IDs are not `ids`
// or whose track count is not ours.size() count for nothing.
std::vector<ArTrackVerdict> accuraterip_verdict(const std::vector<ArResponse>& responses,
                                                const ArDiscIds& ids,
                                                const std::vector<ArChecksums>& ours);

// Every track matched.
bool accurately_ripped(const std::vector<ArTrackVerdict>& verdicts);

}  // namespace freemkv
