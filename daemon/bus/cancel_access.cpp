#include "cancel_access.hpp"

#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <vector>

namespace freemkv::bus {

namespace {

// Whether the user database puts `uid` in group `gid` (as primary or supplementary group).
bool in_group_by_name(uid_t uid, gid_t gid) {
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
        return false;  // an unknown user is in no group
    }
    if (pw.pw_gid == gid) {
        return true;
    }
    int count = 64;
    std::vector<gid_t> groups;
    do {
        groups.resize(static_cast<std::size_t>(count));
    } while (::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &count) < 0 &&
             groups.size() < static_cast<std::size_t>(count));
    groups.resize(static_cast<std::size_t>(std::max(count, 0)));
    return std::find(groups.begin(), groups.end(), gid) != groups.end();
}

}  // namespace

bool may_cancel(uid_t caller, const std::optional<std::vector<gid_t>>& groups, uid_t starter) {
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
    if (groups) {
        return std::find(groups->begin(), groups->end(), found->gr_gid) != groups->end();
    }
    return in_group_by_name(caller, found->gr_gid);
}

}  // namespace freemkv::bus
