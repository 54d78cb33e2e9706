#pragma once

// Finding an unfinished rip of a disc from the library's files alone: "<name>.map", whose header
// names the disc, beside "<name>.iso.part". The journal keeps only recent jobs, so without this a
// rip it no longer lists (or never did) would never be resumed and would hold its name forever.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

namespace freemkv {

// The final path of the unfinished rip of the disc `identity` of `size_bytes` bytes, looked for
// in `library` and its subdirectories down to `depth` levels (1: the library itself; a naming
// pattern with N path components writes N levels deep), without following symlinks. A mapfile
// counts when its "<final>.part" exists and the mapfile names this disc and size; of several,
// the one with most bytes rescued. Unreadable directories and mapfiles are skipped with a log
// line. nullopt when there is none. Touches only the filesystem: call it without locks held.
std::optional<std::filesystem::path> find_resumable_rip(const std::filesystem::path& library,
                                                        std::size_t depth,
                                                        std::string_view identity,
                                                        std::uint64_t size_bytes,
                                                        std::string_view extension = ".iso");

}  // namespace freemkv
