#include "published_rip.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "mapfile.hpp"

namespace freemkv {

std::optional<RipResult> published_rip(const std::filesystem::path& final_path,
                                       const std::string& identity, std::uint64_t size_bytes,
                                       std::uint32_t sector_size, FileSystem& fs) {
    struct stat st {};
    if (identity.empty() || sector_size == 0 || ::lstat(final_path.c_str(), &st) != 0 ||
        !S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) != size_bytes) {
        return std::nullopt;
    }
    std::error_code ec;
    if (std::filesystem::exists(final_path.string() + ".part", ec) || ec) {
        return std::nullopt;
    }
    RipResult result;
    result.outcome = RipOutcome::ok;
    result.output = final_path;
    auto map_path = mapfile_path(final_path);
    if (std::filesystem::exists(map_path, ec)) {
        try {
            Mapfile map = Mapfile::load(map_path);
            if (map.identity != identity || map.device_size() != size_bytes ||
                map.phase != Phase::finished) {
                return std::nullopt;
            }
            result.unreadable_sectors =
                (size_bytes - map.bytes_with(BlockStatus::finished)) / sector_size;
        } catch (const std::exception& e) {
            spdlog::warn("{} exists, but its mapfile is unreadable: {}", final_path.string(),
                         e.what());
            return std::nullopt;
        }
        if (result.unreadable_sectors > 0) {
            result.outcome = RipOutcome::ok_with_errors;
            result.mapfile = map_path;
        } else {
            try {
                std::filesystem::remove(map_path);
                fs.sync_directory(parent_directory(map_path));
            } catch (const std::exception& e) {
                spdlog::warn("{} is published, but removing {} failed: {}", final_path.string(),
                             map_path.string(), e.what());
            }
        }
    } else if (ec) {
        return std::nullopt;
    }
    spdlog::info("{} was already published before the restart; the job ends as it did",
                 final_path.string());
    return result;
}

}  // namespace freemkv
