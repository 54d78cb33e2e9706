#include "pgc_cells.hpp"

namespace freemkv {

std::vector<std::size_t> add_cells(const pgc_t& pgc, TitleInfo& title) {
    std::vector<std::size_t> index;
    for (int i = 0; i < pgc.nr_of_cells; ++i) {
        const cell_playback_t& cell = pgc.cell_playback[i];
        // In an angle block (block_type 1) only its first cell (block_mode 1) is angle 1.
        if (cell.block_type == 1 && cell.block_mode != 1) {
            index.push_back(title.cells.empty() ? 0 : title.cells.size() - 1);
            continue;
        }
        index.push_back(title.cells.size());
        title.cells.push_back({.first_sector = cell.first_sector,
                               .last_sector = cell.last_sector,
                               .last_vobu_start_sector = cell.last_vobu_start_sector});
        title.sectors += cell.last_sector - cell.first_sector + 1;
    }
    return index;
}

}  // namespace freemkv
