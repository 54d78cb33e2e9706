#include "pgc_cells.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace freemkv {
namespace {

// A cell of `sectors` sectors from `first`; angle cells carry block_type 1 and their place in
// the block (block_mode 1 first, 2 inside, 3 last).
struct CellSpec {
    std::uint32_t first = 0;
    std::uint32_t sectors = 0;
    unsigned block_mode = 0;
    unsigned block_type = 0;
    bool seamless = true;
};

cell_playback_t cell_of(const CellSpec& spec) {
    cell_playback_t cell{};
    cell.block_mode = spec.block_mode & 3;
    cell.block_type = spec.block_type & 3;
    cell.interleaved = spec.block_type == 1 && spec.seamless ? 1 : 0;
    cell.seamless_angle = spec.block_type == 1 && spec.seamless ? 1 : 0;
    cell.first_sector = spec.first;
    cell.last_sector = spec.first + spec.sectors - 1;
    cell.last_vobu_start_sector = spec.first + spec.sectors / 2;
    return cell;
}

struct Case {
    std::string name;
    std::vector<CellSpec> pgc;
    std::vector<std::uint32_t> played;  // the first sectors of the cells the title plays
    std::vector<std::size_t> index;     // each PGC cell's index among them
};

void PrintTo(const Case& c, std::ostream* os) {
    *os << c.name;
}

CellSpec plain(std::uint32_t first) {
    return {.first = first, .sectors = 10};
}
CellSpec angle(std::uint32_t first, unsigned mode, bool seamless = true) {
    return {
        .first = first, .sectors = 10, .block_mode = mode, .block_type = 1, .seamless = seamless};
}

std::vector<Case> cases() {
    return {
        {"NoBlock", {plain(0), plain(10), plain(20)}, {0, 10, 20}, {0, 1, 2}},
        {"TwoAnglesBetweenCells",
         {plain(0), angle(10, 1), angle(20, 3), plain(30)},
         {0, 10, 30},
         {0, 1, 1, 2}},
        {"ThreeAngles",
         {plain(0), angle(10, 1), angle(20, 2), angle(30, 3), plain(40)},
         {0, 10, 40},
         {0, 1, 1, 1, 2}},
        {"BlockFirstAndLast", {angle(0, 1), angle(10, 3)}, {0}, {0, 0}},
        {"SeveralBlocks",
         {angle(0, 1), angle(10, 3), plain(20), angle(30, 1), angle(40, 2), angle(50, 3),
          angle(60, 1), angle(70, 3)},
         {0, 20, 30, 60},
         {0, 0, 1, 2, 2, 2, 3, 3}},
        {"NonSeamlessBlock",
         {plain(0), angle(10, 1, false), angle(20, 3, false), plain(30)},
         {0, 10, 30},
         {0, 1, 1, 2}},
    };
}

class PgcCells : public testing::TestWithParam<Case> {};

TEST_P(PgcCells, PlaysAngleOneOnly) {
    const Case& c = GetParam();
    std::vector<cell_playback_t> cells;
    for (const CellSpec& spec : c.pgc) {
        cells.push_back(cell_of(spec));
    }
    pgc_t pgc{};
    pgc.nr_of_cells = static_cast<std::uint8_t>(cells.size());
    pgc.cell_playback = cells.data();

    TitleInfo title;
    auto index = add_cells(pgc, title);

    std::vector<std::uint32_t> played;
    std::uint64_t sectors = 0;
    for (const Cell& cell : title.cells) {
        played.push_back(cell.first_sector);
        EXPECT_EQ(cell.last_sector, cell.first_sector + 9);
        EXPECT_EQ(cell.last_vobu_start_sector, cell.first_sector + 5);
        sectors += 10;
    }
    EXPECT_EQ(played, c.played);
    EXPECT_EQ(index, c.index);
    EXPECT_EQ(title.sectors, sectors);
}

INSTANTIATE_TEST_SUITE_P(Blocks, PgcCells, testing::ValuesIn(cases()),
                         [](const testing::TestParamInfo<Case>& info) { return info.param.name; });

// A second PGC of the same title appends after the first one's cells.
TEST(PgcCellsAppend, ASecondPgcIndexesAfterTheFirst) {
    std::vector<cell_playback_t> first{cell_of(plain(0))};
    std::vector<cell_playback_t> second{cell_of(angle(10, 1)), cell_of(angle(20, 3)),
                                        cell_of(plain(30))};
    pgc_t a{};
    a.nr_of_cells = 1;
    a.cell_playback = first.data();
    pgc_t b{};
    b.nr_of_cells = 3;
    b.cell_playback = second.data();
    TitleInfo title;
    add_cells(a, title);
    EXPECT_EQ(add_cells(b, title), (std::vector<std::size_t>{1, 1, 2}));
    ASSERT_EQ(title.cells.size(), 3u);
    EXPECT_EQ(title.cells[1].first_sector, 10u);
    EXPECT_EQ(title.sectors, 30u);
}

}  // namespace
}  // namespace freemkv
