#pragma once

// What an album rip tags and names: the album and its tracks, from the disc's CD-TEXT
// (from_toc), or from a MusicBrainz release merged over it (from_release).

#include <map>
#include <string>

#include "cd_toc.hpp"
#include "musicbrainz.hpp"

namespace freemkv {

struct AlbumTrackMeta {
    std::string title;
    std::string artist;  // "" falls back to the album artist
};

struct AlbumMeta {
    std::string album;
    std::string artist;
    std::string date;                      // DATE tag and REM DATE; "" leaves them out
    std::string musicbrainz_discid;        // "" computed from the TOC
    std::string musicbrainz_release;       // the release MBID (MUSICBRAINZ_ALBUMID); "" none
    std::map<int, AlbumTrackMeta> tracks;  // by track number; missing: no title

    // The album and track names from the TOC's CD-TEXT.
    static AlbumMeta from_toc(const CdToc& toc);
    // The release's names over from_toc(toc): a field MusicBrainz has ("" is none) replaces the
    // CD-TEXT one. The release's tracks are the audio tracks by position: its i-th track is the
    // i-th audio track, whatever its number (2.. on a CD whose data track comes first); tracks
    // beyond either list keep their CD-TEXT.
    static AlbumMeta from_release(const MusicBrainzRelease& release, const CdToc& toc);
};

}  // namespace freemkv
