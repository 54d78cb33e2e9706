#pragma once

// One table of names per enum, and the to/from-string every enum shares. A component declares
// its table next to the enum, e.g.
//
//   inline constexpr EnumNames<Color, 2> color_names{{{Color::red, "red"}, {Color::blue, "blue"}}};
//
// and its to_string()/parse_...() are one line each over that table. Error messages list the
// allowed names in the table's order.

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace freemkv {

template <typename E>
struct EnumName {
    E value;
    std::string_view name;
};

template <typename E, std::size_t N>
using EnumNames = std::array<EnumName<E>, N>;

// The name of `value`; "?" for a value the table lacks (a missing table entry is a bug).
template <typename E, std::size_t N>
constexpr std::string_view name_of(const EnumNames<E, N>& names, E value) {
    for (const EnumName<E>& entry : names) {
        if (entry.value == value) {
            return entry.name;
        }
    }
    return "?";
}

// The value named exactly `name`, if any.
template <typename E, std::size_t N>
constexpr std::optional<E> value_of(const EnumNames<E, N>& names, std::string_view name) {
    for (const EnumName<E>& entry : names) {
        if (entry.name == name) {
            return entry.value;
        }
    }
    return std::nullopt;
}

// Every name, in the table's order.
template <typename E, std::size_t N>
std::vector<std::string_view> all_names(const EnumNames<E, N>& names) {
    std::vector<std::string_view> out;
    for (const EnumName<E>& entry : names) {
        out.push_back(entry.name);
    }
    return out;
}

}  // namespace freemkv
