#pragma once

// Which title of a DVD-Video is the movie.
//
// The rule, in order:
//   1. Drop "play all" composites: a title whose cells are, in order, the cells of two or more
//      other titles of the same titleset, each of them whole and each a different title (a title
//      that plays one other title twice is not a composite). A composite is longer than any
//      title it contains, so without this step a disc of episodes would pick the "play all".
//   2. Prefer the longest duration.
//   3. Then the one with more chapters.
//   4. Then the one with more audio streams.
//   5. Then the lowest title number, so the choice is always the same.

#include <optional>
#include <vector>

#include "title_info.hpp"

namespace freemkv {

// Whether `title` is a "play all" composite of others in `titles` (rule 1 above).
bool is_play_all(const TitleInfo& title, const std::vector<TitleInfo>& titles);

// The number of the main feature, or nothing when there are no titles.
std::optional<int> choose_main_feature(const std::vector<TitleInfo>& titles);

}  // namespace freemkv
