#pragma once

// The album's rip log: plain text in the manner of EAC's and whipper's logs, for a person to
// judge the rip and for tools that compare a rip's checksums. It says where the audio came from
// (drive or image), the read settings, the TOC, and per track its file, checksums, read errors
// and the AccurateRip verdict (the hidden track one audio, when ripped, as "Track 00" with its
// CRC32 alone), then one summary line:
//   "All tracks accurately ripped"             every track matched AccurateRip, no read errors
//   "N track(s) with errors"                   uncorrected read errors in N tracks
//   "No read errors; N track(s) did not match AccurateRip"
//   "No read errors; N track(s) not checked with AccurateRip"
//
// The fields come from the other audio stages' results (checksums.*, accuraterip_db.*, the
// reader's counters), filled in by the caller. Pure text: no I/O, no threads. Text is made valid
// UTF-8 on one line (safe_text()).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cd_toc.hpp"

namespace freemkv {

// A track's AccurateRip verdict, when the database was asked.
struct AccurateRipVerdict {
    bool matched = false;
    int version = 0;          // the matching checksum's version (1 or 2), when matched
    unsigned confidence = 0;  // submissions that agree with the match
};

struct TrackReport {
    int number = 0;                 // 0: the hidden track one audio (AccurateRip does not know it)
    std::string file;               // as written, relative to the log
    std::optional<double> peak;     // 0..1 of full scale; nullopt: not measured
    std::uint32_t crc32 = 0;        // over the track's PCM
    std::uint32_t ar_v1 = 0;        // AccurateRip v1 checksum
    std::uint32_t ar_v2 = 0;        // AccurateRip v2 checksum
    std::uint64_t read_errors = 0;  // uncorrected (the track is written anyway)
    std::uint64_t corrections = 0;  // errors paranoia corrected by re-reading
    std::optional<AccurateRipVerdict> accurate;  // nullopt: not checked
};

struct RipLogInfo {
    std::string program = "freemkvd";  // with its version, e.g. "freemkvd 0.9"
    std::string date;                  // when the rip ran, as the caller formats it
    std::string drive;                 // the drive's vendor and model; "" for an image
    std::string image;                 // the image ripped (a .cue), "" for a drive
    int read_offset = 0;               // in samples, as applied
    std::string paranoia;              // "full", "overlap", "off"
    int retries = 0;
    std::string artist;
    std::string album;
    std::string musicbrainz_discid;
    std::string accuraterip_discid;
    std::string accuraterip_error;  // why the AccurateRip check failed; "" when it did not
    bool hidden_silent = false;     // the hidden track one audio was silence and left out
    // The audio tracks ripped, in disc order, after the hidden track one audio (number 0) when it
    // was ripped.
    std::vector<TrackReport> tracks;
};

// The log's text. Data tracks of the TOC are listed as left out. Throws AudioError when a
// reported track is not an audio track of `toc` (or 0 on a disc without hidden track one audio).
std::string rip_log(const CdToc& toc, const RipLogInfo& info);

// The summary line alone (the log's last line). The hidden track one audio's read errors count;
// it does not count as unchecked by AccurateRip.
std::string rip_summary(const std::vector<TrackReport>& tracks);

}  // namespace freemkv
