#pragma once

// A disc's identifiers, computed from its table of contents alone (no drive access): the
// MusicBrainz disc ID, the FreeDB/CDDB disc ID and the AccurateRip disc ID with the path of its
// database entry, as whipper computes them (whipper/image/table.py).
//
// MusicBrainz (libdiscid's discid_put): the tracks from the disc's first to its last audio
// track, offsets in frames from MSF 00:00:00 (LBA + 150); data tracks after the audio (an
// enhanced CD) are left out and the audio ends at audio_leadout(). A data track before the audio
// (a mixed-mode CD) stays in, as libdiscid reading the disc keeps it.
//
// CDDB: every track, data ones too, and the disc's lead-out.
//
// AccurateRip: id1 is the sum of the audio tracks' LBAs and the disc's lead-out (an enhanced
// CD's data session included), id2 the sum of each audio track's LBA (1 for LBA 0) times its
// track number and of the lead-out times the audio track count plus one, both modulo 2^32;
// the third is the CDDB ID.
//
// Errors: a table check_toc() refuses, or one libdiscid refuses, throws AudioError naming the
// track. Threading: pure functions, any thread.

#include "cd_toc.hpp"

#include <cstdint>
#include <string>

namespace freemkv {

// 28 characters of MusicBrainz's base64 ('.', '_', '-' for '+', '/', '=').
std::string musicbrainz_disc_id(const CdToc& toc);
// The MusicBrainz web service path that looks the disc up (and that a submission names):
// "/ws/2/discid/<id>".
std::string musicbrainz_lookup_path(const CdToc& toc);

std::uint32_t cddb_disc_id(const CdToc& toc);

struct AccurateRipDiscId {
    int audio_tracks = 0;
    std::uint32_t id1 = 0;
    std::uint32_t id2 = 0;
    std::uint32_t cddb = 0;

    bool operator==(const AccurateRipDiscId&) const = default;
};

AccurateRipDiscId accuraterip_disc_id(const CdToc& toc);
// "NNN-xxxxxxxx-xxxxxxxx-xxxxxxxx" (track count, id1, id2, CDDB ID), as logs show it.
std::string to_string(const AccurateRipDiscId& id);
// The entry's path under the database's base URL: "c/b/a/dBAR-NNN-<id1>-<id2>-<cddb>.bin",
// where a, b, c are the last three hex digits of id1 (c the last).
std::string accuraterip_path(const AccurateRipDiscId& id);

}  // namespace freemkv
