#include "format.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace freemkv::ctl {

std::string bytes(std::uint64_t n) {
    static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(n);
    std::size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < std::size(units)) {
        value /= 1024.0;
        ++unit;
    }
    return unit == 0 ? fmt::format("{} B", n) : fmt::format("{:.1f} {}", value, units[unit]);
}

std::string rate(double bytes_per_second) {
    return fmt::format("{:.1f} MB/s", std::max(0.0, bytes_per_second) / 1e6);
}

std::string duration(std::int64_t seconds) {
    seconds = std::max<std::int64_t>(0, seconds);
    std::int64_t h = seconds / 3600, m = seconds / 60 % 60, s = seconds % 60;
    return h ? fmt::format("{}:{:02}:{:02}", h, m, s) : fmt::format("{}:{:02}", m, s);
}

std::string percent(double fraction) {
    return fmt::format("{:5.1f}%", std::clamp(fraction, 0.0, 1.0) * 100.0);
}

std::string bar(double fraction, int width) {
    int filled = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * width);
    return "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
}

std::string truncate(std::string_view line, std::size_t columns) {
    std::size_t chars = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
        bool continuation = (static_cast<unsigned char>(line[i]) & 0xC0) == 0x80;
        if (!continuation && ++chars > columns) {
            return std::string(line.substr(0, i));
        }
    }
    return std::string(line);
}

std::string dump(const Json& value) {
    return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace freemkv::ctl
