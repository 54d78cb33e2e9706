#include "musicbrainz.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>

#include "audio_error_of.hpp"
#include "support/canned_http.hpp"
#include "support/process.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using json = nlohmann::json;
using test::CannedHttp;

// tests/audio/data/musicbrainz_discid.json: shaped like ws/2's answer for a disc ID. The disc is
// on three releases: a bonus edition with a fifth track on its medium, the second medium of a
// 2-CD release, and a reissue.
const std::string kDiscId = "arIS30RPWowvwNEqsqdDnZzDGhk-";
const std::string kCanned = test::slurp(FREEMKV_AUDIO_DATA "/musicbrainz_discid.json");
const std::string kSource = "canned.json";

using test::error_of;

std::string parse_error(const std::string& text, int tracks = 4) {
    return error_of([&] { parse_musicbrainz(text, kDiscId, tracks, kSource); });
}

TEST(MusicBrainz, TakesTheFirstReleaseWithTheDiscOnAMediumOfTheTocsTrackCount) {
    ASSERT_FALSE(kCanned.empty());
    MusicBrainzRelease album = parse_musicbrainz(kCanned, kDiscId, 4, kSource);
    EXPECT_EQ(album.release_id, "6b6a3b44-2c0b-4c0e-8d4a-5ef1c7a0e9d2");
    EXPECT_EQ(album.title, "Songs for Testing");
    EXPECT_EQ(album.artist, "Nina Example & The Testers");
    EXPECT_EQ(album.date, "2004-03-15");
    EXPECT_EQ(album.medium, 2);
    EXPECT_EQ(album.media, 2);
    EXPECT_EQ(album.matches, 2);  // the bonus edition's medium has 5 tracks
    ASSERT_EQ(album.tracks.size(), 4u);
    EXPECT_EQ(album.tracks[0].number, 1);
    EXPECT_EQ(album.tracks[0].title, "Caf\u00e9 \u00dcberweg");
    EXPECT_EQ(album.tracks[0].artist, "Nina Example & The Testers");
    EXPECT_EQ(album.tracks[1].title, "Second Light");
    EXPECT_EQ(album.tracks[2].number, 3);
    EXPECT_EQ(album.tracks[2].title, "Duet (With a Guest)");
    EXPECT_EQ(album.tracks[2].artist, "Nina Example feat. Guest Voice");
    // No artist credit on the track: the recording's.
    EXPECT_EQ(album.tracks[3].title, "Outro");
    EXPECT_EQ(album.tracks[3].artist, "Nina Example & The Testers");
}

TEST(MusicBrainz, TheTrackCountDecidesTheRelease) {
    MusicBrainzRelease album = parse_musicbrainz(kCanned, kDiscId, 5, kSource);
    EXPECT_EQ(album.release_id, "0d4b2d1e-7c4b-4f1e-9c7b-2f5a3b6c8d01");
    EXPECT_EQ(album.matches, 1);
    ASSERT_EQ(album.tracks.size(), 5u);
    EXPECT_EQ(album.tracks[4].title, "Bonus");
}

TEST(MusicBrainz, NoReleaseWithTheTrackCountIsAnErrorSayingSo) {
    std::string error = parse_error(kCanned, 6);
    EXPECT_NE(error.find(kSource), std::string::npos) << error;
    EXPECT_NE(error.find("with 6 tracks"), std::string::npos) << error;
}

TEST(MusicBrainz, AResponseWithoutTheDiscIsAnError) {
    std::string error =
        error_of([&] { parse_musicbrainz(kCanned, "Wn8eRBtGShOI4jpr0WrsAmHlBuI-", 4, kSource); });
    EXPECT_NE(error.find("no release has disc Wn8eRBtGShOI4jpr0WrsAmHlBuI- with 4 tracks"),
              std::string::npos)
        << error;
    error =
        error_of([&] { parse_musicbrainz(kCanned, "AAAAAAAAAAAAAAAAAAAAAAAAAAA-", 4, kSource); });
    EXPECT_NE(error.find("no release lists disc"), std::string::npos) << error;
}

TEST(MusicBrainz, MissingFieldsAreNamedByTheirPath) {
    json doc = json::parse(kCanned);
    doc["releases"][1]["media"][1]["tracks"][2].erase("title");
    std::string error = parse_error(doc.dump());
    EXPECT_NE(error.find("releases[1].media[1].tracks[2].title is missing"), std::string::npos)
        << error;
    doc = json::parse(kCanned);
    doc["releases"][1]["artist-credit"][0]["name"] = 7;
    error = parse_error(doc.dump());
    EXPECT_NE(error.find("releases[1].artist-credit[0].name is not a string"), std::string::npos)
        << error;
    doc = json::parse(kCanned);
    doc.erase("releases");
    EXPECT_NE(parse_error(doc.dump()).find("releases is missing"), std::string::npos);
}

TEST(MusicBrainz, TrackPositionsMustRunFromOne) {
    json doc = json::parse(kCanned);
    doc["releases"][1]["media"][1]["tracks"][1]["position"] = 3;
    std::string error = parse_error(doc.dump());
    EXPECT_NE(error.find("tracks[1].position is 3, not 2"), std::string::npos) << error;
}

TEST(MusicBrainz, HugeNumbersAreRejected) {
    json doc = json::parse(kCanned);
    doc["releases"][1]["media"][1]["tracks"][1]["position"] = "HUGE";
    std::string text = doc.dump();
    std::size_t at = text.find("\"HUGE\"");
    ASSERT_NE(at, std::string::npos);
    for (std::string huge : {"99999999999999999999999999", "18446744073709551615", "4294967298",
                             "-2", "2.0", "1e999", "-1e999", "2"}) {
        std::string hostile = text;
        hostile.replace(at, 6, huge);
        EXPECT_EQ(parse_error(hostile).empty(), huge == "2") << huge;
    }
}

TEST(MusicBrainz, BytesThatAreNotUtf8AreRejected) {
    std::string title = "Second Light";
    for (const std::string& bad : std::vector<std::string>{"\xff", "\xc0\xaf", "\xed\xa0\x80",
                                                           "\\ud800", std::string(1, '\0')}) {
        std::string hostile = kCanned;
        for (std::size_t at = hostile.find(title); at != std::string::npos;
             at = hostile.find(title, at + 1)) {
            hostile.replace(at, title.size(), "Second" + bad + "Light");
        }
        std::string error = parse_error(hostile);
        EXPECT_NE(error.find("not valid JSON"), std::string::npos) << error;
    }
}

TEST(MusicBrainz, EveryTruncationIsAnError) {
    std::size_t end = kCanned.rfind('}') + 1;
    for (std::size_t n = 0; n < end; n += (n < 2000 || end - n < 2000) ? 1 : 17) {
        std::string error = parse_error(kCanned.substr(0, n));
        ASSERT_NE(error, "") << "truncated to " << n;
    }
}

// Every value in the document replaced, one at a time, by wrong things.
TEST(MusicBrainz, AnyValueOfTheWrongTypeIsAnErrorNotACrash) {
    json doc = json::parse(kCanned);
    const std::vector<json> wrong = {
        json(nullptr), json(true),    json(-1),       json(1e300),
        json("x"),     json::array(), json::object(), json(std::uint64_t(1) << 63)};
    std::vector<json::json_pointer> pointers;
    std::function<void(const json&, const json::json_pointer&)> walk = [&](const json& value,
                                                                           const auto& at) {
        pointers.push_back(at);
        if (value.is_object()) {
            for (const auto& [key, member] : value.items()) {
                walk(member, at / key);
            }
        } else if (value.is_array()) {
            for (std::size_t i = 0; i < value.size(); ++i) {
                walk(value[i], at / i);
            }
        }
    };
    walk(doc, json::json_pointer());
    int errors = 0;
    // Two of the wrong things per value, taking turns: all of them everywhere takes too long.
    for (std::size_t i = 0; i < pointers.size(); ++i) {
        for (std::size_t k : {i % wrong.size(), (i + 3) % wrong.size()}) {
            json hostile = doc;
            hostile[pointers[i]] = wrong[k];
            errors += parse_error(hostile.dump()).empty() ? 0 : 1;
        }
    }
    EXPECT_GT(errors, 0);
}

TEST(MusicBrainz, RandomByteFlipsAreAnErrorOrAParseNotACrash) {
    std::mt19937 random(12);
    for (int i = 0; i < 3000; ++i) {
        std::string hostile = kCanned;
        for (int flips = 1 + i % 4; flips > 0; --flips) {
            hostile[random() % hostile.size()] = static_cast<char>(random());
        }
        (void)parse_error(hostile);
    }
}

TEST(MusicBrainz, DeepNestingIsAnError) {
    EXPECT_NE(parse_error(std::string(200000, '[')), "");
    EXPECT_NE(
        parse_error("{\"releases\":" + std::string(100000, '[') + std::string(100000, ']') + "}"),
        "");
}

TEST(MusicBrainz, OnlyADiscIdGoesIntoTheUrl) {
    EXPECT_EQ(musicbrainz_url("https://musicbrainz.org/", kDiscId),
              "https://musicbrainz.org/ws/2/discid/" + kDiscId +
                  "?inc=recordings+artist-credits&cdstubs=no&fmt=json");
    for (const std::string& bad :
         std::vector<std::string>{"", "short", kDiscId + "x", "arIS30RPWowvwNEqsqdDnZzDGh/-",
                                  "arIS30RPWowvwNEqsqdDnZzDGh?-", "arIS30RPWowvwNEqsqdDnZzDGh%-"}) {
        EXPECT_THROW(musicbrainz_url("https://musicbrainz.org", bad), AudioError) << bad;
    }
}

class MusicBrainzServer : public ::testing::Test {
  protected:
    test::TempDir dir;
    std::filesystem::path root = dir / "www";
    void SetUp() override {
        std::filesystem::create_directories(root / "ws" / "2" / "discid");
        std::ofstream(root / "ws" / "2" / "discid" / kDiscId) << kCanned;
    }
};

TEST_F(MusicBrainzServer, LooksTheDiscUp) {
    CannedHttp server(root, dir.path());
    MusicBrainzOptions options;
    options.base = server.base();
    std::optional<MusicBrainzRelease> album = lookup_musicbrainz(kDiscId, 4, options);
    ASSERT_TRUE(album);
    EXPECT_EQ(album->title, "Songs for Testing");
    ASSERT_EQ(server.requests().size(), 1u);
    EXPECT_EQ(server.requests()[0], "/ws/2/discid/" + kDiscId +
                                        "?inc=recordings+artist-credits&cdstubs=no&fmt=json\t" +
                                        http_user_agent());
}

TEST_F(MusicBrainzServer, AnUnknownDiscIsNotFound) {
    CannedHttp server(root, dir.path());
    MusicBrainzOptions options;
    options.base = server.base() + "/";
    EXPECT_FALSE(lookup_musicbrainz("Wn8eRBtGShOI4jpr0WrsAmHlBuI-", 4, options));
}

TEST_F(MusicBrainzServer, UnavailableIsAnErrorNamingTheUrl) {
    CannedHttp server(root, dir.path(), {.status = 503});
    MusicBrainzOptions options;
    options.base = server.base();
    std::string error = error_of([&] { lookup_musicbrainz(kDiscId, 4, options); });
    EXPECT_NE(error.find(musicbrainz_url(server.base(), kDiscId)), std::string::npos) << error;
    EXPECT_NE(error.find("503"), std::string::npos) << error;
}

TEST_F(MusicBrainzServer, AnotherStatusIsAnErrorNamingTheUrl) {
    CannedHttp server(root, dir.path(), {.status = 400});
    MusicBrainzOptions options;
    options.base = server.base();
    std::string error = error_of([&] { lookup_musicbrainz(kDiscId, 4, options); });
    EXPECT_NE(error.find(musicbrainz_url(server.base(), kDiscId) + ": HTTP 400"), std::string::npos)
        << error;
}

TEST_F(MusicBrainzServer, AHangingServerTimesOut) {
    CannedHttp server(root, dir.path(), {.delay_seconds = 120});
    MusicBrainzOptions options;
    options.base = server.base();
    options.http.timeout = std::chrono::seconds(1);
    auto start = std::chrono::steady_clock::now();
    std::string error = error_of([&] { lookup_musicbrainz(kDiscId, 4, options); });
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(11));
    EXPECT_NE(error.find("timed out"), std::string::npos) << error;
}

}  // namespace
}  // namespace freemkv
