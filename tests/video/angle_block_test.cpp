// An interleaved angle block walked by TitleReader. dvdauthor 0.7.2 cannot author angles (its
// TODO: "multiangle support!"), so the block is synthetic: NAV packs whose PCI and DSI fields are
// laid out as libdvdread's nav_types.h reads them, written over the title VOBs of a copy of the
// generated image (which libdvdread still opens as a DVD-Video).

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

#include "dvd_stream.hpp"
#include "support/dvd_images.hpp"
#include "support/test_support.hpp"
#include "title_reader.hpp"

namespace freemkv {
namespace {

constexpr std::size_t kSector = 2048;
constexpr std::size_t kPci = 0x2d;   // the PCI data in a NAV pack
constexpr std::size_t kDsi = 0x407;  // the DSI data (libdvdread's DSI_START_BYTE)
constexpr std::uint32_t kEndOfCell = 0x3fffffff;

using Sector = std::array<std::uint8_t, kSector>;

void put32(Sector& s, std::size_t at, std::uint32_t v) {
    s[at] = static_cast<std::uint8_t>(v >> 24);
    s[at + 1] = static_cast<std::uint8_t>(v >> 16);
    s[at + 2] = static_cast<std::uint8_t>(v >> 8);
    s[at + 3] = static_cast<std::uint8_t>(v);
}

void put_bytes(Sector& s, std::size_t at, std::initializer_list<std::uint8_t> bytes) {
    std::copy(bytes.begin(), bytes.end(), s.begin() + static_cast<long>(at));
}

// What one VOBU's NAV pack says; addresses are in sectors from the NAV pack.
struct Vobu {
    std::uint32_t at = 0;  // its NAV pack, in sectors of the title VOBs
    std::uint32_t last = 0;
    std::uint32_t next = kEndOfCell;  // VOBU_SRI's next VOBU of the same angle
    std::uint32_t ilvu_end = 0;
    std::uint32_t next_ilvu = 0;
    std::array<std::uint32_t, 2> angle_ilvus{};  // SML_AGLI: the next ILVU of each angle
    std::uint32_t start_ptm = 0;
    std::uint32_t end_ptm = 0;
};

Sector nav_pack(const Vobu& v) {
    Sector s{};
    // Pack header (MPEG-2, no stuffing) and system header.
    put_bytes(s, 0,
              {0x00, 0x00, 0x01, 0xba, 0x44, 0x00, 0x04, 0x00, 0x04, 0x01, 0x01, 0x89, 0xc3, 0xf8});
    put_bytes(s, 0x0e, {0x00, 0x00, 0x01, 0xbb, 0x00, 0x12});
    // PCI: private stream 2, substream 0.
    put_bytes(s, 0x26, {0x00, 0x00, 0x01, 0xbf, 0x03, 0xd4, 0x00});
    put32(s, kPci + 0, v.at);
    put32(s, kPci + 12, v.start_ptm);
    put32(s, kPci + 16, v.end_ptm);
    // DSI: private stream 2, substream 1.
    put_bytes(s, 0x400, {0x00, 0x00, 0x01, 0xbf, 0x03, 0xfa, 0x01});
    put32(s, kDsi + 4, v.at);
    put32(s, kDsi + 8, v.last);
    if (v.ilvu_end != 0) {
        s[kDsi + 32] = 0x40;  // sml_pbi.category: the ILVU flag
        put32(s, kDsi + 34, v.ilvu_end);
        put32(s, kDsi + 38, v.next_ilvu);
    }
    for (std::size_t a = 0; a < v.angle_ilvus.size(); ++a) {
        put32(s, kDsi + 180 + 6 * a, v.angle_ilvus[a]);
    }
    put32(s, kDsi + 314, v.next == kEndOfCell ? kEndOfCell : (v.next | 0x80000000u));
    return s;
}

// A sector of a VOBU after its NAV pack: a padding packet marked with its own sector number.
Sector data_sector(std::uint32_t at) {
    Sector s{};
    std::fill(s.begin(), s.end(), static_cast<std::uint8_t>(0xa0 + (at & 0x1f)));
    put_bytes(s, 0, {0x00, 0x00, 0x01, 0xba});
    put_bytes(s, 0x0e, {0x00, 0x00, 0x01, 0xbe, 0x07, 0xec});
    put32(s, 0x20, at);
    return s;
}

// The title VOBs' first sectors: every VOBU of `vobus`, its NAV pack then its other sectors.
std::vector<Sector> layout(const std::vector<Vobu>& vobus) {
    std::vector<Sector> sectors;
    for (const Vobu& v : vobus) {
        EXPECT_EQ(sectors.size(), v.at);
        sectors.push_back(nav_pack(v));
        for (std::uint32_t i = 1; i <= v.last; ++i) {
            sectors.push_back(data_sector(v.at + i));
        }
    }
    return sectors;
}

// Two angles interleaved in units (ILVUs) of angle 1, angle 2, angle 1, angle 2, then a cell
// outside the block. Sectors:
//   0-2, 3-4   angle 1, ILVU a (two VOBUs)
//   5-7, 8-9   angle 2, ILVU a
//   10-13      angle 1, ILVU b
//   14-17      angle 2, ILVU b
//   18-19      the next cell
std::vector<Vobu> two_angle_block() {
    return {
        {.at = 0,
         .last = 2,
         .next = 3,
         .ilvu_end = 4,
         .next_ilvu = 10,
         .angle_ilvus = {10, 14},
         .start_ptm = 90000,
         .end_ptm = 135000},
        {.at = 3,
         .last = 1,
         .next = 7,
         .ilvu_end = 1,
         .next_ilvu = 7,
         .angle_ilvus = {7, 11},
         .start_ptm = 135000,
         .end_ptm = 180000},
        {.at = 5,
         .last = 2,
         .next = 3,
         .ilvu_end = 4,
         .next_ilvu = 9,
         .angle_ilvus = {5, 9},
         .start_ptm = 90000,
         .end_ptm = 135000},
        {.at = 8,
         .last = 1,
         .next = 6,
         .ilvu_end = 1,
         .next_ilvu = 6,
         .angle_ilvus = {2, 6},
         .start_ptm = 135000,
         .end_ptm = 180000},
        {.at = 10, .last = 3, .ilvu_end = 3, .start_ptm = 180000, .end_ptm = 270000},
        {.at = 14, .last = 3, .ilvu_end = 3, .start_ptm = 180000, .end_ptm = 270000},
        {.at = 18, .last = 1, .start_ptm = 270000, .end_ptm = 315000},
    };
}

// A copy of the generated image with `sectors` written over titleset 1's first title VOB
// sectors.
std::filesystem::path image_with(const test::TempDir& dir, const std::vector<Sector>& sectors) {
    auto copy = dir / "angles.iso";
    std::filesystem::copy_file(test::dvd_video_image(), copy);
    std::uint64_t first = 0;
    {
        DvdImage image(copy);
        auto vobs = image.title_vobs(1);
        EXPECT_GE(vobs.sectors, sectors.size());
        first = vobs.first_sector;
    }
    std::fstream out(copy, std::ios::binary | std::ios::in | std::ios::out);
    out.seekp(static_cast<std::streamoff>(first * kSector));
    for (const Sector& s : sectors) {
        out.write(reinterpret_cast<const char*>(s.data()), static_cast<std::streamsize>(kSector));
    }
    EXPECT_TRUE(out.good());
    return copy;
}

std::vector<std::uint8_t> read_all(TitleReader& reader) {
    std::vector<std::uint8_t> bytes;
    std::vector<std::uint8_t> buffer(5000);  // not a multiple of a sector
    while (std::size_t n = reader.read(buffer)) {
        bytes.insert(bytes.end(), buffer.begin(), buffer.begin() + static_cast<long>(n));
    }
    return bytes;
}

std::vector<std::uint8_t> concat(const std::vector<Sector>& sectors,
                                 const std::vector<std::uint32_t>& which) {
    std::vector<std::uint8_t> bytes;
    for (std::uint32_t i : which) {
        bytes.insert(bytes.end(), sectors.at(i).begin(), sectors.at(i).end());
    }
    return bytes;
}

// The NAV packs read back through libdvdread as written: the fixture means what it says.
TEST(AngleBlock, SyntheticNavPacksReadBackThroughLibdvdread) {
    for (const Vobu& v : two_angle_block()) {
        Sector s = nav_pack(v);
        std::int64_t start = 0;
        std::int64_t end = 0;
        ASSERT_TRUE(read_nav_times(s, start, end)) << v.at;
        EXPECT_EQ(start, v.start_ptm);
        EXPECT_EQ(end, v.end_ptm);
        VobuLinks links;
        ASSERT_TRUE(read_vobu_links(s, links)) << v.at;
        EXPECT_EQ(links.last, v.last);
        if (v.next == kEndOfCell) {
            EXPECT_FALSE(links.next.has_value()) << v.at;
        } else {
            EXPECT_EQ(links.next, v.next) << v.at;
        }
        if (v.ilvu_end != 0) {
            EXPECT_EQ(links.ilvu_last, v.ilvu_end) << v.at;
        } else {
            EXPECT_FALSE(links.ilvu_last.has_value()) << v.at;
        }
        if (v.next_ilvu != 0) {
            EXPECT_EQ(links.next_ilvu, v.next_ilvu) << v.at;
        } else {
            EXPECT_FALSE(links.next_ilvu.has_value()) << v.at;
        }
        VobuLinks ignored;
        EXPECT_FALSE(read_vobu_links(data_sector(v.at + 1), ignored));
    }
}

// Angle 1's cell spans both angles' units (sectors 0-13); the title plays angle 1's VOBUs only,
// in order, then the next cell.
TEST(AngleBlock, TitleReaderYieldsAngleOneOnly) {
    REQUIRE_DVD_VIDEO_IMAGE();
    test::TempDir dir;
    auto sectors = layout(two_angle_block());
    auto path = image_with(dir, sectors);

    TitleInfo title{.number = 1, .titleset = 1, .angles = 2};
    title.cells = {{.first_sector = 0, .last_sector = 13, .last_vobu_start_sector = 10},
                   {.first_sector = 18, .last_sector = 19, .last_vobu_start_sector = 18}};
    title.sectors = 14 + 2;
    DvdImage image(path);
    TitleReader reader(image, title);
    auto bytes = read_all(reader);

    auto expected = concat(sectors, {0, 1, 2, 3, 4, 10, 11, 12, 13, 18, 19});
    EXPECT_EQ(bytes.size(), expected.size());
    EXPECT_TRUE(bytes == expected);
    EXPECT_EQ(reader.sectors_read(), 11u);
    EXPECT_EQ(reader.cell_at(0), 0u);
    EXPECT_EQ(reader.cell_at(9 * kSector - 1), 0u);
    EXPECT_EQ(reader.cell_at(9 * kSector), 1u);

    const auto& cells = reader.cells();
    ASSERT_EQ(cells.size(), 2u);
    EXPECT_EQ(cells[0].start_ptm, 90000);
    EXPECT_EQ(cells[0].end_ptm, 270000);
    EXPECT_EQ(cells[1].output_start, 180000);
    EXPECT_EQ(reader.duration(), 225000);
}

// A VOBU of angle 1 whose NAV pack is lost (zeros, as a rescue leaves a bad sector): its
// sectors are passed on as read up to the end of its interleaved unit, which the unit's earlier
// NAV pack gave, and the title goes on at angle 1's next unit, not into angle 2's.
TEST(AngleBlock, ALostNavPackInAnInterleavedUnitStaysInTheAngle) {
    REQUIRE_DVD_VIDEO_IMAGE();
    test::TempDir dir;
    auto sectors = layout(two_angle_block());
    sectors[3] = Sector{};
    auto path = image_with(dir, sectors);

    TitleInfo title{.number = 1, .titleset = 1, .angles = 2};
    title.cells = {{.first_sector = 0, .last_sector = 13, .last_vobu_start_sector = 10},
                   {.first_sector = 18, .last_sector = 19, .last_vobu_start_sector = 18}};
    title.sectors = 14 + 2;
    DvdImage image(path);
    TitleReader reader(image, title);
    auto bytes = read_all(reader);

    auto expected = concat(sectors, {0, 1, 2, 3, 4, 10, 11, 12, 13, 18, 19});
    EXPECT_EQ(bytes.size(), expected.size());
    EXPECT_TRUE(bytes == expected);
    EXPECT_EQ(reader.sectors_read(), 11u);
}

}  // namespace
}  // namespace freemkv
