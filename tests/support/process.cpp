#include "process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>

extern char** environ;

namespace freemkv::test {

std::string slurp(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

Process::Process(const std::string& program, const std::vector<std::string>& args,
                 const std::filesystem::path& out, const std::filesystem::path& err,
                 const std::vector<std::string>& env)
    : out_(out), err_(err) {
    std::vector<std::string> argv_strings{program};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& s : argv_strings) {
        argv.push_back(s.data());
    }
    argv.push_back(nullptr);

    auto overridden = [&](const char* entry) {
        for (const std::string& e : env) {
            std::size_t name = e.find('=') + 1;
            if (std::strncmp(entry, e.c_str(), name) == 0) {
                return true;
            }
        }
        return false;
    };
    std::vector<std::string> env_strings = env;
    std::vector<char*> envp;
    for (char** e = environ; *e != nullptr; ++e) {
        // Under systemd (JOURNAL_STREAM set) freemkvd logs to the journal instead of stderr.
        if (std::strncmp(*e, "JOURNAL_STREAM=", 15) != 0 && !overridden(*e)) {
            envp.push_back(*e);
        }
    }
    for (std::string& e : env_strings) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    int e = ::posix_spawnp(&pid_, program.c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    if (e != 0) {
        throw std::system_error(e, std::generic_category(), "posix_spawn " + program);
    }
}

Process::~Process() {
    if (running()) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

void Process::signal(int sig) const {
    ::kill(pid_, sig);
}

bool Process::running() {
    if (!status_) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            status_ = status;
        }
    }
    return !status_;
}

std::optional<int> Process::wait(Clock::duration timeout) {
    auto deadline = Clock::now() + timeout;
    while (running() && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return status_;
}

int Process::exit_code(Clock::duration timeout) {
    std::optional<int> status = wait(timeout);
    if (!status) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        status_ = 0;
        return -1;
    }
    return WIFEXITED(*status) ? WEXITSTATUS(*status) : -WTERMSIG(*status);
}

int Process::stop(Clock::duration grace) {
    if (running()) {
        signal(SIGTERM);
    }
    return exit_code(grace);
}

}  // namespace freemkv::test
