#pragma once

// One `key = value` of the configuration file, read as the type its key takes. Each read checks
// the TOML type and the bounds and throws ConfigError naming the file, the line and the key, with
// a message a person can act on ("must be between 1 and 64, got 0"). The key table in config.cpp
// says which read each key uses.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "enum_names.hpp"

namespace freemkv {

// "a, b, c"
std::string join(const std::vector<std::string_view>& words);
// "32 MiB", "4 KiB", "100 bytes"
std::string format_size(std::uint64_t bytes);
// "string", "integer", "table", ... for "expected X, got Y"
std::string_view type_name(const toml::node& node);

inline constexpr std::uint64_t KiB = 1024;
inline constexpr std::uint64_t GiB = 1024 * 1024 * KiB;

class ConfigValue {
  public:
    ConfigValue(const std::filesystem::path& file, std::string key, const toml::node& node,
                unsigned line)
        : file_(file), key_(std::move(key)), node_(node), line_(line) {}

    const std::string& key() const { return key_; }
    unsigned line() const { return line_; }
    const toml::node& node() const { return node_; }

    [[noreturn]] void fail(const std::string& message) const;
    // An entry of this table value: key "<this key>.<name>", its own line when it has one.
    ConfigValue child(const std::string& name, const toml::node& node) const {
        unsigned line = node.source().begin.line;
        return ConfigValue(file_, key_ + "." + name, node, line ? line : line_);
    }

    const std::string& string() const;
    std::int64_t integer() const;
    bool boolean() const;
    // An integer in [lo, hi].
    unsigned bounded(std::int64_t lo, std::int64_t hi) const;
    // One of the names in `names`; a near miss is suggested.
    template <typename E, std::size_t N>
    E choice(const EnumNames<E, N>& names) const {
        if (auto v = value_of(names, string())) {
            return *v;
        }
        fail_choice(all_names(names));
    }
    // "90s", "10m", "1h" or integer seconds, in [lo, hi].
    std::chrono::seconds duration(std::chrono::seconds lo, std::chrono::seconds hi) const;
    // "32 MiB", "1 GiB" or integer bytes, in [lo, hi] and a multiple of `granule`.
    std::uint64_t size(std::uint64_t lo, std::uint64_t hi, std::uint64_t granule) const;
    // An absolute path.
    std::filesystem::path directory() const;
    // An array of absolute paths.
    std::vector<std::filesystem::path> directories() const;
    // An array of device paths or globs under /dev/.
    std::vector<std::string> device_globs() const;
    // An http:// or https:// URL: printable ASCII, no spaces, a host after the scheme.
    std::string url() const;

  private:
    [[noreturn]] void wrong_type(std::string_view expected) const;
    [[noreturn]] void fail_choice(const std::vector<std::string_view>& allowed) const;

    const std::filesystem::path& file_;
    std::string key_;  // dotted, e.g. "library.path"
    const toml::node& node_;
    unsigned line_;
};

}  // namespace freemkv
