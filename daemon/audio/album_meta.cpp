#include "album_meta.hpp"

namespace freemkv {

namespace {

void merge(std::string& into, const std::string& value) {
    if (!value.empty()) {
        into = value;
    }
}

}  // namespace

AlbumMeta AlbumMeta::from_toc(const CdToc& toc) {
    AlbumMeta meta;
    meta.album = toc.album_title;
    meta.artist = toc.album_performer;
    for (const CdTrack* t : toc.audio_tracks()) {
        meta.tracks[t->number] = {t->title, t->performer};
    }
    return meta;
}

AlbumMeta AlbumMeta::from_release(const MusicBrainzRelease& release, const CdToc& toc) {
    AlbumMeta meta = from_toc(toc);
    merge(meta.album, release.title);
    merge(meta.artist, release.artist);
    merge(meta.date, release.date);
    meta.musicbrainz_release = release.release_id;
    const auto audio = toc.audio_tracks();
    for (std::size_t i = 0; i < audio.size() && i < release.tracks.size(); ++i) {
        AlbumTrackMeta& track = meta.tracks[audio[i]->number];
        merge(track.title, release.tracks[i].title);
        merge(track.artist, release.tracks[i].artist);
    }
    return meta;
}

}  // namespace freemkv
