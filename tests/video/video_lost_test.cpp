// Seconds of video lost: a title's cells on the image against a mapfile's unfinished ranges.
// Constructed maps, on constructed titles and on the generated DVD's own titles.

#include "video_lost.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "dvd_titles.hpp"
#include "support/dvd_images.hpp"

namespace freemkv {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kSector = 2048;

// A map of `sectors` sectors, all finished but for `bad` (in sectors).
Mapfile map_with(std::uint64_t sectors, std::initializer_list<SectorRange> bad,
                 BlockStatus status = BlockStatus::bad_sector) {
    Mapfile map(sectors * kSector);
    map.set(0, sectors * kSector, BlockStatus::finished);
    for (const SectorRange& range : bad) {
        map.set(range.first * kSector, range.count * kSector, status);
    }
    return map;
}

// 100 s over two cells of 500 sectors each, VOBs at image sector 1000.
TitleInfo two_cells() {
    TitleInfo title;
    title.number = 1;
    title.duration = 100s;
    title.cells = {{.first_sector = 0, .last_sector = 499},
                   {.first_sector = 500, .last_sector = 999}};
    title.sectors = 1000;
    return title;
}
const TitleVobs kVobs{.first_sector = 1000, .sectors = 1000};

TEST(VideoLost, NothingLostOnAFinishedMap) {
    auto loss = video_lost(two_cells(), kVobs, map_with(3000, {}));
    EXPECT_EQ(loss.seconds, 0);
    EXPECT_EQ(loss.sectors, 0u);
    EXPECT_TRUE(loss.ranges.empty());
}

TEST(VideoLost, EveryUnfinishedStatusCountsAndIsProportional) {
    for (auto status : {BlockStatus::bad_sector, BlockStatus::non_tried, BlockStatus::non_trimmed,
                        BlockStatus::non_scraped}) {
        auto loss = video_lost(two_cells(), kVobs, map_with(3000, {{1100, 50}}, status));
        EXPECT_DOUBLE_EQ(loss.seconds, 5.0) << static_cast<char>(status);
        EXPECT_EQ(loss.ranges, (std::vector<SectorRange>{{1100, 50}}));
    }
}

TEST(VideoLost, OnlyTheOverlapWithTheCellsCounts) {
    // Half before the VOBs, half in the first cell; one after the title.
    auto loss = video_lost(two_cells(), kVobs, map_with(3000, {{980, 40}, {2000, 100}}));
    EXPECT_EQ(loss.sectors, 20u);
    EXPECT_DOUBLE_EQ(loss.seconds, 2.0);
    EXPECT_EQ(loss.ranges, (std::vector<SectorRange>{{1000, 20}}));
}

TEST(VideoLost, APartlyBadSectorIsLost) {
    Mapfile map(3000 * kSector);
    map.set(0, 3000 * kSector, BlockStatus::finished);
    map.set(1500 * kSector + 512, 512, BlockStatus::bad_sector);
    auto loss = video_lost(two_cells(), kVobs, map);
    EXPECT_EQ(loss.sectors, 1u);
    EXPECT_EQ(loss.ranges, (std::vector<SectorRange>{{1500, 1}}));
}

TEST(VideoLost, SectorsPastAShortImageAreLost) {
    auto loss = video_lost(two_cells(), kVobs, map_with(1900, {}));
    EXPECT_EQ(loss.sectors, 100u);
    EXPECT_DOUBLE_EQ(loss.seconds, 10.0);
}

TEST(VideoLost, ACellPlayedTwiceLosesTwice) {
    TitleInfo title;
    title.duration = 8s;
    title.cells = {{.first_sector = 100, .last_sector = 199},
                   {.first_sector = 100, .last_sector = 199}};
    title.sectors = 200;
    auto loss = video_lost(title, kVobs, map_with(3000, {{1150, 10}}));
    EXPECT_EQ(loss.sectors, 20u);
    EXPECT_DOUBLE_EQ(loss.seconds, 0.8);
    EXPECT_EQ(loss.ranges, (std::vector<SectorRange>{{1150, 10}})) << "each image range once";
}

TEST(VideoLost, ATitleOfATitlesetWithoutVobsIsAnError) {
    TitleInfo title = two_cells();
    title.titleset = 3;
    TitleSectorMap vobs{{1, kVobs}};
    EXPECT_THROW(video_lost(title, vobs, map_with(3000, {})), DvdError);
    title.titleset = 1;
    EXPECT_EQ(video_lost(title, vobs, map_with(3000, {{1100, 50}})).sectors, 50u);
}

// The generated disc: its titles and where its VOBs lie, against constructed maps.
class GeneratedDisc : public testing::Test {
  protected:
    void SetUp() override {
        REQUIRE_DVD_IMAGES();
        titles = list_titles(test::dvd_video_image());
        vobs = title_sector_map(test::dvd_video_image());
        ASSERT_EQ(titles.size(), 3u);
        ASSERT_TRUE(vobs.contains(1) && vobs.contains(2));
        image_sectors = std::filesystem::file_size(test::dvd_video_image()) / kSector;
    }
    // The image sector of `title`'s cell `cell` plus `offset`.
    std::uint64_t at(int title, std::size_t cell, std::uint64_t offset = 0) const {
        const TitleInfo& t = titles[static_cast<std::size_t>(title - 1)];
        return vobs.at(t.titleset).first_sector + t.cells.at(cell).first_sector + offset;
    }
    double lost(int title, const Mapfile& map) const {
        return seconds_lost(titles[static_cast<std::size_t>(title - 1)], vobs, map);
    }

    std::vector<TitleInfo> titles;
    TitleSectorMap vobs;
    std::uint64_t image_sectors = 0;
};

TEST_F(GeneratedDisc, NothingLost) {
    auto map = map_with(image_sectors, {});
    for (int title = 1; title <= 3; ++title) {
        EXPECT_EQ(lost(title, map), 0) << "title " << title;
    }
}

TEST_F(GeneratedDisc, ABadRangeInTitleOneIsItsShareOfSixtySeconds) {
    auto map = map_with(image_sectors, {{at(1, 1, 10), 200}});
    double expected = 60.0 * 200 / static_cast<double>(titles[0].sectors);
    EXPECT_NEAR(lost(1, map), expected, 0.1);  // the IFO's duration is 60 s to a frame
    EXPECT_GT(lost(1, map), 0.5);
    EXPECT_EQ(lost(2, map), 0);
    EXPECT_EQ(lost(3, map), 0);
}

TEST_F(GeneratedDisc, ABadRangeOutsideEveryTitleLosesNothing) {
    // The IFOs and menus before titleset 1's VOBs, and the sectors between the titlesets.
    auto map = map_with(image_sectors,
                        {{vobs.at(1).first_sector - 4, 4}, {vobs.at(2).first_sector - 2, 2}});
    for (int title = 1; title <= 3; ++title) {
        EXPECT_EQ(lost(title, map), 0) << "title " << title;
    }
}

TEST_F(GeneratedDisc, ABadRangeInTheCellTitleThreePlaysTwiceCountsTwice) {
    const TitleInfo& repeat = titles[2];
    ASSERT_EQ(repeat.cells.size(), 2u);
    ASSERT_EQ(repeat.cells[0], repeat.cells[1]);
    auto map = map_with(image_sectors, {{at(3, 0, 5), 30}});
    auto loss = video_lost(repeat, vobs.at(repeat.titleset), map);
    EXPECT_EQ(loss.sectors, 60u);
    double seconds = std::chrono::duration<double>(repeat.duration).count();
    EXPECT_NEAR(loss.seconds, seconds * 60 / static_cast<double>(repeat.sectors), 1e-9);
    EXPECT_NEAR(loss.seconds, 8.0 * 30 / (static_cast<double>(repeat.sectors) / 2), 0.05);
}

}  // namespace
}  // namespace freemkv
