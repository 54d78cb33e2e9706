#include "iso639.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace freemkv {
namespace {

constexpr std::pair<std::string_view, std::string_view> kCodes[] = {
#include "iso639_table.inc"
};

}  // namespace

std::string matroska_language(std::string_view iso639_1) {
    auto it = std::lower_bound(
        std::begin(kCodes), std::end(kCodes), iso639_1,
        [](const auto& entry, std::string_view code) { return entry.first < code; });
    if (it == std::end(kCodes) || it->first != iso639_1) {
        return "und";
    }
    return std::string(it->second);
}

}  // namespace freemkv
