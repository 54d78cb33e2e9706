#include "bench_common.hpp"

#include <sys/resource.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>

namespace freemkv::bench {

std::uint64_t parse_size(const char* text) {
    char* end = nullptr;
    double v = std::strtod(text, &end);
    std::string unit = end;
    static const std::map<std::string, double> units = {
        {"", 1},          {"K", 1 << 10},   {"M", 1 << 20},  {"G", 1 << 30},
        {"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}};
    auto it = units.find(unit);
    if (end == text || v <= 0 || it == units.end()) {
        throw std::invalid_argument(std::string("bad size '") + text + "' (e.g. 64M, 2G, 8MiB)");
    }
    return static_cast<std::uint64_t>(v * it->second);
}

double cpu_seconds() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    auto tv = [](timeval t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    return tv(ru.ru_utime) + tv(ru.ru_stime);
}

std::uint64_t proc_kb(const char* path, std::initializer_list<std::string_view> keys) {
    std::ifstream in(path);
    std::uint64_t total = 0;
    for (std::string line; std::getline(in, line);) {
        for (auto key : keys) {
            if (line.starts_with(key)) {
                total += std::strtoull(line.c_str() + key.size(), nullptr, 10) * 1024;
            }
        }
    }
    return total;
}

}  // namespace freemkv::bench
