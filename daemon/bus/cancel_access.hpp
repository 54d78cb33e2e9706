#pragma once

// Who may cancel a job: root, the user who started it, and the members of the admin group, the
// group the shipped bus policy lets start and cancel rips. The bus policy decides who may call
// Cancel at all; this decides whose jobs they may cancel.

#include <sys/types.h>

#include <optional>
#include <vector>

namespace freemkv::bus {

inline constexpr const char* admin_group = "freemkv";

// `groups`: the caller's supplementary groups from its credentials (the kernel's, through the
// bus). Only when the bus does not give them (nullopt) is the user database asked instead.
bool may_cancel(uid_t caller, const std::optional<std::vector<gid_t>>& groups, uid_t starter);

}  // namespace freemkv::bus
