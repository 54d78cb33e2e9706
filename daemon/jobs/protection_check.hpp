#pragma once

// The job's look at a disc's copy protection before its rip starts: a CSS-protected DVD without
// libdvdcss would otherwise be swept and "repaired" for minutes into an image of zeros (a drive
// refuses scrambled sectors before authentication) or of scrambled video.

#include <string>

#include "disc_info.hpp"
#include "job.hpp"

namespace freemkv {

// Why the job must end now, or "" to rip. Reads the request's source (its handed-over
// descriptor if it has one) the way the rip would: a path is checked to still be the file the
// caller's access was checked on (DiscError otherwise).
std::string protection_refusal(const JobRequest& request, const DiscInfo& disc);

}  // namespace freemkv
