// The systemd, D-Bus and udev integration files (systemd/) as `meson install` lays them out: the
// test installs this build directory into a temporary DESTDIR once, then checks the installed
// files, not the sources: each one where its consumer looks for it, accepted by that consumer's
// own parser without a single warning (systemd-analyze verify, systemd-sysusers, dbus-daemon,
// udevadm test), the names that tie them together consistent, and the sandbox of the system unit
// no weaker than measured (systemd-analyze security).
//
// systemd-analyze verify fails a unit whose ExecStart= program does not exist, and the installed
// units name the installed path (e.g. /usr/local/sbin/freemkvd), which need not exist on the
// machine running the tests. So the units are verified as installed with one change: that path
// is replaced by the same binary inside the DESTDIR. Nothing else is touched.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/process.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::LoopDevice;
using test::random_bytes;
using test::slurp;
using test::TempDir;
using test::write_file;

constexpr const char* kBusName = "org.freemkv.Rip1";

// The system unit's exposure as measured when the sandbox was written (systemd 252, Debian 12).
// A change that weakens the sandbox fails here; one that strengthens it should lower the bound.
constexpr double kMaxExposure = 1.1;

// --- running programs ---

struct Output {
    int status = -1;
    std::string out;
    std::string err;

    std::string describe(const std::string& what) const {
        return what + " exited " + std::to_string(status) + "\nstdout:\n" + out + "stderr:\n" + err;
    }
};

// Runs argv[0] (looked up in PATH) with `env` added to the environment, keeping stdout and stderr
// apart.
Output run_split(const std::vector<std::string>& argv, const std::vector<std::string>& env = {}) {
    static TempDir logs;
    static int count = 0;
    std::string name = std::to_string(++count);
    test::Process p(argv.front(), std::vector<std::string>(argv.begin() + 1, argv.end()),
                    logs / (name + ".out"), logs / (name + ".err"), env);
    Output r;
    r.status = p.exit_code(120s);
    r.out = p.out();
    r.err = p.err();
    return r;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

std::string trim(const std::string& s) {
    auto begin = s.find_first_not_of(" \t\n");
    auto end = s.find_last_not_of(" \t\n");
    return begin == std::string::npos ? "" : s.substr(begin, end - begin + 1);
}

bool contains_line(const std::string& text, const std::string& line) {
    for (const std::string& l : lines_of(text)) {
        if (l == line) {
            return true;
        }
    }
    return false;
}

// Every value of `key` in a unit or desktop-entry style file ("Key=value" lines, '#' comments).
std::vector<std::string> values(const std::string& text, const std::string& key) {
    std::vector<std::string> found;
    for (const std::string& line : lines_of(text)) {
        if (line.starts_with(key + "=")) {
            found.push_back(trim(line.substr(key.size() + 1)));
        }
    }
    return found;
}

// The single value of `key` ("" and a test failure if there is not exactly one).
std::string value(const std::string& text, const std::string& key) {
    std::vector<std::string> found = values(text, key);
    EXPECT_EQ(found.size(), 1u) << key << "= in:\n" << text;
    return found.size() == 1 ? found.front() : "";
}

// --- where things are installed ---

std::string pkg_variable(const std::string& package, const std::string& variable) {
    Output r = run_split({"pkg-config", "--variable=" + variable, package});
    return r.status == 0 ? trim(r.out) : "";
}

// Where each file must be installed: with prefix /usr the distribution's directories (from
// pkg-config, as a package would use them), with any other prefix the same layout under the
// prefix, which systemd, udev and dbus-daemon search as well.
struct Layout {
    fs::path system_unit;
    fs::path user_unit;
    fs::path sysusers;
    fs::path udev_rules;
    fs::path dbus_system_service;
    fs::path dbus_session_service;
    fs::path dbus_policy;
    fs::path config;
    fs::path binary;
};

Layout expected_layout() {
    const fs::path prefix = FREEMKV_PREFIX;
    const fs::path datadir = FREEMKV_DATADIR;
    fs::path system_units = prefix / "lib/systemd/system";
    fs::path user_units = prefix / "lib/systemd/user";
    fs::path sysusers = prefix / "lib/sysusers.d";
    fs::path rules = prefix / "lib/udev/rules.d";
    fs::path dbus_system = datadir / "dbus-1/system-services";
    fs::path dbus_session = datadir / "dbus-1/services";
    if (prefix == "/usr") {
        auto from_pc = [](fs::path& dir, const std::string& package, const std::string& variable,
                          const std::string& suffix = "") {
            if (std::string v = pkg_variable(package, variable); !v.empty()) {
                dir = fs::path(v + suffix);
            }
        };
        from_pc(system_units, "systemd", "systemdsystemunitdir");
        from_pc(user_units, "systemd", "systemduserunitdir");
        from_pc(sysusers, "systemd", "sysusersdir");
        from_pc(rules, "udev", "udevdir", "/rules.d");
        from_pc(dbus_system, "dbus-1", "system_bus_services_dir");
        from_pc(dbus_session, "dbus-1", "session_bus_services_dir");
    }
    return Layout{
        .system_unit = system_units / "freemkvd.service",
        .user_unit = user_units / "freemkvd.service",
        .sysusers = sysusers / "freemkvd.conf",
        .udev_rules = rules / "70-freemkvd.rules",
        .dbus_system_service = dbus_system / (std::string(kBusName) + ".service"),
        .dbus_session_service = dbus_session / (std::string(kBusName) + ".service"),
        .dbus_policy = datadir / "dbus-1/system.d" / (std::string(kBusName) + ".conf"),
        .config = fs::path(FREEMKV_SYSCONFDIR) / "freemkvd/freemkvd.toml",
        .binary = fs::path(FREEMKV_SBINDIR) / "freemkvd",
    };
}

// This build directory installed into a temporary DESTDIR, once for all the cases.
class Stage {
  public:
    Stage() {
        Output r = run_split({FREEMKV_MESON, "install", "-C", FREEMKV_BUILD_ROOT, "--destdir",
                              root().string(), "--no-rebuild", "--quiet"});
        if (r.status != 0) {
            error_ = r.describe("meson install");
        }
    }
    const std::string& error() const { return error_; }
    fs::path root() const { return dir_ / "root"; }
    // Where an absolute install path ends up in the DESTDIR.
    fs::path operator()(const fs::path& installed) const {
        return root() / installed.relative_path();
    }
    std::string listing() const {
        std::string list;
        for (const auto& entry : fs::recursive_directory_iterator(root())) {
            if (!entry.is_directory()) {
                list += entry.path().string() + "\n";
            }
        }
        return list;
    }

  private:
    TempDir dir_;
    std::string error_;
};

const Stage& stage() {
    static const Stage s;
    return s;
}

#define REQUIRE_STAGE() ASSERT_EQ(stage().error(), "") << "meson install --destdir failed"

// The installed unit `installed` written to `dir` under its own name, with the ExecStart=
// program, the installed freemkvd, replaced by the same file in the DESTDIR (see the top).
fs::path verifiable_copy(const fs::path& installed, const fs::path& dir) {
    std::string text = slurp(stage()(installed));
    const std::string from = "ExecStart=" + expected_layout().binary.string() + " ";
    const std::string to = "ExecStart=" + stage()(expected_layout().binary).string() + " ";
    std::string::size_type at = text.find(from);
    EXPECT_NE(at, std::string::npos) << "no " << from << " in " << installed;
    EXPECT_EQ(text.find(from, at + 1), std::string::npos) << "two " << from << " in " << installed;
    if (at != std::string::npos) {
        text.replace(at, from.size(), to);
    }
    fs::create_directories(dir);
    fs::path copy = dir / installed.filename();
    std::ofstream(copy) << text;
    return copy;
}

// A private directory for `systemd-analyze --user` (it wants a runtime directory) that also
// keeps the user's own unit files out of the run.
std::vector<std::string> user_manager_env(const TempDir& dir) {
    fs::create_directories(dir / "runtime");
    fs::permissions(dir / "runtime", fs::perms::owner_all, fs::perm_options::replace);
    return {"XDG_RUNTIME_DIR=" + (dir / "runtime").string(), "HOME=" + dir.path().string(),
            "XDG_CONFIG_HOME=" + (dir / "config").string(),
            "XDG_DATA_HOME=" + (dir / "data").string()};
}

// --- the install ---

TEST(Install, PutsEveryFileInItsPlace) {
    REQUIRE_STAGE();
    const Layout l = expected_layout();
    for (const fs::path& p :
         {l.system_unit, l.user_unit, l.sysusers, l.udev_rules, l.dbus_system_service,
          l.dbus_session_service, l.dbus_policy, l.config}) {
        EXPECT_TRUE(fs::is_regular_file(stage()(p))) << p << " not installed; installed:\n"
                                                     << stage().listing();
    }
    fs::path binary = stage()(l.binary);
    EXPECT_TRUE(fs::is_regular_file(binary) && ::access(binary.c_str(), X_OK) == 0) << binary;

    // Installed as they are in the source tree ...
    const fs::path src = FREEMKV_SOURCE_ROOT;
    EXPECT_EQ(slurp(stage()(l.udev_rules)), slurp(src / "systemd/70-freemkvd.rules"));
    EXPECT_EQ(slurp(stage()(l.sysusers)), slurp(src / "systemd/freemkvd.sysusers"));
    EXPECT_EQ(slurp(stage()(l.dbus_system_service)),
              slurp(src / "systemd/org.freemkv.Rip1.system-bus.service"));
    EXPECT_EQ(slurp(stage()(l.config)), slurp(src / "config/freemkvd.toml"));
    // ... or configured, with no placeholder left.
    for (const fs::path& p : {l.system_unit, l.user_unit, l.dbus_session_service}) {
        std::string text = slurp(stage()(p));
        EXPECT_FALSE(std::regex_search(text, std::regex("@[a-z_]+@"))) << p << ":\n" << text;
    }
}

// The directories are the ones systemd and udev read (asked from the tools themselves, with the
// DESTDIR as root where they take one). Only for the prefixes they know.
TEST(Install, TheConsumersSearchThosePlaces) {
    REQUIRE_STAGE();
    const std::string prefix = FREEMKV_PREFIX;
    if (prefix != "/usr" && prefix != "/usr/local") {
        GTEST_SKIP() << "prefix " << prefix << " is not searched by systemd and udev";
    }
    const Layout l = expected_layout();

    Output paths = run_split({"systemd-analyze", "unit-paths"});
    ASSERT_EQ(paths.status, 0) << paths.describe("systemd-analyze unit-paths");
    EXPECT_TRUE(contains_line(paths.out, l.system_unit.parent_path().string())) << paths.out;

    TempDir home;
    Output user_paths =
        run_split({"systemd-analyze", "--user", "unit-paths"}, user_manager_env(home));
    ASSERT_EQ(user_paths.status, 0) << user_paths.describe("systemd-analyze --user unit-paths");
    EXPECT_TRUE(contains_line(user_paths.out, l.user_unit.parent_path().string()))
        << user_paths.out;

    Output rules = run_split(
        {"systemd-analyze", "--root=" + stage().root().string(), "cat-config", "udev/rules.d"});
    ASSERT_EQ(rules.status, 0) << rules.describe("systemd-analyze cat-config udev/rules.d");
    EXPECT_TRUE(contains_line(rules.out, "# " + stage()(l.udev_rules).string())) << rules.out;

    Output sysusers =
        run_split({"systemd-sysusers", "--root=" + stage().root().string(), "--cat-config"});
    ASSERT_EQ(sysusers.status, 0) << sysusers.describe("systemd-sysusers --cat-config");
    EXPECT_TRUE(contains_line(sysusers.out, "# " + stage()(l.sysusers).string())) << sysusers.out;
}

// --- the units ---

TEST(SystemUnit, VerifiesWithoutAWord) {
    REQUIRE_STAGE();
    TempDir dir;
    fs::path unit = verifiable_copy(expected_layout().system_unit, dir / "system");
    Output r = run_split({"systemd-analyze", "verify", unit.string()});
    EXPECT_EQ(r.status, 0) << r.describe("systemd-analyze verify");
    EXPECT_EQ(r.out + r.err, "") << "systemd-analyze verify " << unit << " is not silent";
}

TEST(UserUnit, VerifiesWithoutAWord) {
    REQUIRE_STAGE();
    TempDir dir;
    fs::path unit = verifiable_copy(expected_layout().user_unit, dir / "user");
    Output r =
        run_split({"systemd-analyze", "--user", "verify", unit.string()}, user_manager_env(dir));
    EXPECT_EQ(r.status, 0) << r.describe("systemd-analyze --user verify");
    EXPECT_EQ(r.out + r.err, "") << "systemd-analyze --user verify " << unit << " is not silent";
}

TEST(SystemUnit, SandboxExposureStaysLow) {
    REQUIRE_STAGE();
    TempDir dir;
    fs::path unit = verifiable_copy(expected_layout().system_unit, dir / "system");
    Output r = run_split({"systemd-analyze", "security", "--offline=true", unit.string()});
    ASSERT_EQ(r.status, 0) << r.describe("systemd-analyze security");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.out, m,
                                  std::regex(R"(Overall exposure level for \S+: ([0-9.]+) (\S+))")))
        << r.out;
    double exposure = std::stod(m[1].str());
    std::cout << "exposure of freemkvd.service: " << m[1] << " " << m[2] << " (at most "
              << kMaxExposure << ")\nleft open:\n";
    for (const std::string& line : lines_of(r.out)) {
        if (line.starts_with("\u2717")) {  // ✗
            std::cout << "  " << line << "\n";
        }
    }
    RecordProperty("exposure", m[1].str());
    EXPECT_LE(exposure, kMaxExposure) << r.out;
}

// --- sysusers ---

// Applied for real, to a copy of this machine's user database in a scratch root.
TEST(Sysusers, CreatesTheServiceUserAndTheGroups) {
    REQUIRE_STAGE();
    TempDir root;
    fs::create_directories(root / "etc");
    for (const char* db : {"passwd", "group"}) {
        if (fs::exists(fs::path("/etc") / db)) {
            fs::copy_file(fs::path("/etc") / db, root / "etc" / db);
        }
    }
    Output r = run_split({"systemd-sysusers", "--root=" + root.path().string(),
                          stage()(expected_layout().sysusers).string()});
    ASSERT_EQ(r.status, 0) << r.describe("systemd-sysusers");
    EXPECT_EQ(r.out, "");
    for (const std::string& line : lines_of(r.err)) {
        EXPECT_TRUE(line.starts_with("Creating ")) << "systemd-sysusers said: " << line;
    }

    // name -> the colon-separated fields
    auto entries = [](const fs::path& file) {
        std::map<std::string, std::vector<std::string>> table;
        for (const std::string& line : lines_of(slurp(file))) {
            std::vector<std::string> fields;
            std::istringstream in(line);
            for (std::string f; std::getline(in, f, ':');) {
                fields.push_back(f);
            }
            if (line.ends_with(':')) {
                fields.emplace_back();
            }
            if (!fields.empty()) {
                table[fields[0]] = fields;
            }
        }
        return table;
    };
    auto users = entries(root / "etc/passwd");
    auto groups = entries(root / "etc/group");
    auto members = [&](const std::string& group) {
        std::vector<std::string> list;
        std::istringstream in(groups[group].size() > 3 ? groups[group][3] : "");
        for (std::string m; std::getline(in, m, ',');) {
            list.push_back(m);
        }
        return list;
    };
    ASSERT_TRUE(users.contains("freemkvd"));
    const std::vector<std::string>& user = users["freemkvd"];
    ASSERT_EQ(user.size(), 7u);
    EXPECT_LT(std::stoul(user[2]), 1000u) << "not a system user";
    EXPECT_EQ(user[5], "/var/lib/freemkvd");
    EXPECT_TRUE(user[6].ends_with("/nologin")) << user[6];
    ASSERT_TRUE(groups.contains("freemkvd"));
    EXPECT_EQ(groups["freemkvd"][2], user[3]) << "primary group";
    ASSERT_TRUE(groups.contains("cdrom"));
    const std::vector<std::string> cdrom = members("cdrom");
    EXPECT_NE(std::ranges::find(cdrom, "freemkvd"), cdrom.end()) << "not in cdrom";
    ASSERT_TRUE(groups.contains("freemkv"));
    EXPECT_TRUE(members("freemkv").empty()) << "nobody is put in freemkv but by an admin";
}

// --- D-Bus activation ---

// Whether a private dbus-daemon reading service files from `dir` only can activate kBusName.
// dbus-daemon skips a file it cannot parse, or one without Name= or Exec=, without a word, so the
// list of activatable names is the check. `system`: a system bus, which also insists that the
// file is named after the name.
void expect_activatable(const fs::path& dir, bool system) {
    TempDir bus;
    fs::path socket = bus / "socket";
    std::ofstream(bus / "bus.conf")
        << R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>)"
        << (system ? "system" : "session") << "</type>\n  <listen>unix:path=" << socket.string()
        << "</listen>\n"
        << (system
                ? "  <servicehelper>/usr/lib/dbus-1.0/dbus-daemon-launch-helper</servicehelper>\n"
                : "")
        << "  <servicedir>" << dir.string() << R"(</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
)";
    test::Process daemon(
        "dbus-daemon",
        {"--config-file=" + (bus / "bus.conf").string(), "--nofork", "--print-address=1"},
        bus / "daemon.out", bus / "daemon.err");
    for (int i = 0; i < 500 && daemon.out().find('\n') == std::string::npos; ++i) {
        ASSERT_TRUE(daemon.running()) << daemon.output();
        std::this_thread::sleep_for(10ms);
    }
    std::string address = trim(daemon.out());
    ASSERT_FALSE(address.empty()) << daemon.output();
    Output names =
        run_split({"busctl", "--address=" + address, "call", "org.freedesktop.DBus",
                   "/org/freedesktop/DBus", "org.freedesktop.DBus", "ListActivatableNames"});
    EXPECT_EQ(daemon.stop(), 0) << daemon.output();
    ASSERT_EQ(names.status, 0) << names.describe("busctl call ListActivatableNames");
    EXPECT_NE(names.out.find("\"" + std::string(kBusName) + "\""), std::string::npos)
        << dir << " has no usable service file for " << kBusName << ": " << names.out
        << daemon.output();
    for (const std::string& line : lines_of(daemon.err())) {
        // Raising RLIMIT_NOFILE is refused in containers; that is not about the files.
        if (line.find("Failed to set fd limit") == std::string::npos) {
            ADD_FAILURE() << "dbus-daemon said: " << line;
        }
    }
}

TEST(DBusActivation, TheSystemBusCanActivateTheService) {
    REQUIRE_STAGE();
    expect_activatable(stage()(expected_layout().dbus_system_service).parent_path(), true);
}

TEST(DBusActivation, ASessionBusCanActivateTheService) {
    REQUIRE_STAGE();
    expect_activatable(stage()(expected_layout().dbus_session_service).parent_path(), false);
}

// --- the names that tie the files together ---

TEST(Names, AgreeAcrossTheFiles) {
    REQUIRE_STAGE();
    const Layout l = expected_layout();
    const std::string system_unit = slurp(stage()(l.system_unit));
    const std::string user_unit = slurp(stage()(l.user_unit));
    const std::string system_bus = slurp(stage()(l.dbus_system_service));
    const std::string session_bus = slurp(stage()(l.dbus_session_service));
    const std::string policy = slurp(stage()(l.dbus_policy));
    const std::string sysusers = slurp(stage()(l.sysusers));

    // The bus name everywhere.
    EXPECT_EQ(value(system_unit, "BusName"), kBusName);
    EXPECT_EQ(value(user_unit, "BusName"), kBusName);
    EXPECT_EQ(value(system_bus, "Name"), kBusName);
    EXPECT_EQ(value(session_bus, "Name"), kBusName);
    EXPECT_NE(policy.find("<allow own=\"" + std::string(kBusName) + "\"/>"), std::string::npos);

    // The programs: the installed binary, in the mode for its bus, with the installed config.
    const std::string daemon = l.binary.string();
    EXPECT_EQ(value(system_unit, "ExecStart"), daemon + " --system --config " + l.config.string());
    EXPECT_EQ(value(user_unit, "ExecStart"), daemon + " --user");
    EXPECT_EQ(value(session_bus, "Exec"), daemon + " --user");

    // System activation goes through systemd, to the alias the enabled unit gets.
    EXPECT_EQ(value(system_bus, "SystemdService"), value(system_unit, "Alias"));
    EXPECT_EQ(value(system_bus, "Exec"), "/bin/false");
    // Session activation starts the user unit by its installed name.
    EXPECT_EQ(value(session_bus, "SystemdService"), l.user_unit.filename().string());

    // One service user, created by sysusers, allowed by the D-Bus policy to own the name.
    const std::string user = value(system_unit, "User");
    EXPECT_EQ(user, "freemkvd");
    EXPECT_EQ(value(system_unit, "Group"), user);
    EXPECT_EQ(value(system_bus, "User"), user);
    EXPECT_TRUE(std::regex_search(sysusers, std::regex("(^|\n)u " + user + " ")));
    EXPECT_NE(policy.find("<policy user=\"" + user + "\">"), std::string::npos);
    // Its home is the state directory systemd creates for it.
    EXPECT_EQ(value(system_unit, "StateDirectory"), "freemkvd");
    EXPECT_TRUE(
        std::regex_search(sysusers, std::regex("(^|\n)u " + user + " .* /var/lib/" +
                                               value(system_unit, "StateDirectory") + "(\n|$)")));
    // The drives' group, joined in the unit and by sysusers.
    const std::string drives = value(system_unit, "SupplementaryGroups");
    EXPECT_TRUE(std::regex_search(sysusers, std::regex("(^|\n)m " + user + " " + drives + "\n")));
    // The group the policy lets start rips exists.
    EXPECT_TRUE(std::regex_search(sysusers, std::regex("(^|\n)g freemkv ")));
    EXPECT_NE(policy.find("<policy group=\"freemkv\">"), std::string::npos);
}

// --- udev ---

// `udevadm test` (udev 252 has no `udevadm verify`) on a loop device, with udev's rule
// directories, /run and /dev replaced by empty tmpfs in a private mount namespace: only the given
// rules are read, and what udevadm test writes (database, /dev/block links) goes nowhere.
// `rules` are file name -> content; "" content means the installed 70-freemkvd.rules.
struct UdevRun {
    Output output;
    std::map<std::string, std::string> properties;
};

UdevRun udev_test(const std::string& device, const std::string& action,
                  const std::map<std::string, std::string>& rules) {
    TempDir dir;
    std::string copies;
    for (const auto& [name, content] : rules) {
        fs::path file = dir / name;
        if (content.empty()) {
            fs::copy_file(stage()(expected_layout().udev_rules), file);
        } else {
            std::ofstream(file) << content;
        }
        copies += " '" + file.string() + "'";
    }
    std::string script =
        "set -e\n"
        "for d in /etc/udev/rules.d /usr/local/lib/udev/rules.d /usr/lib/udev/rules.d "
        "/lib/udev/rules.d; do\n"
        "  if [ -d \"$d\" ]; then mount -t tmpfs none \"$d\"; fi\n"
        "done\n"
        "mount -t tmpfs none /run\n"
        "mount -t tmpfs none /dev\n"
        "mkdir -p /run/udev/rules.d\n"
        "cp" +
        copies +
        " /run/udev/rules.d/\n"
        "exec udevadm test --action=" +
        action + " /sys/class/block/" + fs::path(device).filename().string() + "\n";
    UdevRun run;
    run.output = run_split({"unshare", "--mount", "--propagation", "private", "sh", "-c", script});
    for (const std::string& line : lines_of(run.output.out)) {
        if (std::smatch m; std::regex_match(line, m, std::regex(R"(([A-Z0-9_]+)=(.*))"))) {
            run.properties[m[1]] = m[2];
        }
    }
    return run;
}

TEST(UdevRules, ParseCleanlyAndMarkWholeOpticalDisks) {
    FREEMKV_REQUIRE_ROOT();
    REQUIRE_STAGE();
    TempDir dir;
    write_file(dir / "disk.img", random_bytes(1 << 20, 1));
    LoopDevice loop(dir / "disk.img");
    const std::string kernel = fs::path(loop.device()).filename().string();
    // What cdrom_id (60-cdrom_id.rules) says of an optical drive.
    const std::string optical =
        "SUBSYSTEM==\"block\", KERNEL==\"" + kernel + "\", ENV{ID_CDROM}=\"1\"\n";
    // The local override the rules file documents.
    const std::string leave_alone =
        "SUBSYSTEM==\"block\", KERNEL==\"" + kernel + "\", ENV{FREEMKVD_MANAGED}=\"0\"\n";

    auto check = [&](const std::string& action, const std::map<std::string, std::string>& rules,
                     const char* expected) {
        SCOPED_TRACE(action + " with " + std::to_string(rules.size()) + " rules files");
        UdevRun run = udev_test(loop.device(), action, rules);
        ASSERT_EQ(run.output.status, 0) << run.output.describe("udevadm test");
        ASSERT_EQ(run.properties["DEVNAME"], loop.device()) << run.output.out;
        // Exactly the given files were read, and none drew a complaint ("FILE:LINE ...").
        std::vector<std::string> read;
        for (const std::string& line : lines_of(run.output.err)) {
            if (line.starts_with("Reading rules file: ")) {
                read.push_back(fs::path(line.substr(20)).filename().string());
            }
            EXPECT_FALSE(std::regex_search(line, std::regex(R"(\.rules:\d)")))
                << "udevadm: " << line;
        }
        std::vector<std::string> given;
        for (const auto& [name, content] : rules) {
            given.push_back(name);
        }
        EXPECT_EQ(read, given) << run.output.err;
        if (expected == nullptr) {
            EXPECT_FALSE(run.properties.contains("FREEMKVD_MANAGED")) << run.output.out;
        } else {
            EXPECT_EQ(run.properties["FREEMKVD_MANAGED"], expected) << run.output.out;
        }
    };
    check("add", {{"69-optical.rules", optical}, {"70-freemkvd.rules", ""}}, "1");
    check("change", {{"69-optical.rules", optical}, {"70-freemkvd.rules", ""}}, "1");
    check("add", {{"70-freemkvd.rules", ""}}, nullptr);
    check("remove", {{"69-optical.rules", optical}, {"70-freemkvd.rules", ""}}, nullptr);
    check("add",
          {{"69-optical.rules", optical},
           {"70-freemkvd.rules", ""},
           {"71-freemkvd-local.rules", leave_alone}},
          "0");
}

}  // namespace
}  // namespace freemkv
