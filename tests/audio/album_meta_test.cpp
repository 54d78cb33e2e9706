// AlbumMeta from CD-TEXT and from a MusicBrainz release merged over it, tracks by position.

#include "album_meta.hpp"

#include <gtest/gtest.h>

namespace freemkv {
namespace {

CdTrack track(int number, std::uint32_t start, bool audio, std::string title = {},
              std::string performer = {}) {
    CdTrack t;
    t.number = number;
    t.start = start;
    t.audio = audio;
    t.title = std::move(title);
    t.performer = std::move(performer);
    return t;
}

// A data track first (a "mixed mode" CD): the audio tracks are 2, 3 and 4.
CdToc data_first() {
    CdToc toc;
    toc.tracks = {track(1, 0, false), track(2, 20000, true, "Zwei", "CD-Text Band"),
                  track(3, 30000, true, "Drei"), track(4, 40000, true, "Vier", "Guest")};
    toc.leadout = 50000;
    toc.album_title = "CD-Text Album";
    toc.album_performer = "CD-Text Band";
    return toc;
}

MusicBrainzRelease release_of(std::vector<MusicBrainzTrack> tracks) {
    MusicBrainzRelease r;
    r.release_id = "0f9a3c2e-6b1d-4e8a-9c55-0d2f1b7e4a11";
    r.title = "Das Album";
    r.artist = "Die Band";
    r.date = "1999-03-01";
    r.tracks = std::move(tracks);
    return r;
}

TEST(AlbumMeta, FromTocTakesTheCdTextOfTheAudioTracks) {
    AlbumMeta meta = AlbumMeta::from_toc(data_first());
    EXPECT_EQ(meta.album, "CD-Text Album");
    EXPECT_EQ(meta.artist, "CD-Text Band");
    EXPECT_EQ(meta.musicbrainz_release, "");
    ASSERT_EQ(meta.tracks.size(), 3u);
    EXPECT_EQ(meta.tracks.count(1), 0u) << "the data track has a title";
    EXPECT_EQ(meta.tracks.at(3).title, "Drei");
}

TEST(AlbumMeta, FromReleaseMapsTheReleasesTracksToTheAudioTracksByPosition) {
    AlbumMeta meta = AlbumMeta::from_release(
        release_of({{1, "Two", "Die Band"}, {2, "Three", "Die Band"}, {3, "Four", "Gast"}}),
        data_first());
    EXPECT_EQ(meta.album, "Das Album");
    EXPECT_EQ(meta.artist, "Die Band");
    EXPECT_EQ(meta.date, "1999-03-01");
    EXPECT_EQ(meta.musicbrainz_release, "0f9a3c2e-6b1d-4e8a-9c55-0d2f1b7e4a11");
    EXPECT_EQ(meta.musicbrainz_discid, "");
    ASSERT_EQ(meta.tracks.size(), 3u);
    EXPECT_EQ(meta.tracks.count(1), 0u) << "release track 1 went to the data track";
    EXPECT_EQ(meta.tracks.at(2).title, "Two");
    EXPECT_EQ(meta.tracks.at(3).title, "Three");
    EXPECT_EQ(meta.tracks.at(4).title, "Four");
    EXPECT_EQ(meta.tracks.at(4).artist, "Gast");
}

TEST(AlbumMeta, WhatMusicBrainzLacksKeepsTheCdText) {
    MusicBrainzRelease release = release_of({{1, "", ""}, {2, "Three", ""}});
    release.title.clear();
    release.date.clear();
    AlbumMeta meta = AlbumMeta::from_release(release, data_first());
    EXPECT_EQ(meta.album, "CD-Text Album");
    EXPECT_EQ(meta.artist, "Die Band");
    EXPECT_EQ(meta.date, "");
    EXPECT_EQ(meta.tracks.at(2).title, "Zwei");
    EXPECT_EQ(meta.tracks.at(2).artist, "CD-Text Band");
    EXPECT_EQ(meta.tracks.at(3).title, "Three");
    EXPECT_EQ(meta.tracks.at(3).artist, "");
    // Past the release's tracks: the CD-TEXT.
    EXPECT_EQ(meta.tracks.at(4).title, "Vier");
    EXPECT_EQ(meta.tracks.at(4).artist, "Guest");
}

TEST(AlbumMeta, MoreReleaseTracksThanAudioTracksAddNone) {
    AlbumMeta meta = AlbumMeta::from_release(
        release_of({{1, "A", ""}, {2, "B", ""}, {3, "C", ""}, {4, "D", ""}}), data_first());
    ASSERT_EQ(meta.tracks.size(), 3u);
    EXPECT_EQ(meta.tracks.at(4).title, "C");
    EXPECT_EQ(meta.tracks.count(5), 0u);
}

}  // namespace
}  // namespace freemkv
