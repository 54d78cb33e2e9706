#include "mapfile.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <iterator>
#include <limits>
#include <optional>

#include "atomic_file.hpp"

namespace freemkv {

namespace {

// A comment line ddrescue ignores; it ties a mapfile to its disc.
constexpr std::string_view identity_prefix = "# freemkvd identity: ";

// ddrescue reads positions and sizes as signed 64-bit numbers.
constexpr std::uint64_t max_offset = std::numeric_limits<std::int64_t>::max();

std::string hex(std::uint64_t value) {
    std::array<char, 24> buf{};
    std::snprintf(buf.data(), buf.size(), "0x%08" PRIX64, value);
    return buf.data();
}

bool is_block_status(char c) {
    return c == '?' || c == '*' || c == '/' || c == '-' || c == '+';
}

bool is_phase(char c) {
    return is_block_status(c) || c == 'F' || c == 'G';
}

// The whitespace-separated fields of a line. '#' at the start of the line or after whitespace
// starts a comment; a '#' inside a field is part of it (and so makes the field invalid).
std::vector<std::string_view> split_fields(std::string_view line) {
    std::vector<std::string_view> fields;
    auto is_space = [](char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
    };
    std::size_t i = 0;
    while (true) {
        while (i < line.size() && is_space(line[i])) {
            ++i;
        }
        if (i == line.size() || line[i] == '#') {
            return fields;
        }
        std::size_t start = i;
        while (i < line.size() && !is_space(line[i])) {
            ++i;
        }
        fields.push_back(line.substr(start, i - start));
    }
}

// An integer with C++ literal syntax, as ddrescue accepts: 0x hex, leading-0 octal or decimal.
std::optional<std::uint64_t> parse_offset(std::string_view s) {
    int base = 10;
    if (s.size() > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s.remove_prefix(2);
    } else if (s.size() > 1 && s[0] == '0') {
        base = 8;
        s.remove_prefix(1);
    }
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, base);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || value > max_offset) {
        return std::nullopt;
    }
    return value;
}

std::optional<int> parse_pass(std::string_view s) {
    int value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, 10);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || value < 1) {
        return std::nullopt;
    }
    return value;
}

std::optional<char> single_char(std::string_view s, bool (*valid)(char)) {
    if (s.size() != 1 || !valid(s[0])) {
        return std::nullopt;
    }
    return s[0];
}

}  // namespace

Mapfile::Mapfile(std::uint64_t device_size) : device_size_(device_size) {
    if (device_size > 0) {
        ranges_.push_back({0, device_size, BlockStatus::non_tried});
    }
}

std::size_t Mapfile::find(std::uint64_t pos) const {
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), pos,
                               [](std::uint64_t p, const MapRange& r) { return p < r.pos; });
    return static_cast<std::size_t>(it - ranges_.begin()) - 1;
}

void Mapfile::set(std::uint64_t pos, std::uint64_t size, BlockStatus status) {
    if (pos > device_size_ || size > device_size_ - pos) {
        throw std::out_of_range("mapfile range " + hex(pos) + "+" + hex(size) +
                                " is past the device size " + hex(device_size_));
    }
    if (size == 0) {
        return;
    }
    const std::uint64_t end = pos + size;
    std::size_t first = find(pos);
    std::size_t last = find(end - 1);
    // Ranges [first, last] are replaced by: what is left of the first one before `pos`, the new
    // range, what is left of the last one after `end`. A neighbour is pulled in whenever a
    // remainder is empty, so that it can merge with the new range.
    MapRange left{ranges_[first].pos, pos - ranges_[first].pos, ranges_[first].status};
    MapRange right{end, ranges_[last].end() - end, ranges_[last].status};
    if (left.size == 0 && first > 0) {
        left = ranges_[--first];
    }
    if (right.size == 0 && last + 1 < ranges_.size()) {
        right = ranges_[++last];
    }
    MapRange mid{pos, size, status};
    if (left.status == status) {
        mid = {left.pos, left.size + mid.size, status};
        left.size = 0;
    }
    if (right.status == status) {
        mid.size += right.size;
        right.size = 0;
    }
    std::array<MapRange, 3> repl{};
    std::size_t count = 0;
    for (const MapRange& r : {left, mid, right}) {
        if (r.size > 0) {
            repl[count++] = r;
        }
    }
    // A sweep marking the block after a finished range replaces two ranges with two, so the
    // common case moves nothing.
    auto at = ranges_.begin() + static_cast<std::ptrdiff_t>(first);
    const std::size_t old = last - first + 1;
    const std::size_t kept = std::min(old, count);
    std::copy_n(repl.begin(), kept, at);
    if (count < old) {
        ranges_.erase(at + static_cast<std::ptrdiff_t>(count),
                      at + static_cast<std::ptrdiff_t>(old));
    } else if (count > old) {
        ranges_.insert(at + static_cast<std::ptrdiff_t>(old),
                       repl.begin() + static_cast<std::ptrdiff_t>(old),
                       repl.begin() + static_cast<std::ptrdiff_t>(count));
    }
}

BlockStatus Mapfile::status_at(std::uint64_t pos) const {
    if (pos >= device_size_) {
        throw std::out_of_range("mapfile position " + hex(pos) + " is past the device size " +
                                hex(device_size_));
    }
    return ranges_[find(pos)].status;
}

std::vector<MapRange> Mapfile::ranges_with(BlockStatus status) const {
    std::vector<MapRange> out;
    std::copy_if(ranges_.begin(), ranges_.end(), std::back_inserter(out),
                 [status](const MapRange& r) { return r.status == status; });
    return out;
}

std::uint64_t Mapfile::bytes_with(BlockStatus status) const {
    std::uint64_t total = 0;
    for (const MapRange& r : ranges_) {
        if (r.status == status) {
            total += r.size;
        }
    }
    return total;
}

std::string Mapfile::to_string() const {
    std::string out;
    out.reserve(200 + ranges_.size() * 26);
    out += "# Mapfile. Created by freemkvd\n";
    out += "# Command line: freemkvd\n";
    if (!identity.empty()) {
        out += std::string(identity_prefix) + identity + "\n";
    }
    out += "# current_pos  current_status  current_pass\n";
    out += hex(current_pos) + "     " + static_cast<char>(phase) + "               " +
           std::to_string(pass) + "\n";
    out += "#      pos        size  status\n";
    for (const MapRange& r : ranges_) {
        out += hex(r.pos) + "  " + hex(r.size) + "  " + static_cast<char>(r.status) + "\n";
    }
    return out;
}

Mapfile Mapfile::parse(std::string_view text, const std::filesystem::path& name_for_errors) {
    Mapfile map;
    bool have_status_line = false;
    std::size_t line_no = 0;
    auto error = [&](const std::string& problem) {
        return MapfileError(name_for_errors, line_no, problem);
    };
    while (!text.empty()) {
        const std::size_t nl = text.find('\n');
        const std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        ++line_no;
        if (line.starts_with(identity_prefix)) {
            map.identity = std::string(line.substr(identity_prefix.size()));
            continue;
        }
        const auto fields = split_fields(line);
        if (fields.empty()) {
            continue;
        }
        if (!have_status_line) {
            std::optional<std::uint64_t> pos = parse_offset(fields[0]);
            std::optional<char> phase =
                fields.size() >= 2 ? single_char(fields[1], is_phase) : std::nullopt;
            std::optional<int> pass = fields.size() == 3 ? parse_pass(fields[2]) : 1;
            if (fields.size() > 3 || !pos || !phase || !pass) {
                throw error("bad status line, expected: current_pos current_status [current_pass]");
            }
            map.current_pos = *pos;
            map.phase = static_cast<Phase>(*phase);
            map.pass = *pass;
            have_status_line = true;
            continue;
        }
        if (fields.size() != 3) {
            throw error("bad block line, expected: pos size status");
        }
        std::optional<std::uint64_t> pos = parse_offset(fields[0]);
        std::optional<std::uint64_t> size = parse_offset(fields[1]);
        std::optional<char> status = single_char(fields[2], is_block_status);
        if (!pos || !size) {
            throw error("bad block line, expected: pos size status");
        }
        if (!status) {
            throw error("unknown block status '" + std::string(fields[2]) + "'");
        }
        if (*size == 0 || *size > max_offset - *pos) {
            throw error("bad block size " + std::string(fields[1]));
        }
        if (*pos > map.device_size_) {
            throw error("gap before this block: the previous block ends at " +
                        hex(map.device_size_));
        }
        if (*pos < map.device_size_) {
            throw error("this block overlaps the previous one, which ends at " +
                        hex(map.device_size_));
        }
        const auto block_status = static_cast<BlockStatus>(*status);
        if (!map.ranges_.empty() && map.ranges_.back().status == block_status) {
            map.ranges_.back().size += *size;
        } else {
            map.ranges_.push_back({*pos, *size, block_status});
        }
        map.device_size_ = *pos + *size;
    }
    if (!have_status_line) {
        line_no = std::max<std::size_t>(line_no, 1);
        throw error("missing status line");
    }
    return map;
}

Mapfile Mapfile::load(const std::filesystem::path& path) {
    return parse(read_whole_file(path), path);
}

void Mapfile::save(const std::filesystem::path& path, FileSystem& fs) const {
    write_file_atomically(path, to_string(), fs);
}

}  // namespace freemkv
