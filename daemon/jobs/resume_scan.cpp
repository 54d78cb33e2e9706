#include "resume_scan.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <string>
#include <system_error>

#include "full_io.hpp"
#include "io_error.hpp"
#include "mapfile.hpp"
#include "unique_fd.hpp"

namespace freemkv {

namespace {

namespace fs = std::filesystem;

// Far beyond any mapfile this daemon writes; a bigger "*.map" is someone else's file.
constexpr std::uint64_t max_mapfile_bytes = 64ull << 20;

// Non-blocking and without following a link: a FIFO or a device named "*.map" must not hang the
// scan, and only a regular file is read.
std::optional<std::string> read_mapfile_text(const fs::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
        throw IoError("open", path, 0, errno);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        throw IoError("stat", path, 0, errno);
    }
    if (!S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) > max_mapfile_bytes) {
        return std::nullopt;
    }
    std::string text(static_cast<std::size_t>(st.st_size), '\0');
    text.resize(read_full(fd.get(), std::as_writable_bytes(std::span(text)), 0, path));
    return text;
}

bool is_regular_file(const fs::path& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

struct Scan {
    std::string_view identity;
    std::uint64_t size_bytes;
    std::string_view extension;
    std::optional<fs::path> best;
    std::uint64_t best_done = 0;

    void directory(const fs::path& dir, std::size_t levels_left) {
        std::error_code ec;
        fs::directory_iterator it(dir, ec);
        if (ec) {
            if (ec != std::errc::no_such_file_or_directory) {
                spdlog::warn("looking for unfinished rips: cannot read {}: {}", dir.string(),
                             ec.message());
            }
            return;
        }
        for (; it != fs::directory_iterator(); it.increment(ec)) {
            const fs::directory_entry& entry = *it;
            fs::file_status st = entry.symlink_status(ec);
            if (ec) {
                continue;  // removed meanwhile
            }
            if (fs::is_directory(st)) {
                if (levels_left > 1) {
                    directory(entry.path(), levels_left - 1);
                }
            } else if (entry.path().extension() == ".map") {
                if (fs::is_regular_file(st)) {
                    mapfile(entry.path());
                } else {
                    spdlog::info("looking for unfinished rips: {} is not a regular file; ignored",
                                 entry.path().string());
                }
            }
        }
        if (ec) {
            spdlog::warn("looking for unfinished rips: cannot read {}: {}", dir.string(),
                         ec.message());
        }
    }

    void mapfile(const fs::path& map_path) {
        fs::path final_path = map_path;
        final_path.replace_extension(std::string(extension));
        if (!is_regular_file(final_path.string() + ".part")) {
            return;  // a finished rip's list of bad sectors, or not ours
        }
        try {
            std::optional<std::string> text = read_mapfile_text(map_path);
            if (!text) {
                spdlog::info("looking for unfinished rips: {} is not a mapfile; ignored",
                             map_path.string());
                return;
            }
            Mapfile map = Mapfile::parse(*text, map_path);
            if (map.identity.empty()) {
                spdlog::info("looking for unfinished rips: {} is not freemkvd's; ignored",
                             map_path.string());
                return;
            }
            if (map.identity != identity || map.device_size() != size_bytes) {
                spdlog::debug("looking for unfinished rips: {} is another disc's",
                              map_path.string());
                return;
            }
            std::uint64_t done = map.bytes_with(BlockStatus::finished);
            if (!best || done > best_done || (done == best_done && final_path < *best)) {
                best = final_path;
                best_done = done;
            }
        } catch (const std::exception& e) {
            spdlog::warn("looking for unfinished rips: {} is unreadable; ignored: {}",
                         map_path.string(), e.what());
        }
    }
};

}  // namespace

std::optional<fs::path> find_resumable_rip(const fs::path& library, std::size_t depth,
                                           std::string_view identity, std::uint64_t size_bytes,
                                           std::string_view extension) {
    if (identity.empty() || depth == 0) {
        return std::nullopt;
    }
    Scan scan{identity, size_bytes, extension, std::nullopt, 0};
    scan.directory(library, depth);
    if (scan.best) {
        spdlog::info("found an unfinished rip of disc {} at {}", identity, scan.best->string());
    }
    return scan.best;
}

}  // namespace freemkv
