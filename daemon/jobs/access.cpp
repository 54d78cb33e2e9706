#include "access.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

#include <algorithm>

namespace freemkv {

Caller caller_from_uid(uid_t uid) {
    Caller c{uid, static_cast<gid_t>(-1), {}};
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
        return c;  // unknown user: only "other" permissions apply
    }
    c.gid = pw.pw_gid;
    int count = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(count));
    if (::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &count) < 0) {
        groups.resize(static_cast<std::size_t>(count));
        ::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &count);
    }
    groups.resize(static_cast<std::size_t>(std::max(count, 0)));
    c.groups = std::move(groups);
    return c;
}

namespace {

bool allowed(const Caller& c, const struct stat& st, mode_t user_bit, mode_t group_bit,
             mode_t other_bit) {
    if (st.st_uid == c.uid) {
        return st.st_mode & user_bit;
    }
    bool in_group = st.st_gid == c.gid ||
                    std::find(c.groups.begin(), c.groups.end(), st.st_gid) != c.groups.end();
    if (in_group) {
        return st.st_mode & group_bit;
    }
    return st.st_mode & other_bit;
}

}  // namespace

std::string read_denied(const Caller& caller, const std::filesystem::path& path, FileId* checked) {
    if (!path.is_absolute()) {
        return path.string() + " is not an absolute path";
    }
    if (caller.uid == 0) {
        struct stat st {};
        if (checked && ::stat(path.c_str(), &st) == 0) {
            *checked = {st.st_dev, st.st_ino};
        }
        return {};
    }
    std::filesystem::path walked = "/";
    for (auto it = std::next(path.begin()); it != path.end(); ++it) {
        struct stat dir {};
        if (::stat(walked.c_str(), &dir) != 0) {
            return walked.string() + " does not exist";
        }
        if (!allowed(caller, dir, S_IXUSR, S_IXGRP, S_IXOTH)) {
            return "you may not enter " + walked.string();
        }
        walked /= *it;
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return path.string() + " does not exist";
    }
    if (!allowed(caller, st, S_IRUSR, S_IRGRP, S_IROTH)) {
        return "you may not read " + path.string();
    }
    if (checked) {
        *checked = {st.st_dev, st.st_ino};
    }
    return {};
}

}  // namespace freemkv
