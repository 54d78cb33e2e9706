#include "main_feature.hpp"

#include <algorithm>
#include <cstddef>
#include <set>
#include <tuple>

namespace freemkv {
namespace {

// Whether title.cells[pos...] is made of whole titles from `parts`, none of them in `used`.
bool covered(const TitleInfo& title, std::size_t pos, const std::vector<const TitleInfo*>& parts,
             std::set<int>& used) {
    if (pos == title.cells.size()) {
        return true;
    }
    for (const TitleInfo* part : parts) {
        if (used.contains(part->number) || part->cells.size() > title.cells.size() - pos ||
            !std::equal(part->cells.begin(), part->cells.end(), title.cells.begin() + pos)) {
            continue;
        }
        used.insert(part->number);
        if (covered(title, pos + part->cells.size(), parts, used)) {
            return true;
        }
        used.erase(part->number);
    }
    return false;
}

}  // namespace

bool is_play_all(const TitleInfo& title, const std::vector<TitleInfo>& titles) {
    std::vector<const TitleInfo*> parts;
    for (const TitleInfo& other : titles) {
        // A part has fewer cells than the whole, so at least two parts make it up.
        if (other.number != title.number && other.titleset == title.titleset &&
            !other.cells.empty() && other.cells.size() < title.cells.size()) {
            parts.push_back(&other);
        }
    }
    std::set<int> used;
    return !title.cells.empty() && covered(title, 0, parts, used);
}

std::optional<int> choose_main_feature(const std::vector<TitleInfo>& titles) {
    std::vector<const TitleInfo*> candidates;
    for (const TitleInfo& title : titles) {
        if (!is_play_all(title, titles)) {
            candidates.push_back(&title);
        }
    }
    if (candidates.empty()) {
        return std::nullopt;
    }
    // Better first: longer, more chapters, more audio streams, then the lower number.
    auto key = [](const TitleInfo* t) {
        return std::make_tuple(t->duration, t->chapters, t->audio.size(), -t->number);
    };
    const TitleInfo* best =
        *std::max_element(candidates.begin(), candidates.end(),
                          [&](const TitleInfo* a, const TitleInfo* b) { return key(a) < key(b); });
    return best->number;
}

}  // namespace freemkv
