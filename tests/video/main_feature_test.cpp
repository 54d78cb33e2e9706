#include "main_feature.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace freemkv {
namespace {

using namespace std::chrono_literals;

// A title of titleset 1 with the given cells (each a 100-sector run starting at sector c * 100).
TitleInfo title(int number, std::chrono::milliseconds duration, std::vector<int> cells,
                int chapters = 1, int audio = 1, int titleset = 1) {
    TitleInfo t{.number = number, .titleset = titleset, .duration = duration, .chapters = chapters};
    for (int c : cells) {
        t.cells.push_back({.first_sector = static_cast<std::uint32_t>(c * 100),
                           .last_sector = static_cast<std::uint32_t>(c * 100 + 99)});
        t.sectors += 100;
    }
    t.audio.resize(static_cast<std::size_t>(audio), {.codec = "ac3", .channels = 2});
    return t;
}

struct Case {
    std::string name;
    std::vector<TitleInfo> titles;
    std::optional<int> main;
};

TEST(MainFeature, Table) {
    std::vector<Case> cases = {
        {"no titles", {}, std::nullopt},
        {"one title", {title(1, 10s, {0})}, 1},
        {"the longest", {title(1, 10min, {0}), title(2, 90min, {1}), title(3, 5min, {2})}, 2},
        {"play all of episodes is dropped",
         {title(1, 22min, {0, 1}), title(2, 22min, {2}), title(3, 21min, {3, 4}),
          title(4, 65min, {0, 1, 2, 3, 4})},
         1},
        {"play all of two of three episodes is dropped",
         {title(1, 44min, {0, 1}), title(2, 30min, {2}), title(3, 20min, {3}),
          title(4, 50min, {2, 3})},
         1},
        {"a title playing another twice is not play all",
         {title(1, 10min, {0}), title(2, 20min, {0, 0})},
         2},
        {"cells of another titleset do not make play all",
         {title(1, 20min, {0}), title(2, 20min, {1}), title(3, 40min, {0, 1}, 1, 1, 2)},
         3},
        {"a partial match is not play all",
         {title(1, 20min, {0, 1}), title(2, 25min, {0, 1, 2})},
         2},
        {"same length: more chapters",
         {title(1, 90min, {0}, 12), title(2, 90min, {1}, 28), title(3, 90min, {2}, 1)},
         2},
        {"same length and chapters: more audio",
         {title(1, 90min, {0}, 20, 1), title(2, 90min, {1}, 20, 3), title(3, 90min, {2}, 20, 2)},
         2},
        {"length before chapters and audio",
         {title(1, 91min, {0}, 1, 1), title(2, 90min, {1}, 30, 8)},
         1},
        {"all equal: the lowest number",
         {title(3, 90min, {2}), title(1, 90min, {0}), title(2, 90min, {1})},
         1},
    };
    for (const Case& c : cases) {
        EXPECT_EQ(choose_main_feature(c.titles), c.main) << c.name;
    }
}

TEST(MainFeature, PlayAllNeedsTwoWholeDifferentTitles) {
    std::vector<TitleInfo> titles = {title(1, 10min, {0}), title(2, 10min, {1}),
                                     title(3, 20min, {0, 1}), title(4, 20min, {0, 0}),
                                     title(5, 15min, {0, 2})};
    EXPECT_FALSE(is_play_all(titles[0], titles));
    EXPECT_TRUE(is_play_all(titles[2], titles));
    EXPECT_FALSE(is_play_all(titles[3], titles));
    EXPECT_FALSE(is_play_all(titles[4], titles));
}

}  // namespace
}  // namespace freemkv
