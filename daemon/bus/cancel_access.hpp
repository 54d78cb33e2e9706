#pragma once

// Who may cancel a job: root, the user who started it, and the members of the
// admin group, the group the shipped bus policy lets start and cancel rips. The
// bus policy decides who may call Cancel at all; this decides whose jobs they
// may cancel.

#include <sys/types.h>

namespace freemkv::bus {

inline constexpr const char* admin_group = "freemkv";

bool may_cancel(uid_t caller, uid_t starter);

}  // namespace freemkv::bus
