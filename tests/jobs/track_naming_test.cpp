#include "track_naming.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "naming.hpp"

namespace freemkv {
namespace {

const AlbumNameFields homogenic{"Björk", "Homogenic", "xUp1F2NkfP8s8jaeFn_Av3jNEI4-"};

struct TrackCase {
    AlbumNameFields album;
    int track;
    std::string title;
    std::string expected;
};

TEST(TrackNaming, DefaultTemplateWithFallbacksAndHostileText) {
    std::string long_title(300, 'x');
    std::string cut_title(max_label_bytes, 'x');
    std::vector<TrackCase> cases{
        {homogenic, 3, "Jóga", "Björk/Homogenic/03 - Jóga.flac"},
        {homogenic, 12, "All Is Full of Love", "Björk/Homogenic/12 - All Is Full of Love.flac"},
        {{"", "", "xUp1F2NkfP8s8jaeFn_Av3jNEI4-"},
         1,
         "",
         "Unknown Artist/Audio CD xUp1F2NkfP8s8jaeFn_Av3jNEI4-/01 - Track 01.flac"},
        {{"", "", ""}, 7, "", "Unknown Artist/Audio CD/07 - Track 07.flac"},
        {{"AC/DC", "Back/In Black", "id"},
         1,
         "Hells/Bells",
         "AC_DC/Back_In Black/01 - Hells_Bells.flac"},
        {{"..", ".hidden", "id"},
         2,
         "../../etc/passwd",
         "Unknown Artist/hidden/02 - etc_passwd.flac"},
        {homogenic, 4, std::string("Nul\0byte", 8), "Björk/Homogenic/04 - Nul byte.flac"},
        {homogenic, 5, "Bad\xff\xfeUTF-8", "Björk/Homogenic/05 - Bad_UTF-8.flac"},
        {homogenic, 6, "line\nbreak\ttab", "Björk/Homogenic/06 - line break tab.flac"},
        {homogenic, 8, "///", "Björk/Homogenic/08 - Track 08.flac"},
        {{"   ", "\x01\x02", "a/b"}, 9, " . ", "Unknown Artist/Audio CD a_b/09 - Track 09.flac"},
        {homogenic, 10, long_title, "Björk/Homogenic/10 - " + cut_title + ".flac"},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(track_file(default_track_naming, c.album, c.track, c.title).string(), c.expected)
            << "title: " << c.title;
    }
}

TEST(TrackNaming, ComponentsStayUnderNameMax) {
    std::string big(300, 'y');
    auto path = track_file("{artist} - {album} - {title}", {big, big, "id"}, 1, big);
    auto name = path.filename().string();
    EXPECT_LE(name.size(), max_component_bytes + std::string(".flac").size());
    EXPECT_TRUE(name.ends_with(".flac"));
    // A multibyte character is never cut in half.
    std::string wide;
    for (int i = 0; i < 100; ++i) {
        wide += "東";
    }
    auto wide_name =
        track_file("{artist}{album}{title}", {wide, wide, "id"}, 1, wide).filename().string();
    EXPECT_EQ((wide_name.size() - 5) % 3, 0u) << wide_name;
}

TEST(TrackNaming, OtherPlaceholders) {
    EXPECT_EQ(track_file("{discid}/{track} {title}", homogenic, 3, "Jóga").string(),
              "xUp1F2NkfP8s8jaeFn_Av3jNEI4-/3 Jóga.flac");
    EXPECT_EQ(track_file("{{{artist}}}/{track:02}", homogenic, 11, "").string(), "{Björk}/11.flac");
}

TEST(TrackNaming, AlbumFilesAreNamedAfterTheAlbum) {
    for (std::string ext : {".cue", ".log", ".m3u"}) {
        EXPECT_EQ(album_file(default_album_naming, homogenic, ext).string(),
                  "Björk/Homogenic/Homogenic" + ext);
    }
    EXPECT_EQ(album_file(default_album_naming, {"", "", "abc"}, ".cue").string(),
              "Unknown Artist/Audio CD abc/Audio CD abc.cue");
    // The album files sit beside the tracks of the default templates.
    EXPECT_EQ(album_file(default_album_naming, homogenic, ".cue").parent_path(),
              track_file(default_track_naming, homogenic, 1, "x").parent_path());
    EXPECT_THROW(album_file("{artist}/{title}", homogenic, ".cue"), std::invalid_argument);
}

TEST(TrackNaming, InvalidTemplatesAreRefused) {
    EXPECT_NO_THROW(validate_track_template(default_track_naming));
    EXPECT_NO_THROW(validate_track_template(default_album_naming));
    for (std::string_view bad : {"{artist}/{nope}", "{artist", "artist}", "/{artist}/{title}",
                                 "{artist}//{title}", "{artist}/../{title}", "{artist}/./x", ""}) {
        EXPECT_THROW(validate_track_template(bad), std::invalid_argument) << bad;
    }
    try {
        validate_track_template("{artist}/{nope}");
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("{nope}"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace freemkv
