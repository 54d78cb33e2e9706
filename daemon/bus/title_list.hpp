#pragma once

// ListTitles' answer: one a{sv} per title of a DVD-Video (the Manager XML lists the keys).

#include <sdbus-c++/sdbus-c++.h>

#include <map>
#include <string>
#include <vector>

#include "title_info.hpp"

namespace freemkv::bus {

using TitleDicts = std::vector<std::map<std::string, sdbus::Variant>>;

// `titles` as the bus sends them, the main feature (choose_main_feature) marked.
TitleDicts title_dicts(const std::vector<TitleInfo>& titles);

}  // namespace freemkv::bus
