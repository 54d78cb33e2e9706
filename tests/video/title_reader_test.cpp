#include "title_reader.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

#include "dvd_stream.hpp"
#include "dvd_titles.hpp"
#include "support/dvd_images.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

constexpr std::size_t kSector = 2048;

std::vector<std::uint8_t> read_all(TitleReader& reader) {
    std::vector<std::uint8_t> bytes;
    std::vector<std::uint8_t> buffer(100000);  // not a multiple of a sector
    while (std::size_t n = reader.read(buffer)) {
        bytes.insert(bytes.end(), buffer.begin(), buffer.begin() + static_cast<long>(n));
    }
    return bytes;
}

std::vector<std::uint8_t> image_sectors(const std::filesystem::path& image, std::uint64_t first,
                                        std::uint64_t count) {
    std::ifstream in(image, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(first * kSector));
    std::vector<std::uint8_t> bytes(count * kSector);
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return bytes;
}

// Title 3 plays one cell twice: the stream is that cell's sectors twice, and the second copy
// starts in the output where the first ends.
TEST(TitleReader, PlaysTheCellsInOrderAndPlacesThemEndToEnd) {
    REQUIRE_DVD_VIDEO_IMAGE();
    auto titles = list_titles(test::dvd_video_image());
    const TitleInfo& title = titles.at(2);
    ASSERT_EQ(title.cells.size(), 2u);
    DvdImage image(test::dvd_video_image());
    TitleReader reader(image, title);

    const Cell& cell = title.cells[0];
    std::uint64_t sectors = cell.last_sector - cell.first_sector + 1;
    auto expected =
        image_sectors(test::dvd_video_image(),
                      image.title_vobs(title.titleset).first_sector + cell.first_sector, sectors);
    auto bytes = read_all(reader);
    ASSERT_EQ(bytes.size(), 2 * sectors * kSector);
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), bytes.begin()));
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), bytes.begin() + expected.size()));
    EXPECT_EQ(reader.sectors_read(), title.sectors);

    EXPECT_EQ(reader.cell_at(0), 0u);
    EXPECT_EQ(reader.cell_at(static_cast<std::int64_t>(expected.size()) - 1), 0u);
    EXPECT_EQ(reader.cell_at(static_cast<std::int64_t>(expected.size())), 1u);

    const auto& cells = reader.cells();
    ASSERT_EQ(cells.size(), 2u);
    EXPECT_EQ(cells[0].start_ptm, cells[1].start_ptm);  // the timestamps restart
    std::int64_t length = cells[0].end_ptm - cells[0].start_ptm;
    EXPECT_NEAR(static_cast<double>(length), 4 * 90000.0, 3600.0);
    EXPECT_EQ(cells[0].output_start, 0);
    EXPECT_EQ(cells[1].output_start, length);
    EXPECT_EQ(reader.duration(), 2 * length);
}

// A VOBU whose NAV pack is unreadable (zeros, as a rescue leaves a bad sector) is passed on as
// it is, up to the next NAV pack: the stream keeps every sector of the title.
TEST(TitleReader, AVobuWithoutNavPackIsPassedOnAsRead) {
    REQUIRE_DVD_VIDEO_IMAGE();
    test::TempDir dir;
    auto copy = dir / "damaged.iso";
    std::filesystem::copy_file(test::dvd_video_image(), copy);
    auto titles = list_titles(copy);
    const TitleInfo& title = titles.at(1);
    std::uint64_t nav = 0;
    {
        DvdImage image(copy);
        TitleReader reader(image, title);
        // The second VOBU's NAV pack: the first NAV pack after the title's first sector.
        auto first = image.title_vobs(title.titleset).first_sector + title.cells[0].first_sector;
        auto sectors = image_sectors(copy, first, 400);
        for (std::uint64_t i = 1; i < 400 && nav == 0; ++i) {
            VobuLinks links;
            if (read_vobu_links({sectors.data() + i * kSector, kSector}, links)) {
                nav = first + i;
            }
        }
        ASSERT_NE(nav, 0u) << "no second VOBU in the first 400 sectors";
    }
    {
        std::fstream out(copy, std::ios::binary | std::ios::in | std::ios::out);
        out.seekp(static_cast<std::streamoff>(nav * kSector));
        std::vector<char> zeros(kSector, 0);
        out.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
    }
    DvdImage image(copy);
    TitleReader reader(image, title);
    auto bytes = read_all(reader);
    EXPECT_EQ(bytes.size(), title.sectors * kSector);
    EXPECT_EQ(reader.sectors_read(), title.sectors);
}

}  // namespace
}  // namespace freemkv
