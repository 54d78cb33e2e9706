// `freemkvctl titles`: ListTitles' answer as a table and as JSON (pinned: scripts parse it), and
// the numbers of `rip --titles`.

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ctl.hpp"
#include "format.hpp"
#include "titles_view.hpp"

namespace freemkv::ctl {
namespace {

using Dict = std::map<std::string, sdbus::Variant>;
using Audio = std::vector<sdbus::Struct<std::string, std::string, std::uint16_t>>;

// What the daemon sends for the generated test disc (tests/fixtures/make-dvd), sizes rounded.
std::vector<Dict> three_titles() {
    auto q = [](unsigned n) { return sdbus::Variant(static_cast<std::uint16_t>(n)); };
    auto t = [](std::uint64_t n) { return sdbus::Variant(n); };
    return {
        {{"number", q(1)},
         {"titleset", q(1)},
         {"duration_ms", t(60040)},
         {"chapters", q(3)},
         {"angles", q(1)},
         {"audio", sdbus::Variant(Audio{{"ac3", "en", 2}, {"ac3", "fr", 6}})},
         {"subpictures", sdbus::Variant(std::vector<std::string>{"en"})},
         {"sectors", t(5120)},
         {"main", sdbus::Variant(true)}},
        {{"number", q(2)},
         {"titleset", q(2)},
         {"duration_ms", t(10000)},
         {"chapters", q(1)},
         {"angles", q(1)},
         {"audio", sdbus::Variant(Audio{{"ac3", "", 2}})},
         {"subpictures", sdbus::Variant(std::vector<std::string>{})},
         {"sectors", t(1024)},
         {"main", sdbus::Variant(false)}},
        {{"number", q(12)},
         {"titleset", q(2)},
         {"duration_ms", t(3723499)},
         {"chapters", q(10)},
         {"angles", q(2)},
         {"audio", sdbus::Variant(Audio{})},
         {"subpictures", sdbus::Variant(std::vector<std::string>{"de", ""})},
         {"sectors", t(2359296)},
         {"main", sdbus::Variant(false)}},
    };
}

TEST(TitlesView, ReadsEveryKey) {
    auto titles = title_views(three_titles());
    ASSERT_EQ(titles.size(), 3u);
    EXPECT_EQ(titles[0].number, 1u);
    EXPECT_EQ(titles[0].duration_ms, 60040u);
    EXPECT_EQ(titles[0].chapters, 3u);
    ASSERT_EQ(titles[0].audio.size(), 2u);
    EXPECT_EQ(titles[0].audio[1].language, "fr");
    EXPECT_EQ(titles[0].audio[1].channels, 6u);
    EXPECT_TRUE(titles[0].main);
    EXPECT_EQ(titles[2].angles, 2u);
    EXPECT_EQ(titles[2].sectors, 2359296u);
}

TEST(TitlesView, MissingOrMistypedKeysKeepTheirDefaults) {
    auto titles = title_views({{{"number", sdbus::Variant(std::string("1"))}}});
    ASSERT_EQ(titles.size(), 1u);
    EXPECT_EQ(titles[0].number, 0u);
    EXPECT_FALSE(titles[0].main);
    EXPECT_TRUE(titles[0].audio.empty());
}

TEST(TitlesView, TextIsMadeSafeToPrint) {
    auto titles =
        title_views({{{"audio", sdbus::Variant(Audio{{"ac3\x1b[2J",
                                                      "e\xc2\x9b"
                                                      "n",
                                                      2}})},
                      {"subpictures", sdbus::Variant(std::vector<std::string>{"\x07"})}}});
    ASSERT_EQ(titles[0].audio.size(), 1u);
    EXPECT_EQ(titles[0].audio[0].codec, "ac3\xef\xbf\xbd[2J");
    EXPECT_EQ(titles[0].audio[0].language, "e\xef\xbf\xbdn");  // a C1 control
    EXPECT_EQ(titles[0].subpictures[0], "\xef\xbf\xbd");
}

TEST(TitlesTable, OneLinePerTitleTheMainFeatureMarked) {
    EXPECT_EQ(titles_table(title_views(three_titles())),
              "TITLE  DURATION  CHAPTERS  SIZE MiB  AUDIO                   SUBTITLES\n"
              "   *1  0:01:00          3      10.0  en ac3 2ch, fr ac3 6ch  en\n"
              "    2  0:00:10          1       2.0  - ac3 2ch               -\n"
              "   12  1:02:03         10    4608.0  -                       de, -\n"
              "* main feature\n");
}

TEST(TitlesTable, NoTitles) {
    EXPECT_EQ(titles_table({}),
              "TITLE  DURATION  CHAPTERS  SIZE MiB  AUDIO  SUBTITLES\nno titles\n");
}

TEST(TitlesJson, PinnedKeysAndOrder) {
    EXPECT_EQ(
        dump(titles_json("/srv/disc.iso", title_views(three_titles()))),
        R"({"source":"/srv/disc.iso","titles":[)"
        R"({"number":1,"titleset":1,"main":true,"duration_ms":60040,"duration":"0:01:00",)"
        R"("chapters":3,"angles":1,"audio":[{"codec":"ac3","language":"en","channels":2},)"
        R"({"codec":"ac3","language":"fr","channels":6}],"subtitles":["en"],"sectors":5120,)"
        R"("bytes":10485760},)"
        R"({"number":2,"titleset":2,"main":false,"duration_ms":10000,"duration":"0:00:10",)"
        R"("chapters":1,"angles":1,"audio":[{"codec":"ac3","language":"","channels":2}],)"
        R"("subtitles":[],"sectors":1024,"bytes":2097152},)"
        R"({"number":12,"titleset":2,"main":false,"duration_ms":3723499,"duration":"1:02:03",)"
        R"("chapters":10,"angles":2,"audio":[],"subtitles":["de",""],"sectors":2359296,)"
        R"("bytes":4831838208}]})");
}

TEST(TitlesJson, NoTitlesIsAnEmptyArray) {
    EXPECT_EQ(dump(titles_json("sr0", {})), R"({"source":"sr0","titles":[]})");
}

TEST(ParseTitleNumbers, CommaSeparated) {
    EXPECT_EQ(parse_title_numbers("1,3"), (std::vector<std::uint16_t>{1, 3}));
    EXPECT_EQ(parse_title_numbers("7"), (std::vector<std::uint16_t>{7}));
    EXPECT_EQ(parse_title_numbers(" 2 , 10 "), (std::vector<std::uint16_t>{2, 10}));
    // The daemon judges the range and duplicates (one rule, one place).
    EXPECT_EQ(parse_title_numbers("0,3,3"), (std::vector<std::uint16_t>{0, 3, 3}));
}

TEST(ParseTitleNumbers, AnythingElseIsAUsageError) {
    for (const char* bad :
         {"", ",", "1,", ",1", "1,,3", "a", "1-3", "1;3", "-1", "65536", "1.5", "0x3"}) {
        EXPECT_THROW(parse_title_numbers(bad), UsageError) << bad;
    }
}

}  // namespace
}  // namespace freemkv::ctl
