#include "cancel_access.hpp"

#include <grp.h>

#include <algorithm>
#include <vector>

#include "access.hpp"

namespace freemkv::bus {

bool may_cancel(uid_t caller, uid_t starter) {
    if (caller == 0 || caller == starter) {
        return true;
    }
    std::vector<char> buf(16384);
    group entry{};
    group* found = nullptr;
    if (::getgrnam_r(admin_group, &entry, buf.data(), buf.size(), &found) != 0 ||
        found == nullptr) {
        return false;
    }
    Caller who = caller_from_uid(caller);
    return who.gid == found->gr_gid ||
           std::find(who.groups.begin(), who.groups.end(), found->gr_gid) != who.groups.end();
}

}  // namespace freemkv::bus
