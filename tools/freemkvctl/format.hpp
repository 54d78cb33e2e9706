#pragma once

// Human-readable units, the progress bar, and a minimal JSON object writer.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace freemkv::ctl {

std::string bytes(std::uint64_t n);           // "8.0 MiB"
std::string rate(double bytes_per_second);    // "31.2 MB/s"
std::string duration(std::int64_t seconds);   // "12:34", "1:02:03"
std::string percent(double fraction);         // " 42.1%"
std::string bar(double fraction, int width);  // "[#####.....]"
// Cuts `line` to at most `columns` characters (UTF-8 aware).
std::string truncate(std::string_view line, std::size_t columns);

std::string json_string(std::string_view s);
std::string json_array(const std::vector<std::string>& items);

// Builds one JSON object, keys in insertion order.
class JsonObject {
  public:
    JsonObject& str(std::string_view key, std::string_view value);
    JsonObject& num(std::string_view key, std::uint64_t value);
    JsonObject& real(std::string_view key, double value);  // null when not finite
    JsonObject& flag(std::string_view key, bool value);
    JsonObject& optional_num(std::string_view key, std::optional<std::int64_t> value);
    JsonObject& raw(std::string_view key, std::string_view json);
    std::string dump() const { return "{" + body_ + "}"; }

  private:
    std::string body_;
};

}  // namespace freemkv::ctl
