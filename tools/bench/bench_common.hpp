#pragma once

// What the benchmarks share: sizes on the command line, CPU time, and /proc readings.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace freemkv::bench {

// "512M", "2G", "64MiB", "4096": bytes. Throws std::invalid_argument.
std::uint64_t parse_size(const char* text);

// User + system CPU seconds of this process so far.
double cpu_seconds();

// The sum of `keys` in a /proc file of "Key: value kB" lines, in bytes.
std::uint64_t proc_kb(const char* path, std::initializer_list<std::string_view> keys);

// Dirty + Writeback of the whole machine, from /proc/meminfo, in bytes.
inline std::uint64_t machine_dirty_bytes() {
    return proc_kb("/proc/meminfo", {"Dirty:", "Writeback:"});
}

}  // namespace freemkv::bench
