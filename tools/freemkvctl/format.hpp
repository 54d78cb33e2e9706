#pragma once

// Human-readable units, the progress bar, and how --json output is written.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace freemkv::ctl {

std::string bytes(std::uint64_t n);           // "8.0 MiB"
std::string rate(double bytes_per_second);    // "31.2 MB/s"
std::string duration(std::int64_t seconds);   // "12:34", "1:02:03"
std::string percent(double fraction);         // " 42.1%"
std::string bar(double fraction, int width);  // "[#####.....]"
// Cuts `line` to at most `columns` characters (UTF-8 aware).
std::string truncate(std::string_view line, std::size_t columns);

// --json output: objects keep their keys in the order they were set.
using Json = nlohmann::ordered_json;

// One line of JSON, without spaces. Numbers that are not finite are null; bytes that are not
// UTF-8 become U+FFFD (nlohmann-json would throw).
std::string dump(const Json& value);

}  // namespace freemkv::ctl
