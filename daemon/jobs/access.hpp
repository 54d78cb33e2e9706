#pragma once

// Whether a caller may read a file, decided from the caller's credentials (not the daemon's): a
// system daemon must not read an image on behalf of someone who could not read it themselves.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "disc_info.hpp"

namespace freemkv {

struct Caller {
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;  // supplementary groups
};

// The caller's identity from the system's user database: primary and supplementary groups.
Caller caller_from_uid(uid_t uid);

// Empty when `caller` may open `path` for reading (search permission on every directory on the
// way, read permission on the file itself, by owner/group/other mode bits; root may always);
// otherwise the reason, naming the path that stops them. `path` must be absolute.
// `checked`, when given, is set to the file whose mode was checked (for root: the file the path
// names), so that the caller can insist on that very file later (FileId).
std::string read_denied(const Caller& caller, const std::filesystem::path& path,
                        FileId* checked = nullptr);

}  // namespace freemkv
