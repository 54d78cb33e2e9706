#pragma once

// For tests of code that reads a descriptor a caller handed over: runs `check` in a child process
// that holds the descriptors opened before the call but may not open `file` again by path, nor
// through /proc/self/fd (the file is made mode 0, and a root test drops to nobody in the child).

#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <exception>
#include <filesystem>
#include <functional>
#include <string>

namespace freemkv::test {

// "" when `check` returned true in the child; otherwise what went wrong.
inline std::string without_reopen_rights(const std::filesystem::path& file,
                                         const std::function<bool()>& check) {
    if (::chmod(file.c_str(), 0) != 0) {
        return "cannot chmod " + file.string();
    }
    pid_t child = ::fork();
    if (child < 0) {
        return "cannot fork";
    }
    if (child == 0) {
        if (::geteuid() == 0) {
            constexpr uid_t nobody = 65534;
            if (::setgroups(0, nullptr) != 0 || ::setgid(nobody) != 0 || ::setuid(nobody) != 0) {
                ::_exit(4);
            }
            // Changing uid made the process undumpable, which would hide /proc/self/fd from it.
            if (::prctl(PR_SET_DUMPABLE, 1) != 0) {
                ::_exit(4);
            }
        }
        int again = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
        if (again >= 0) {
            ::_exit(3);
        }
        try {
            ::_exit(check() ? 0 : 1);
        } catch (const std::exception&) {
            ::_exit(2);
        }
    }
    int status = 0;
    if (::waitpid(child, &status, 0) != child) {
        return "waitpid failed";
    }
    if (!WIFEXITED(status)) {
        return "the child died of signal " + std::to_string(WTERMSIG(status));
    }
    switch (WEXITSTATUS(status)) {
        case 0:
            return "";
        case 1:
            return "the check failed";
        case 2:
            return "the check threw";
        case 3:
            return "the child could open " + file.string() + " again: the test proves nothing";
        default:
            return "the child could not drop its rights";
    }
}

}  // namespace freemkv::test
