#pragma once

// Which of a program chain's cells a title plays: in an angle block (cells of block_type 1, the
// first of them block_mode 1, one cell per angle) angle 1 only, its block's first cell.

#include <dvdread/ifo_types.h>

#include <cstddef>
#include <vector>

#include "title_info.hpp"

namespace freemkv {

// Appends the PGC's cells of angle 1 to title.cells (adding their sectors to title.sectors) and
// returns, for each cell of the PGC, its index in title.cells (a cell of another angle maps to
// its block's first cell).
std::vector<std::size_t> add_cells(const pgc_t& pgc, TitleInfo& title);

}  // namespace freemkv
