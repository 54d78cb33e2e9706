#pragma once

// A GNU ddrescue-compatible mapfile: the rip engine's record of which byte ranges of a disc are
// done, pending or bad. The text format is ddrescue's own (see "Mapfile structure" in
// `info ddrescue`), so ddrescue and ddrescuelog can read, resume and analyse our rips.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "file_system.hpp"

namespace freemkv {

// ddrescue's block status characters.
enum class BlockStatus : char {
    non_tried = '?',
    non_trimmed = '*',
    non_scraped = '/',
    bad_sector = '-',
    finished = '+',
};

// ddrescue's current-status characters for the header line.
enum class Phase : char {
    copying = '?',
    trimming = '*',
    scraping = '/',
    retrying = '-',
    filling = 'F',
    generating = 'G',
    finished = '+',
};

struct MapRange {
    std::uint64_t pos;
    std::uint64_t size;
    BlockStatus status;

    std::uint64_t end() const { return pos + size; }
    bool operator==(const MapRange&) const = default;
};

// A mapfile that cannot be parsed; what() reads "<file>:<line>: <problem>".
class MapfileError : public std::runtime_error {
  public:
    MapfileError(const std::filesystem::path& file, std::size_t line, const std::string& problem)
        : std::runtime_error(file.string() + ":" + std::to_string(line) + ": " + problem),
          file_(file),
          line_(line) {}

    const std::filesystem::path& file() const { return file_; }
    std::size_t line() const { return line_; }

  private:
    std::filesystem::path file_;
    std::size_t line_;
};

class Mapfile {
  public:
    // One non_tried range covering the whole device (no ranges at all when the size is 0).
    explicit Mapfile(std::uint64_t device_size);

    // Marks [pos, pos + size) with `status`, splitting and merging ranges so that adjacent ranges
    // never share a status. Throws std::out_of_range past device_size().
    void set(std::uint64_t pos, std::uint64_t size, BlockStatus status);
    // Throws std::out_of_range at or past device_size().
    BlockStatus status_at(std::uint64_t pos) const;

    // Sorted, contiguous, covering [0, device_size()).
    const std::vector<MapRange>& ranges() const { return ranges_; }
    std::vector<MapRange> ranges_with(BlockStatus status) const;
    std::uint64_t bytes_with(BlockStatus status) const;
    std::uint64_t device_size() const { return device_size_; }

    // The disc this map belongs to (freemkvd's fingerprint, kept in a comment line).
    std::string identity;

    // The status line.
    std::uint64_t current_pos = 0;
    Phase phase = Phase::copying;
    int pass = 1;

    // The whole file, formatted as ddrescue writes it.
    std::string to_string() const;
    // Accepts what any ddrescue version writes (the status line's pass is optional, as in
    // versions before 1.20) and hand-edited files (decimal, octal or hex numbers; comments;
    // adjacent blocks with the same status are merged). Rejects blocks that leave gaps or overlap,
    // unknown status characters and anything else with MapfileError.
    static Mapfile parse(std::string_view text, const std::filesystem::path& name_for_errors);
    // Throws IoError when the file cannot be read, MapfileError when it cannot be parsed.
    static Mapfile load(const std::filesystem::path& path);
    // Atomic and durable: writes "<path>.tmp", fsyncs it, renames it over `path` and fsyncs the
    // directory (through `fs`), so a crash leaves either the old or the new mapfile. Throws
    // IoError.
    void save(const std::filesystem::path& path, FileSystem& fs = real_file_system()) const;

  private:
    Mapfile() = default;
    // Index of the range containing `pos` (which must be below device_size_).
    std::size_t find(std::uint64_t pos) const;

    std::uint64_t device_size_ = 0;
    std::vector<MapRange> ranges_;
};

}  // namespace freemkv
