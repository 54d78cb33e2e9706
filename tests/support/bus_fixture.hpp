#pragma once

// A private D-Bus and freemkvd on it, and the third-party clients the tests drive it with
// (busctl, gdbus, gdbus monitor, dbus-monitor, a small sdbus-c++ watcher). Header-only: each test
// program defines FREEMKV_BINARY (the daemon) and FREEMKV_DBUS_DIR (the interface XML and policy).

#include <gtest/gtest.h>
#include <sdbus-c++/sdbus-c++.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "process.hpp"
#include "test_support.hpp"

namespace freemkv::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::size_t MiB = 1024 * 1024;
constexpr const char* kName = "org.freemkv.Rip1";
constexpr const char* kRoot = "/org/freemkv/Rip1";
constexpr const char* kManager = "org.freemkv.Rip1.Manager";
constexpr const char* kJob = "org.freemkv.Rip1.Job";
constexpr const char* kTelemetry = "org.freemkv.Rip1.Telemetry";
constexpr const char* kProperties = "org.freedesktop.DBus.Properties";
constexpr const char* kNobody = "setpriv --reuid=nobody --regid=nogroup --clear-groups";

// --- shell ---

struct Shell {
    int status = -1;     // the exit status; -1 when killed by a signal
    std::string output;  // stdout and stderr
    bool ok() const { return status == 0; }
};

inline Shell sh(const std::string& command) {
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) {
        throw std::runtime_error("cannot run: " + command);
    }
    Shell r;
    std::array<char, 4096> buf{};
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) {
        r.output.append(buf.data(), n);
    }
    int status = ::pclose(pipe);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

inline std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) {
        q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return q + "'";
}

// A string as GVariant text for gdbus (the paths here have no quotes or backslashes).
inline std::string gvariant(const std::string& s) {
    return quote("'" + s + "'");
}

// The error name in gdbus's "GDBus.Error:NAME: message".
inline std::string gdbus_error(const Shell& r) {
    std::smatch m;
    if (std::regex_search(r.output, m, std::regex(R"(GDBus\.Error:([A-Za-z0-9_.]+):)"))) {
        return m[1];
    }
    return "(no D-Bus error in: " + r.output + ")";
}

// Every match of the first group of `pattern` in `text`.
inline std::vector<std::string> all_matches(const std::string& text, const std::string& pattern) {
    std::vector<std::string> found;
    std::regex re(pattern);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
         ++it) {
        found.push_back((*it)[1]);
    }
    return found;
}

inline std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// Polls `done` every 20 ms until it holds or `timeout` passes.
inline bool wait_until(const std::function<bool()>& done, Clock::duration timeout) {
    auto deadline = Clock::now() + timeout;
    while (!done()) {
        if (Clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

// --- images and configuration ---

inline fs::path make_image(const fs::path& path, std::size_t size, std::uint64_t seed) {
    write_file(path, random_bytes(size, seed));
    return path;
}

// An ISO 9660 image labelled `label`, with one random file of `payload` bytes.
inline fs::path make_iso(const TempDir& dir, const std::string& label, std::size_t payload,
                         std::uint64_t seed) {
    fs::path content = dir / ("content-" + label);
    fs::create_directory(content);
    write_file(content / "movie.m2ts", random_bytes(payload, seed));
    fs::path iso = dir / (label + ".iso");
    test::run("xorriso -as mkisofs -quiet -V " + label + " -o " + iso.string() + " " +
              content.string());
    return iso;
}

// A minimal ISO 9660 image, `sectors` long: a primary volume descriptor labelled `label` and a
// terminator at sectors 16 and 17, random data elsewhere. (Unlabelled discs ripped in the same
// second get the same name; parallel rips of them race for it: a name is chosen free before the
// rip creates its .part, and the loser fails with "belongs to another disc".)
inline fs::path labelled_image(const fs::path& path, const std::string& label, std::size_t sectors,
                               std::uint64_t seed) {
    auto data = random_bytes(sectors * 2048, seed);
    std::fill(data.begin() + 16 * 2048, data.begin() + 18 * 2048, std::byte{0});
    auto put = [&](std::size_t at, std::string_view text) {
        for (char c : text) {
            data[at++] = static_cast<std::byte>(c);
        }
    };
    put(16 * 2048,
        "\x01"
        "CD001\x01");
    put(16 * 2048 + 40, label + std::string(32 - label.size(), ' '));
    put(17 * 2048,
        "\xff"
        "CD001\x01");
    write_file(path, data);
    return path;
}

// The daemon's configuration, with `library` and `state` as its directories.
inline fs::path write_config(const TempDir& dir, const std::string& extra, const fs::path& library,
                             const fs::path& state) {
    fs::path config = dir / "freemkvd.toml";
    std::ofstream(config) << "[library]\npath = \"" << library.string() << "\"\n\n[state]\ndir = \""
                          << state.string() << "\"\n\n[rip]\ncheckpoint_interval = \"1s\"\n\n"
                          << extra;
    return config;
}

// A directory on tmpfs, removed with its content at destruction.
class TmpfsDir {
  public:
    TmpfsDir() {
        std::string tmpl = "/dev/shm/freemkv-test-XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr) {
            throw std::system_error(errno, std::generic_category(), "mkdtemp " + tmpl);
        }
        path_ = tmpl;
    }
    ~TmpfsDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TmpfsDir(const TmpfsDir&) = delete;
    TmpfsDir& operator=(const TmpfsDir&) = delete;
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

// A bus configured like Debian's system bus (everyone may connect; method calls and names are
// denied unless a policy allows them), listening in `dir`, with the shipped freemkvd policy and
// `extra` policies after it.
inline fs::path write_system_bus_config(const TempDir& dir, const std::string& extra = "") {
    fs::path config = dir / "system-bus.conf";
    std::ofstream(config)
        << R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=)"
        << (dir / "system_bus_socket").string() << R"(</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
  <include>)"
        << FREEMKV_DBUS_DIR << R"(/org.freemkv.Rip1.conf</include>
)" << extra
        << "</busconfig>\n";
    return config;
}

// --- the bus and the daemon ---

// A private dbus-daemon. It forks, so it is not our child; it is stopped at destruction.
class BusDaemon {
  public:
    explicit BusDaemon(const std::string& config_args) {
        Shell r = sh("dbus-daemon " + config_args + " --print-address=1 --print-pid=1 --fork");
        for (const std::string& line : lines_of(r.output)) {
            if (line.starts_with("unix:")) {
                address_ = line;
            } else if (!line.empty() && line.find_first_not_of("0123456789") == std::string::npos) {
                pid_ = std::stoi(line);
            }
        }
        if (!r.ok() || address_.empty() || pid_ <= 0) {
            if (pid_ > 0) {
                ::kill(pid_, SIGTERM);
            }
            throw std::runtime_error("dbus-daemon " + config_args + " failed:\n" + r.output);
        }
    }
    ~BusDaemon() {
        ::kill(pid_, SIGTERM);
        for (int i = 0; i < 200 && alive(); ++i) {
            std::this_thread::sleep_for(10ms);
        }
    }
    BusDaemon(const BusDaemon&) = delete;
    BusDaemon& operator=(const BusDaemon&) = delete;

    const std::string& address() const { return address_; }
    pid_t pid() const { return pid_; }

  private:
    // Gone, or a zombie waiting for whoever reaps orphans here.
    bool alive() const {
        std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
        std::string s;
        std::getline(stat, s);
        auto paren = s.rfind(')');
        return paren != std::string::npos && paren + 2 < s.size() && s[paren + 2] != 'Z';
    }

    std::string address_;
    pid_t pid_ = -1;
};

// freemkvd on a private bus: `freemkvd --user` on a session bus of its own, or, given a bus
// configuration, `freemkvd --system` on a system-like bus. Ready when the name is on the bus. At
// destruction it gets SIGTERM and must exit 0; then the bus stops.
class Service {
  public:
    struct Setup {
        std::string config;          // extra TOML for freemkvd.toml
        fs::path system_bus_config;  // a system-like bus with this configuration, not a session bus
        fs::path library_dir;        // default: inside the test's directory
        fs::path state_dir;          // default: inside the test's directory
        std::vector<std::string> env;  // more "NAME=value" for the daemon
        // A command the daemon is started through, its path and arguments appended (e.g.
        // setpriv); empty: the daemon itself.
        std::vector<std::string> launcher;
    };

    explicit Service(const TempDir& dir, const Setup& setup = {})
        : library_(setup.library_dir.empty() ? dir / "library" : setup.library_dir),
          system_(!setup.system_bus_config.empty()),
          bus_(system_ ? "--config-file=" + setup.system_bus_config.string() : "--session"),
          env_(std::string(system_ ? "DBUS_SYSTEM_BUS_ADDRESS" : "DBUS_SESSION_BUS_ADDRESS") + "=" +
               bus_.address()) {
        fs::path config = write_config(dir, setup.config, library_,
                                       setup.state_dir.empty() ? dir / "state" : setup.state_dir);
        std::vector<std::string> command = setup.launcher;
        command.insert(command.end(), {FREEMKV_BINARY, system_ ? "--system" : "--user", "--config",
                                       config.string()});
        daemon_ = std::make_unique<Process>(
            command.front(), std::vector<std::string>(command.begin() + 1, command.end()),
            dir / "freemkvd.stdout", dir / "freemkvd.stderr", daemon_env(setup));
        bool up = wait_until(
            [&] {
                return !daemon_->running() ||
                       busctl("status " + std::string(kName) + " >/dev/null").ok();
            },
            20s);
        if (!up || !daemon_->running()) {
            throw std::runtime_error("freemkvd did not appear on the bus\n" + daemon_->output());
        }
    }
    ~Service() {
        int code = daemon_->stop(20s);
        if (code != 0 && !killed_) {
            ADD_FAILURE() << "freemkvd exited with " << code << "\n" << daemon_->output();
        }
    }
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;

    // kill -9, as a crash or the OOM killer would; returns its exit code (-SIGKILL).
    int kill9() {
        killed_ = true;
        daemon_->signal(SIGKILL);
        return daemon_->exit_code(20s);
    }

    const std::string& address() const { return bus_.address(); }
    // "DBUS_SESSION_BUS_ADDRESS=..." (or the system one), for child processes.
    const std::string& env() const { return env_; }
    // The same as a shell assignment, to prefix a command with.
    std::string shell_env() const {
        std::size_t eq = env_.find('=');
        return env_.substr(0, eq + 1) + quote(env_.substr(eq + 1));
    }
    const fs::path& library() const { return library_; }
    Process& daemon() { return *daemon_; }
    bool system() const { return system_; }

    // busctl --user (or --system) ARGS, with the bus in the environment; `as` runs it as another
    // user (kNobody).
    Shell busctl(const std::string& args, const std::string& as = "") const {
        return sh(shell_env() + " " + as + " busctl " + (system_ ? "--system " : "--user ") + args);
    }
    // gdbus COMMAND --session (or --system) ARGS.
    Shell gdbus(const std::string& command, const std::string& args,
                const std::string& as = "") const {
        return sh(shell_env() + " " + as + " gdbus " + command +
                  (system_ ? " --system " : " --session ") + args);
    }
    Shell busctl_call(const std::string& path, const std::string& iface, const std::string& method,
                      const std::string& args = "", const std::string& as = "") const {
        return busctl(
            "call " + std::string(kName) + " " + path + " " + iface + " " + method + " " + args,
            as);
    }
    // `method` is "INTERFACE.MEMBER"; `args` GVariant text, shell-quoted.
    Shell gdbus_call(const std::string& path, const std::string& method,
                     const std::string& args = "", const std::string& as = "") const {
        return gdbus("call",
                     "--dest " + std::string(kName) + " --object-path " + path + " --method " +
                         method + " " + args,
                     as);
    }

    Shell start_rip_busctl(const fs::path& source, const std::string& as = "") const {
        return busctl_call(kRoot, kManager, "StartRip", "sa{sv} " + quote(source.string()) + " 0",
                           as);
    }
    Shell start_rip_gdbus(const std::string& source, const std::string& options = "'{}'",
                          const std::string& as = "") const {
        return gdbus_call(kRoot, std::string(kManager) + ".StartRip",
                          gvariant(source) + " " + options, as);
    }
    // The job path StartRip returned, through either tool; throws if the call failed.
    static std::string job_of(const Shell& r) {
        std::smatch m;
        if (r.ok() && (std::regex_search(r.output, m, std::regex(R"(^o "([^"]+)\")")) ||
                       std::regex_search(r.output, m, std::regex(R"(objectpath '([^']+)')")))) {
            return m[1];
        }
        throw std::runtime_error("StartRip failed (" + std::to_string(r.status) + "): " + r.output);
    }

    // busctl get-property's value: `s "text"` gives text, `t 5` gives 5.
    std::string get(const std::string& path, const std::string& iface,
                    const std::string& name) const {
        Shell r =
            busctl("get-property " + std::string(kName) + " " + path + " " + iface + " " + name);
        if (!r.ok()) {
            throw std::runtime_error("get-property " + name + " failed: " + r.output);
        }
        std::string v = r.output.substr(r.output.find(' ') + 1);
        while (!v.empty() && v.back() == '\n') {
            v.pop_back();
        }
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
            v = v.substr(1, v.size() - 2);
        }
        return v;
    }

    // Waits for the job's Result to be set; returns it ("" after `timeout`).
    std::string wait_for_result(const std::string& job, Clock::duration timeout = 60s) const {
        std::string result;
        wait_until(
            [&] {
                result = get(job, kJob, "Result");
                return !result.empty();
            },
            timeout);
        return result;
    }

  private:
    std::vector<std::string> daemon_env(const Setup& setup) const {
        std::vector<std::string> env = setup.env;
        env.push_back(env_);
        return env;
    }

    fs::path library_;
    bool system_;
    BusDaemon bus_;
    std::string env_;
    std::unique_ptr<Process> daemon_;
    bool killed_ = false;  // kill9(): its exit code is no failure
};

// `gdbus monitor --dest org.freemkv.Rip1`: every signal of the service, one line each, as a
// client with match rules receives them.
class GdbusMonitor {
  public:
    GdbusMonitor(const Service& service, const TempDir& dir, const std::string& name)
        : process_("gdbus",
                   {"monitor", service.system() ? "--system" : "--session", "--dest", kName},
                   dir / (name + ".log"), dir / (name + ".err"), {service.env()}) {
        // gdbus prints the owner after its match rule is in place.
        if (!wait_until([&] { return contains(log(), "is owned by"); }, 10s)) {
            throw std::runtime_error("gdbus monitor did not start\n" + process_.output());
        }
    }
    std::string log() const { return process_.out(); }
    std::size_t count(const std::string& part) const {
        std::size_t n = 0;
        for (const std::string& line : lines_of(log())) {
            n += contains(line, part);
        }
        return n;
    }
    void stop() { process_.stop(); }

  private:
    Process process_;
};

// dbus-monitor on everything under /org/freemkv/Rip1, with a timestamp on every signal.
class DbusMonitor {
  public:
    struct Signal {
        double time = 0;
        std::string path;
        std::string interface;
        std::string member;
        std::string arg0;  // the first argument, when a string or an object path
    };

    DbusMonitor(const Service& service, const TempDir& dir, const std::string& name)
        : process_(
              "dbus-monitor",
              {"--address", service.address(), "type='signal',path_namespace='/org/freemkv/Rip1'"},
              dir / (name + ".log"), dir / (name + ".err")) {
        // Becoming a monitor takes the connection's unique name away: NameLost is printed then.
        if (!wait_until([&] { return contains(process_.out(), "member=NameLost"); }, 10s)) {
            throw std::runtime_error("dbus-monitor did not start\n" + process_.output());
        }
    }
    std::string log() const { return process_.out(); }
    void stop() { process_.stop(); }

    std::vector<Signal> signals() const {
        static const std::regex head(
            R"(^signal time=([0-9.]+) .* path=([^;]+); interface=([^;]+); member=(\S+))");
        static const std::regex arg(R"(^\s+(?:string|object path) "([^"]*)\")");
        std::vector<Signal> all;
        bool want_arg = false;
        for (const std::string& line : lines_of(log())) {
            std::smatch m;
            if (std::regex_search(line, m, head)) {
                all.push_back({std::stod(m[1]), m[2], m[3], m[4], ""});
                want_arg = true;
            } else if (want_arg && std::regex_search(line, m, arg)) {
                all.back().arg0 = m[1];
                want_arg = false;
            } else if (!line.empty() && line[0] != ' ') {
                want_arg = false;
            }
        }
        return all;
    }

  private:
    Process process_;
};

inline std::string job_path(std::uint64_t id) {
    return std::string(kRoot) + "/job/" + std::to_string(id);
}

// --- sdbus-c++ clients ---

// Counts the Manager's JobAdded and JobEnded as a client subscribed to them; on each JobEnded it
// may read the job's properties right away from the handler, as a notifier would.
class ManagerWatcher {
  public:
    struct Ended {
        std::uint64_t id;
        std::string job, result, output;
        std::string read_result, read_output;  // the properties, read on the signal
    };

    ManagerWatcher(const std::string& address, bool read_on_ended)
        : connection_(sdbus::createSessionBusConnectionWithAddress(address)),
          manager_(sdbus::createProxy(*connection_, kName, kRoot)) {
        manager_->uponSignal("JobAdded")
            .onInterface(kManager)
            .call(
                [this](std::uint64_t, const sdbus::ObjectPath&, const std::string&) { ++added_; });
        manager_->uponSignal("JobEnded")
            .onInterface(kManager)
            .call([this, read_on_ended](std::uint64_t id, const sdbus::ObjectPath& job,
                                        const std::string& result, const std::string& output) {
                Ended e{id, job, result, output, "", ""};
                if (read_on_ended) {
                    auto proxy = sdbus::createProxy(*connection_, kName, job);
                    e.read_result =
                        proxy->getProperty("Result").onInterface(kJob).get<std::string>();
                    e.read_output =
                        proxy->getProperty("OutputPath").onInterface(kJob).get<std::string>();
                }
                std::lock_guard lock(mutex_);
                ended_.push_back(std::move(e));
            });
        manager_->finishRegistration();  // the match rules are in place on return
        connection_->enterEventLoopAsync();
    }
    ~ManagerWatcher() { connection_->leaveEventLoop(); }

    std::size_t added() const { return added_; }
    std::vector<Ended> ended() const {
        std::lock_guard lock(mutex_);
        return ended_;
    }
    std::size_t ended_count() const {
        std::lock_guard lock(mutex_);
        return ended_.size();
    }

  private:
    std::unique_ptr<sdbus::IConnection> connection_;
    std::unique_ptr<sdbus::IProxy> manager_;
    std::atomic<std::size_t> added_{0};
    mutable std::mutex mutex_;
    std::vector<Ended> ended_;
};

// The user "daemon" as a caller: not root, not the daemon's user.
constexpr const char* kDaemonUser = "setpriv --reuid=daemon --regid=daemon --clear-groups";

// The daemon as user nobody, as the unit runs it as user freemkvd: its library and state
// directories are nobody's, and the bus lets nobody own the name and user daemon call StartRip.
// `hide_proc`: in a mount namespace of its own whose /proc shows it no other user's processes
// (hidepid=invisible, what the unit's ProtectProc=invisible does).
inline Service::Setup as_nobody(const TempDir& dir, bool hide_proc) {
    fs::permissions(dir.path(), fs::perms(0755));
    for (const char* owned : {"library", "state"}) {
        fs::create_directory(dir / owned);
        if (::chown((dir / owned).c_str(), 65534, 65534) != 0) {
            throw std::system_error(errno, std::generic_category(), "chown");
        }
    }
    std::vector<std::string> launcher = {"setpriv", "--reuid=nobody", "--regid=nogroup",
                                         "--clear-groups"};
    if (hide_proc) {
        launcher.insert(launcher.begin(),
                        {"unshare", "--mount", "--propagation", "private", "sh", "-c",
                         "mount -t proc -o hidepid=invisible proc /proc && exec \"$@\"", "sh"});
    }
    return {.system_bus_config = write_system_bus_config(dir, R"(  <policy user="nobody">
    <allow own="org.freemkv.Rip1"/>
  </policy>
  <policy user="daemon">
    <allow send_destination="org.freemkv.Rip1" send_interface="org.freemkv.Rip1.Manager"
           send_member="StartRip"/>
    <allow send_destination="org.freemkv.Rip1" send_interface="org.freemkv.Rip1.Manager"
           send_member="StartRipImage"/>
  </policy>
)"),
            .launcher = launcher};
}

}  // namespace freemkv::test
