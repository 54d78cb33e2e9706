#pragma once

// Album metadata from MusicBrainz, looked up by the disc's MusicBrainz disc ID:
// GET <base>/ws/2/discid/<id>?inc=recordings+artist-credits&cdstubs=no&fmt=json (ws/2, JSON).
//
// One disc ID can be on several releases (reissues, other countries). The first release, in the
// response's order, with a medium that lists the disc ID and has as many tracks as the disc has
// audio tracks is chosen; `matches` says how many there were. A track's artist is its own
// artist credit, else its recording's, else the release's.
//
// MusicBrainz asks for at most one request a second from a client; a rip makes one. Strings are
// as MusicBrainz has them (valid UTF-8, anything else is rejected): making them into file names
// is the caller's business. Blocks the calling thread; safe to call from several at once.

#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "audio_error.hpp"
#include "http_get.hpp"

namespace freemkv {

struct MusicBrainzOptions {
    std::string base = "https://musicbrainz.org";
    HttpOptions http;
};

struct MusicBrainzTrack {
    // 1..N: the position on the medium. The N-th audio track, whose number is N only when no data
    // track comes first (AlbumMeta::from_release maps them).
    int number = 0;
    std::string title;
    std::string artist;  // the artist credit, its names joined by their join phrases
};

struct MusicBrainzRelease {
    std::string release_id;  // the MusicBrainz release MBID
    std::string title;
    std::string artist;  // the release's artist credit, joined
    std::string date;    // "YYYY", "YYYY-MM" or "YYYY-MM-DD"; "" when MusicBrainz has none
    int medium = 1;      // this disc's position in the release
    int media = 1;       // how many media the release has
    std::vector<MusicBrainzTrack> tracks;  // one per audio track, in order
    int matches = 1;                       // releases that had this disc; >1: the first was taken
};

// The lookup URL for `disc_id` (28 characters of A-Z a-z 0-9 . _ -; anything else throws
// AudioError, so nothing but a disc ID goes into the URL). A trailing '/' on base is dropped.
std::string musicbrainz_url(const std::string& base, const std::string& disc_id);

// Fetches and parses. Nothing when MusicBrainz does not know the disc (404). Throws AudioError
// naming the URL for what http_get throws for, any other status than 200 or 404, and what
// parse_musicbrainz throws for; HttpCancelled when `stop` was requested.
std::optional<MusicBrainzRelease> lookup_musicbrainz(const std::string& disc_id, int audio_tracks,
                                                     const MusicBrainzOptions& options = {},
                                                     std::stop_token stop = {});

// Parses a ws/2 discid response. Throws AudioError naming `source` (the URL) and what is wrong:
// not JSON (or not UTF-8), a required field missing or of the wrong type (the JSON path is
// named), no release with the disc on a medium of `audio_tracks` tracks, track positions that are
// not 1..N.
MusicBrainzRelease parse_musicbrainz(std::string_view json, const std::string& disc_id,
                                     int audio_tracks, const std::string& source);

}  // namespace freemkv
