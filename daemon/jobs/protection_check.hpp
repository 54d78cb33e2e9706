#pragma once

// The job's look at a disc's copy protection before its rip starts: a CSS-protected DVD without
// libdvdcss would otherwise be swept and "repaired" for minutes into an image of zeros (a drive
// refuses scrambled sectors before authentication) or of scrambled video. With libdvdcss, the rip
// reads the disc's VOBs decrypted through it (css_descrambler.hpp) and the image is clear.

#include <memory>
#include <string>

#include "descrambler.hpp"
#include "disc_info.hpp"
#include "job.hpp"

namespace freemkv {

struct ProtectionPlan {
    std::string refusal;                       // why the job must end now; "" to rip
    std::shared_ptr<Descrambler> descrambler;  // for RipOptions; none: read the disc as it is
};

// Reads the request's source (its handed-over descriptor if it has one) the way the rip would:
// a path is checked to still be the file the caller's access was checked on (DiscError
// otherwise). `dvdcss_library` for tests.
ProtectionPlan plan_protection(const JobRequest& request, const DiscInfo& disc,
                               const char* dvdcss_library = "libdvdcss.so.2");

}  // namespace freemkv
