#pragma once

// What a job makes of a DVD-Video image: which titles become MKV files, and whether the image
// is kept once they are published ([video] in the configuration).

#include <chrono>
#include <optional>
#include <string_view>

#include "enum_names.hpp"

namespace freemkv {

enum class TitleSelection {
    main,  // only the main feature (main_feature.hpp)
    all,   // every title at least min_length long, the main feature first
};

inline constexpr EnumNames<TitleSelection, 2> title_selection_names{{
    {TitleSelection::main, "main"},
    {TitleSelection::all, "all"},
}};
inline std::string_view to_string(TitleSelection selection) {
    return name_of(title_selection_names, selection);
}
inline std::optional<TitleSelection> parse_title_selection(std::string_view name) {
    return value_of(title_selection_names, name);
}

struct VideoOptions {
    TitleSelection titles = TitleSelection::main;
    std::chrono::seconds min_length{120};  // for TitleSelection::all
    // Keep the disc image (and its mapfile) beside the titles once they are published. A title
    // that lost video keeps them whatever this says.
    bool keep_image = false;
};

}  // namespace freemkv
