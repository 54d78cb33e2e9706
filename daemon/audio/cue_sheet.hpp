#pragma once

// The album's cue sheet, referencing one FLAC per track: the "separate files, noncompliant"
// layout that EAC and whipper write. Each track's file starts at its INDEX 01; a track's pregap
// (INDEX 00) lies at the end of the previous track's file (the append-gaps convention of
// cd_toc.hpp), so its TRACK line and INDEX 00 come under the previous FILE and its INDEX 01 at
// 00:00:00 of its own:
//
//   FILE "01 - One.flac" WAVE
//     TRACK 01 AUDIO
//       INDEX 01 00:00:00
//     TRACK 02 AUDIO
//       INDEX 00 03:58:40
//   FILE "02 - Two.flac" WAVE
//       INDEX 01 00:00:00
//
// Strings are quoted, with '"' and '\' escaped by a backslash (cuetools reads such a string as
// one token, keeping the backslashes), and made valid UTF-8 on one line (safe_text()). Lines end
// in LF, as whipper writes them.
//
// Pure text: no I/O, no threads. Errors: AudioError naming the track.

#include <cstdint>
#include <string>
#include <vector>

#include "cd_toc.hpp"

namespace freemkv {

// `frames` as the cue sheet's MM:SS:FF (75 frames a second; minutes may exceed 99).
std::string cue_msf(std::uint32_t frames);

struct CueTrack {
    int number = 0;
    std::string file;       // relative to the cue sheet, e.g. "01 - One.flac"
    std::string title;      // "" leaves TITLE out
    std::string performer;  // "" leaves PERFORMER out
};

struct CueAlbum {
    std::string title;
    std::string performer;
    std::string disc_id;  // REM DISCID (e.g. the MusicBrainz disc ID); "" leaves it out
    std::string date;     // REM DATE; "" leaves it out
    std::string comment = "freemkvd";  // REM COMMENT
    // The hidden track one audio's file, when it was ripped (before track 1's INDEX 01, as its
    // INDEX 00); "" when there is none or it was left out.
    std::string hidden_file;
    std::vector<CueTrack> tracks;  // the audio tracks written, in disc order
};

// The cue sheet's text. The TOC gives the pregaps, ISRCs, the catalog number and pre-emphasis
// (FLAGS PRE). Throws AudioError when a track of `album` is not an audio track of `toc`, the
// tracks are not in disc order, or a file name is empty.
std::string cue_sheet(const CdToc& toc, const CueAlbum& album);

}  // namespace freemkv
