// Where the generated disc's title VOBs lie: found through UDF, checked against the ISO 9660
// directory genisoimage wrote (isoinfo) and against the sectors' own content.

#include "title_sectors.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "dvd_titles.hpp"
#include "support/dvd_images.hpp"
#include "support/without_reopen_rights.hpp"

namespace freemkv {
namespace {

using ::testing::HasSubstr;

// "VTS_01_1.VOB" -> its first sector and size, from isoinfo's listing of /VIDEO_TS.
std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> iso9660_extents(
    const std::filesystem::path& image) {
    std::string listing = test::run("isoinfo -l -i " + image.string());
    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> extents;
    // "----------   0    0    0       10240 Dec  1 2026 [     88 00]  VTS_01_1.VOB;1"
    std::regex line(R"(\s(\d+) \w+\s+\d+ \d+ \[\s*(\d+) \d+\]\s+(VTS_\d\d_\d\.VOB);1)");
    std::istringstream in(listing);
    for (std::string text; std::getline(in, text);) {
        std::smatch m;
        if (std::regex_search(text, m, line)) {
            extents[m[3]] = {std::stoull(m[2]), std::stoull(m[1])};
        }
    }
    return extents;
}

TEST(TitleSectors, MatchTheIso9660DirectoryOfTheGeneratedDisc) {
    REQUIRE_DVD_IMAGES();
    auto map = title_sector_map(test::dvd_video_image());
    auto extents = iso9660_extents(test::dvd_video_image());
    ASSERT_EQ(map.size(), 2u);
    for (const auto& [titleset, vobs] : map) {
        auto name = "VTS_0" + std::to_string(titleset) + "_1.VOB";
        ASSERT_TRUE(extents.contains(name)) << name << " not in isoinfo's listing";
        EXPECT_EQ(vobs.first_sector, extents[name].first) << name;
        EXPECT_EQ(vobs.sectors, (extents[name].second + 2047) / 2048) << name;
    }
}

// Each titleset's VOBs start with a NAV pack (pack header, system header, PCI), and every cell
// of every title lies within its titleset's VOBs.
TEST(TitleSectors, CellsLieWithinTheirTitlesetsVobs) {
    REQUIRE_DVD_IMAGES();
    auto map = title_sector_map(test::dvd_video_image());
    std::ifstream image(test::dvd_video_image(), std::ios::binary);
    for (const auto& [titleset, vobs] : map) {
        char sector[2048];
        image.seekg(static_cast<std::streamoff>(vobs.first_sector) * 2048);
        ASSERT_TRUE(image.read(sector, sizeof sector));
        EXPECT_EQ(std::string(sector, 4), std::string("\0\0\1\xba", 4)) << titleset;
        EXPECT_EQ(std::string(sector + 14, 4), std::string("\0\0\1\xbb", 4)) << titleset;
    }
    for (const TitleInfo& title : list_titles(test::dvd_video_image())) {
        for (const Cell& cell : title.cells) {
            EXPECT_LT(cell.last_sector, map.at(title.titleset).sectors) << title.number;
        }
    }
}

TEST(TitleSectors, ReadThroughADescriptorAsByPath) {
    REQUIRE_DVD_IMAGES();
    int fd = ::open(test::dvd_video_image().c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    auto through_fd = title_sector_map(fd, "handed-over");
    ::close(fd);
    EXPECT_EQ(through_fd, title_sector_map(test::dvd_video_image()));
}

// A handed-over image is read with the caller's rights: the daemon may not be able to open it.
TEST(TitleSectors, ADescriptorIsReadWithoutOpeningTheImageAgain) {
    REQUIRE_DVD_IMAGES();
    test::TempDir dir;
    auto image = dir / "handed-over.iso";
    std::filesystem::copy_file(test::dvd_video_image(), image);
    TitleSectorMap expected = title_sector_map(image);
    ASSERT_FALSE(expected.empty());
    int fd = ::open(image.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    std::string failed = test::without_reopen_rights(
        image, [&] { return title_sector_map(fd, "handed-over") == expected; });
    ::close(fd);
    EXPECT_EQ(failed, "");
}

TEST(TitleSectors, AnImageThatIsNotADvdIsAClearError) {
    test::TempDir dir;
    auto image = dir / "data.iso";
    std::ofstream(image) << std::string(1 << 20, '\0');
    try {
        title_sector_map(image);
        FAIL() << "no error";
    } catch (const DvdError& error) {
        EXPECT_THAT(error.what(), HasSubstr(image.string() + ": not a DVD-Video image"));
    }
}

}  // namespace
}  // namespace freemkv
