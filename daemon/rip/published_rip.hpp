#pragma once

// Finishing a rip is idempotent: when the daemon stops (or crashes) after a rip's rename and
// before its journal records the end, the job runs again at the next start and must end as the
// rip did, not fail because its own output "already exists".

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "file_system.hpp"
#include "ripper.hpp"

namespace freemkv {

// The result of the rip already published at `final_path`, when everything on disk says it is
// this disc's finished rip: no "<final>.part", the file is regular and has the disc's size, and
// the mapfile, if still there, is finished and names `identity`. `identity` must come from the
// caller's own record of that name (the journal): once a clean rip has removed its mapfile, that
// record is all that ties the file to the disc. The file is not touched; a leftover mapfile of a
// clean rip is removed, as the rip would have done. nullopt when the rip has to run.
std::optional<RipResult> published_rip(const std::filesystem::path& final_path,
                                       const std::string& identity, std::uint64_t size_bytes,
                                       std::uint32_t sector_size,
                                       FileSystem& fs = real_file_system());

}  // namespace freemkv
