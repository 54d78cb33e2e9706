#include "config_value.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "config.hpp"
#include "naming.hpp"

namespace freemkv {

namespace fs = std::filesystem;
using std::chrono::seconds;

std::string join(const std::vector<std::string_view>& words) {
    std::string out;
    for (std::string_view w : words) {
        out += out.empty() ? "" : ", ";
        out += w;
    }
    return out;
}

std::string_view type_name(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::table:
            return "table";
        case toml::node_type::array:
            return "array";
        case toml::node_type::string:
            return "string";
        case toml::node_type::integer:
            return "integer";
        case toml::node_type::floating_point:
            return "float";
        case toml::node_type::boolean:
            return "boolean";
        case toml::node_type::date:
            return "date";
        case toml::node_type::time:
            return "time";
        case toml::node_type::date_time:
            return "date-time";
        case toml::node_type::none:
            break;
    }
    return "nothing";
}

namespace {

constexpr std::array<std::pair<std::uint64_t, std::string_view>, 3> size_units = {
    {{GiB, "GiB"}, {MiB, "MiB"}, {KiB, "KiB"}}};

}  // namespace

std::string format_size(std::uint64_t bytes) {
    for (auto [unit, name] : size_units) {
        if (bytes != 0 && bytes % unit == 0) {
            return fmt::format("{} {}", bytes / unit, name);
        }
    }
    return fmt::format("{} bytes", bytes);
}

namespace {

std::string format_duration(seconds d) {
    auto s = d.count();
    if (s != 0 && s % 3600 == 0) {
        return fmt::format("{}h", s / 3600);
    }
    if (s != 0 && s % 60 == 0) {
        return fmt::format("{}m", s / 60);
    }
    return fmt::format("{}s", s);
}

// "<digits>[ ]<unit>" with a unit from `units`; nullopt if malformed or too large.
std::optional<std::uint64_t> parse_quantity(
    std::string_view text,
    std::initializer_list<std::pair<std::string_view, std::uint64_t>> units) {
    std::uint64_t number = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc() || end == text.data()) {
        return std::nullopt;
    }
    std::string_view unit = text.substr(static_cast<std::size_t>(end - text.data()));
    if (unit.starts_with(' ')) {
        unit.remove_prefix(1);
    }
    for (auto [name, factor] : units) {
        if (unit == name) {
            if (number > std::numeric_limits<std::uint64_t>::max() / factor) {
                return std::nullopt;
            }
            return number * factor;
        }
    }
    return std::nullopt;
}

}  // namespace

void ConfigValue::fail(const std::string& message) const {
    throw ConfigError(file_, line_, key_, message);
}

void ConfigValue::fail_choice(const std::vector<std::string_view>& allowed) const {
    const std::string& s = string();
    if (auto guess = closest_match(s, allowed)) {
        fail(fmt::format("invalid value '{}' (did you mean '{}'? allowed: {})", s, *guess,
                         join(allowed)));
    }
    fail(fmt::format("invalid value '{}' (allowed: {})", s, join(allowed)));
}

void ConfigValue::wrong_type(std::string_view expected) const {
    fail(fmt::format("expected {}, got {}", expected, type_name(node_)));
}

const std::string& ConfigValue::string() const {
    if (const auto* s = node_.as_string()) {
        return s->get();
    }
    wrong_type("a string");
}

std::int64_t ConfigValue::integer() const {
    if (const auto* i = node_.as_integer()) {
        return i->get();
    }
    wrong_type("an integer");
}

bool ConfigValue::boolean() const {
    if (const auto* b = node_.as_boolean()) {
        return b->get();
    }
    wrong_type("a boolean");
}

unsigned ConfigValue::bounded(std::int64_t lo, std::int64_t hi) const {
    std::int64_t v = integer();
    if (v < lo || v > hi) {
        fail(fmt::format("must be between {} and {}, got {}", lo, hi, v));
    }
    return static_cast<unsigned>(v);
}

seconds ConfigValue::duration(seconds lo, seconds hi) const {
    std::uint64_t value = 0;
    if (const auto* i = node_.as_integer()) {
        if (i->get() < 0) {
            fail(fmt::format("must not be negative, got {}", i->get()));
        }
        value = static_cast<std::uint64_t>(i->get());
    } else if (const auto* s = node_.as_string()) {
        auto parsed = parse_quantity(s->get(), {{"s", 1}, {"m", 60}, {"h", 3600}});
        if (!parsed) {
            fail(
                fmt::format("invalid duration '{}' (use a number with s, m or h, e.g. "
                            "\"90s\", \"10m\", \"1h\", or integer seconds)",
                            s->get()));
        }
        value = *parsed;
    } else {
        wrong_type("a duration (\"90s\", \"10m\", \"1h\" or integer seconds)");
    }
    if (value < static_cast<std::uint64_t>(lo.count()) ||
        value > static_cast<std::uint64_t>(hi.count())) {
        fail(fmt::format("must be between {} and {}, got {}", format_duration(lo),
                         format_duration(hi), format_duration(seconds(value))));
    }
    return seconds(value);
}

std::uint64_t ConfigValue::size(std::uint64_t lo, std::uint64_t hi, std::uint64_t granule) const {
    std::uint64_t value = 0;
    if (const auto* i = node_.as_integer()) {
        if (i->get() < 0) {
            fail(fmt::format("must not be negative, got {}", i->get()));
        }
        value = static_cast<std::uint64_t>(i->get());
    } else if (const auto* s = node_.as_string()) {
        auto parsed =
            parse_quantity(s->get(), {{"B", 1}, {"KiB", KiB}, {"MiB", MiB}, {"GiB", GiB}});
        if (!parsed) {
            fail(
                fmt::format("invalid size '{}' (use a number with B, KiB, MiB or GiB, "
                            "e.g. \"32 MiB\", or integer bytes)",
                            s->get()));
        }
        value = *parsed;
    } else {
        wrong_type("a size (\"32 MiB\", \"1 GiB\" or integer bytes)");
    }
    if (value < lo) {
        fail(fmt::format("must be at least {}, got {}", format_size(lo), format_size(value)));
    }
    if (value > hi) {
        fail(fmt::format("must be at most {}, got {}", format_size(hi), format_size(value)));
    }
    if (value % granule != 0) {
        fail(fmt::format("must be a multiple of {}, got {}", format_size(granule),
                         format_size(value)));
    }
    return value;
}

fs::path ConfigValue::directory() const {
    const std::string& s = string();
    if (s.empty()) {
        fail("must not be empty");
    }
    if (s.find('\0') != std::string::npos) {
        fail("must not contain a NUL character");
    }
    if (s.front() != '/') {
        fail(fmt::format("must be an absolute path, got '{}'", s));
    }
    return s;
}

std::vector<fs::path> ConfigValue::directories() const {
    const toml::array* array = node_.as_array();
    if (array == nullptr) {
        wrong_type("an array of strings");
    }
    std::vector<fs::path> dirs;
    for (std::size_t i = 0; i < array->size(); ++i) {
        const toml::node& node = *array->get(i);
        ConfigValue element(file_, fmt::format("{}[{}]", key_, i), node, node.source().begin.line);
        dirs.push_back(element.directory());
    }
    return dirs;
}

std::vector<std::string> ConfigValue::device_globs() const {
    const toml::array* array = node_.as_array();
    if (array == nullptr) {
        wrong_type("an array of strings");
    }
    std::vector<std::string> globs;
    for (std::size_t i = 0; i < array->size(); ++i) {
        const toml::node& node = *array->get(i);
        ConfigValue element(file_, fmt::format("{}[{}]", key_, i), node, node.source().begin.line);
        const std::string& glob = element.string();
        if (!glob.starts_with("/dev/") || glob.size() == 5 ||
            glob.find('\0') != std::string::npos) {
            element.fail(
                fmt::format("must be a device path or glob under /dev/, e.g. "
                            "\"/dev/sr*\", got '{}'",
                            glob));
        }
        globs.push_back(glob);
    }
    return globs;
}

std::string ConfigValue::url() const {
    const std::string& text = string();
    bool printable = std::ranges::all_of(text, [](char c) { return c > ' ' && c < 0x7f; });
    std::string_view rest = text;
    if (rest.starts_with("https://")) {
        rest.remove_prefix(8);
    } else if (rest.starts_with("http://")) {
        rest.remove_prefix(7);
    } else {
        rest = {};
    }
    if (!printable || rest.empty() || rest.front() == '/') {
        fail(
            fmt::format("must be an http:// or https:// URL such as \"https://musicbrainz.org\", "
                        "got '{}'",
                        text));
    }
    return text;
}

}  // namespace freemkv
