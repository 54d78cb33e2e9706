// freemkv-notify end to end, with real parts only: a private bus, freemkvd on it, and the dunst
// notification daemon on an Xvfb display. What dunst received is read from its -print output
// (every notification, also those replaced later) and from `dunstctl history`.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "audio/audio_cd_fixture.hpp"
#include "support/bus_fixture.hpp"
#include "support/process.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using namespace test;

// Xvfb and dunst are test dependencies (tools/install-deps): missing under CI is a failure.
#define REQUIRE_DESKTOP_TOOLS()                                                                  \
    do {                                                                                         \
        std::string missing = missing_tools();                                                   \
        if (!missing.empty()) {                                                                  \
            if (::freemkv::test::in_ci()) {                                                      \
                FAIL() << "missing" << missing << " (tools/install-deps installs them)";         \
            }                                                                                    \
            GTEST_SKIP() << "SKIPPED LOUDLY: missing" << missing << " (run tools/install-deps)"; \
        }                                                                                        \
    } while (0)

std::string missing_tools() {
    std::string missing;
    for (const char* tool : {"Xvfb", "dunst", "dunstctl", "dbus-daemon", "gdbus", "xorriso"}) {
        if (sh(std::string("command -v ") + tool).status != 0) {
            missing += std::string(" ") + tool;
        }
    }
    return missing;
}

// Stops a child with SIGTERM (SIGKILL after a grace time) when the test ends, however it ends.
struct Stopped {
    std::unique_ptr<Process> process;
    ~Stopped() {
        if (process) {
            process->stop(5s);
        }
    }
};

// A private bus of the session type, without service directories: nothing is auto-started on it
// (the session bus would start /usr/bin/dunst on the first Notify). It forks, so it is no child
// of ours; it is stopped at destruction.
// The bus configuration: the session type, no service directories.
fs::path write_bus_config(const TempDir& dir) {
    fs::path config = dir / "bus.conf";
    std::ofstream(config) << R"(<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
)";
    return config;
}

class Bus {
  public:
    explicit Bus(const TempDir& dir) : daemon_("--config-file=" + write_bus_config(dir).string()) {}

    std::string env(const std::string& variable = "DBUS_SESSION_BUS_ADDRESS") const {
        return variable + "=" + address();
    }
    // A shell command with this bus as its session bus.
    Shell sh(const std::string& command) const {
        return test::sh("DBUS_SESSION_BUS_ADDRESS=" + quote(address()) + " " + command);
    }
    Shell call(const std::string& dest, const std::string& path, const std::string& method,
               const std::string& args = "") const {
        return sh("gdbus call --session --dest " + dest + " --object-path " + path + " --method " +
                  method + " " + args);
    }

    // The number of match rules of the connection of process `pid`, -1 if it is not connected.
    int match_rules(pid_t pid) const {
        const char* dbus = "org.freedesktop.DBus";
        std::string names =
            call(dbus, "/org/freedesktop/DBus", "org.freedesktop.DBus.ListNames").output;
        std::regex unique(R"(':1\.\d+')");
        for (auto it = std::sregex_iterator(names.begin(), names.end(), unique);
             it != std::sregex_iterator(); ++it) {
            std::string name = it->str();
            std::string owner = call(dbus, "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus.GetConnectionUnixProcessID", name)
                                    .output;
            if (owner.find("(uint32 " + std::to_string(pid) + ",)") == std::string::npos) {
                continue;
            }
            std::string stats = call(dbus, "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus.Debug.Stats.GetConnectionStats", name)
                                    .output;
            std::smatch m;
            if (std::regex_search(stats, m, std::regex(R"('MatchRules': <uint32 (\d+)>)"))) {
                return std::stoi(m[1]);
            }
        }
        return -1;
    }

  private:
    const std::string& address() const { return daemon_.address(); }

    BusDaemon daemon_;
};

// One notification as dunst printed it on receipt, or listed it in its history.
struct Notification {
    std::string id, summary, body, urgency;
};

// Xvfb on a display it picks itself, and dunst on it, serving Notifications on `bus`.
class Desktop {
  public:
    Desktop(const TempDir& dir, const Bus& bus) : bus_(bus), printed_(dir / "dunst.stdout") {
        xvfb_.process = std::make_unique<Process>(
            "Xvfb", std::vector<std::string>{"-displayfd", "1", "-nolisten", "tcp"},
            dir / "xvfb.stdout", dir / "xvfb.stderr");
        std::string display;
        if (!wait_until(
                [&] {
                    display = xvfb_.process->out();
                    return display.ends_with("\n") || !xvfb_.process->running();
                },
                20s) ||
            !xvfb_.process->running()) {
            throw std::runtime_error("Xvfb did not start\n" + xvfb_.process->output());
        }
        display.pop_back();
        // Not the user's dunstrc; nothing expires, so what is shown depends on the test only.
        std::ofstream(dir / "dunstrc")
            << "[urgency_low]\ntimeout = 0\n[urgency_normal]\ntimeout = 0\n"
               "[urgency_critical]\ntimeout = 0\n";
        dunst_.process = std::make_unique<Process>(
            "dunst", std::vector<std::string>{"-config", (dir / "dunstrc").string(), "-print"},
            printed_, dir / "dunst.stderr",
            std::vector<std::string>{bus.env(), "DISPLAY=:" + display, "WAYLAND_DISPLAY="});
        if (!wait_until(
                [&] {
                    return bus_.sh("dunstctl is-paused").status == 0 || !dunst_.process->running();
                },
                20s) ||
            !dunst_.process->running()) {
            throw std::runtime_error("dunst did not start\n" + dunst_.process->output());
        }
    }

    // Every notification dunst has printed in full so far, in order.
    std::vector<Notification> received() const {
        std::vector<Notification> all;
        Notification n;
        std::ifstream in(printed_);
        std::regex field(R"(^\t(\w+): '?(.*?)'?$)");
        for (std::string line; std::getline(in, line);) {
            std::smatch m;
            if (line == "}") {
                all.push_back(std::exchange(n, {}));
            } else if (std::regex_match(line, m, field)) {
                std::map<std::string, std::string*> keep{{"id", &n.id},
                                                         {"summary", &n.summary},
                                                         {"body", &n.body},
                                                         {"urgency", &n.urgency}};
                if (auto it = keep.find(m[1]); it != keep.end()) {
                    *it->second = m[2];
                }
            }
        }
        return all;
    }
    std::vector<Notification> wait_for(std::size_t count) const {
        std::vector<Notification> all;
        wait_until(
            [&] {
                all = received();
                return all.size() >= count;
            },
            30s);
        return all;
    }

    // Closes what is shown, which moves it to the history, and returns the history as summary ->
    // body (from dunstctl's JSON, whose objects hold one summary and one body each).
    std::map<std::string, std::string> history() const {
        if (Shell r = bus_.sh("dunstctl close-all"); r.status != 0) {
            throw std::runtime_error("dunstctl close-all: " + r.output);
        }
        Shell r = bus_.sh("dunstctl history");
        auto strings = [&](const std::string& key) {
            std::regex re("\"" + key +
                          R"re(" : \{\s*"type" : "s",\s*"data" : "((?:[^"\\]|\\.)*)")re");
            std::vector<std::string> found;
            for (auto it = std::sregex_iterator(r.output.begin(), r.output.end(), re);
                 it != std::sregex_iterator(); ++it) {
                found.push_back((*it)[1]);
            }
            return found;
        };
        auto summaries = strings("summary"), bodies = strings("body");
        if (r.status != 0 || summaries.size() != bodies.size()) {
            throw std::runtime_error("dunstctl history: " + r.output);
        }
        std::map<std::string, std::string> all;
        for (std::size_t i = 0; i < summaries.size(); ++i) {
            all[summaries[i]] = bodies[i];
        }
        return all;
    }

    std::string log() const { return "dunst:\n" + dunst_.process->output(); }

  private:
    const Bus& bus_;
    fs::path printed_;
    Stopped xvfb_;  // declared first: stopped after dunst
    Stopped dunst_;
};

// freemkvd --user on `bus` (--system given `system`), with its library and state in `dir`;
// stopped at destruction.
class Daemon {
  public:
    Daemon(const TempDir& dir, const Bus& bus, bool system = false)
        : bus_(bus), library_(dir / "library") {
        fs::path config = dir / "freemkvd.toml";
        std::ofstream(config) << "[library]\npath = \"" << library_.string()
                              << "\"\n[state]\ndir = \"" << (dir / "state").string() << "\"\n";
        daemon_.process = std::make_unique<Process>(
            FREEMKV_BINARY,
            std::vector<std::string>{system ? "--system" : "--user", "--config", config.string()},
            dir / "freemkvd.stdout", dir / "freemkvd.stderr",
            std::vector<std::string>{
                bus.env(system ? "DBUS_SYSTEM_BUS_ADDRESS" : "DBUS_SESSION_BUS_ADDRESS")});
        if (!wait_until(
                [&] {
                    return !daemon_.process->running() ||
                           bus.sh("gdbus introspect --session --dest org.freemkv.Rip1 "
                                  "--object-path /org/freemkv/Rip1")
                                   .status == 0;
                },
                20s) ||
            !daemon_.process->running()) {
            throw std::runtime_error("freemkvd did not start\n" + daemon_.process->output());
        }
    }

    const fs::path& library() const { return library_; }

    // Starts a rip of `image` and waits for its end; returns the job's Result.
    std::string rip(const fs::path& image) const {
        Shell r =
            bus_.call("org.freemkv.Rip1", "/org/freemkv/Rip1", "org.freemkv.Rip1.Manager.StartRip",
                      "\"'" + image.string() + "'\" '{}'");
        std::smatch m;
        if (!std::regex_search(r.output, m, std::regex(R"(objectpath '([^']+)')"))) {
            throw std::runtime_error("StartRip failed: " + r.output);
        }
        std::string job = m[1], reply;
        bool ended = wait_until(
            [&] {
                reply = bus_.call("org.freemkv.Rip1", job, "org.freedesktop.DBus.Properties.Get",
                                  "org.freemkv.Rip1.Job Result")
                            .output;
                return std::regex_search(reply, m, std::regex(R"(<'([^']+)'>)"));
            },
            60s);
        if (!ended) {
            throw std::runtime_error(job + " did not end: " + reply);
        }
        return m[1];
    }

  private:
    const Bus& bus_;
    fs::path library_;
    Stopped daemon_;
};

// freemkv-notify --user on `bus`, or given a `session` bus, freemkv-notify with `bus` as the
// system bus; ready when its two subscriptions are on `bus`.
std::unique_ptr<Process> start_notifier(const TempDir& dir, const Bus& bus,
                                        const Bus* session = nullptr) {
    auto notifier = std::make_unique<Process>(
        FREEMKV_NOTIFY, session ? std::vector<std::string>{} : std::vector<std::string>{"--user"},
        dir / "notify.stdout", dir / "notify.stderr",
        session ? std::vector<std::string>{bus.env("DBUS_SYSTEM_BUS_ADDRESS"), session->env()}
                : std::vector<std::string>{bus.env()});
    if (!wait_until([&] { return bus.match_rules(notifier->pid()) >= 2 || !notifier->running(); },
                    20s) ||
        !notifier->running()) {
        throw std::runtime_error("freemkv-notify did not subscribe\n" + notifier->output());
    }
    return notifier;
}

// An ISO9660 image labelled `label`, holding `mib` MiB of random bytes.
fs::path make_iso(const TempDir& dir, const std::string& label, int mib) {
    fs::path content = dir / ("content-" + label);
    fs::create_directories(content);
    test::write_file(content / "data.bin", test::random_bytes(mib * MiB, label.size()));
    fs::path iso = dir / (label + ".iso");
    test::run("xorriso -as mkisofs -quiet -V " + label + " -o " + iso.string() + " " +
              content.string());
    return iso;
}

TEST(NotifierTest, Help) {
    Shell r = sh(std::string(FREEMKV_NOTIFY) + " --help");
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("--user"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("--system"), std::string::npos) << r.output;
}

TEST(NotifierTest, ARipsStartAndEndReachDunst) {
    REQUIRE_DESKTOP_TOOLS();
    TempDir dir;
    Bus bus(dir);
    Desktop desktop(dir, bus);
    Daemon daemon(dir, bus);
    Stopped notifier{start_notifier(dir, bus)};

    fs::path iso = make_iso(dir, "NOTIFY_TEST", 8);
    ASSERT_EQ(daemon.rip(iso), "ok");
    auto got = desktop.wait_for(2);
    ASSERT_EQ(got.size(), 2u) << desktop.log() << notifier.process->output();
    // The job's label is known once the daemon has read the disc, which may be after JobAdded.
    EXPECT_TRUE(got[0].summary == "Ripping NOTIFY_TEST" ||
                got[0].summary == "Ripping NOTIFY_TEST.iso")
        << got[0].summary;
    EXPECT_EQ(got[0].body, iso.string());
    EXPECT_EQ(got[1].summary, "Ripped NOTIFY_TEST");
    fs::path output = daemon.library() / "NOTIFY_TEST.iso";
    EXPECT_EQ(got[1].body, output.string());
    EXPECT_TRUE(fs::exists(output));
    EXPECT_EQ(got[1].urgency, "NORMAL");
    EXPECT_EQ(got[1].id, got[0].id) << "the end notification replaces the start one";

    // A rip the daemon rejects when it reads the image: an empty file.
    fs::path empty = dir / "empty.iso";
    std::ofstream(empty).close();
    ASSERT_EQ(daemon.rip(empty), "failed");
    got = desktop.wait_for(4);
    ASSERT_EQ(got.size(), 4u) << desktop.log() << notifier.process->output();
    EXPECT_EQ(got[2].summary, "Ripping empty.iso");
    EXPECT_EQ(got[3].summary, "Rip failed: empty.iso");
    EXPECT_NE(got[3].body.find("is empty"), std::string::npos) << got[3].body;
    EXPECT_EQ(got[3].urgency, "CRITICAL");
    EXPECT_EQ(got[3].id, got[2].id);

    // What is left on screen: only the end notifications, the start ones were replaced.
    std::map<std::string, std::string> expected{{"Ripped NOTIFY_TEST", output.string()},
                                                {"Rip failed: empty.iso", got[3].body}};
    EXPECT_EQ(desktop.history(), expected) << desktop.log();

    EXPECT_EQ(notifier.process->stop(5s), 0) << notifier.process->output();
    EXPECT_EQ(notifier.process->err(), "");
}

// An audio CD's cue sheet: the end notification names the album folder and the tracks.
TEST(NotifierTest, AnAlbumsEndNamesItsFolderAndTracks) {
    REQUIRE_DESKTOP_TOOLS();
    FREEMKV_NEED_AUDIO_CD();
    test::AudioCd cd;
    TempDir dir;
    Bus bus(dir);
    Desktop desktop(dir, bus);
    Daemon daemon(dir, bus);
    Stopped notifier{start_notifier(dir, bus)};

    ASSERT_EQ(daemon.rip(cd.cue), "ok");
    auto got = desktop.wait_for(2);
    ASSERT_EQ(got.size(), 2u) << desktop.log() << notifier.process->output();
    EXPECT_EQ(got[1].summary, "Ripped Test Tones");
    // The whole body from dunst's history (its printed form is cut at the line break, its
    // history keeps the break escaped): the album folder, then the tracks.
    std::string body = desktop.history()["Ripped Test Tones"];
    EXPECT_TRUE(body.starts_with((daemon.library() / "The Oscillators" / "Test Tones").string()))
        << body;
    EXPECT_TRUE(body.ends_with("4 tracks")) << body;
    EXPECT_EQ(notifier.process->stop(5s), 0) << notifier.process->output();
}

// The default: freemkvd on the system bus, the notifications on the session bus.
TEST(NotifierTest, FollowsTheSystemBus) {
    REQUIRE_DESKTOP_TOOLS();
    TempDir dir;
    Bus system(dir), session(dir);
    Desktop desktop(dir, session);
    Daemon daemon(dir, system, true);
    Stopped notifier{start_notifier(dir, system, &session)};

    ASSERT_EQ(daemon.rip(make_iso(dir, "SYSTEM_BUS", 1)), "ok");
    auto got = desktop.wait_for(2);
    ASSERT_EQ(got.size(), 2u) << desktop.log() << notifier.process->output();
    EXPECT_EQ(got[0].body, (dir / "SYSTEM_BUS.iso").string());
    EXPECT_EQ(got[1].summary, "Ripped SYSTEM_BUS");
    EXPECT_EQ(got[1].body, (daemon.library() / "SYSTEM_BUS.iso").string());
    EXPECT_EQ(got[1].id, got[0].id);
    EXPECT_EQ(notifier.process->stop(5s), 0) << notifier.process->output();
}

TEST(NotifierTest, KeepsRunningWithoutANotificationServer) {
    REQUIRE_DESKTOP_TOOLS();
    TempDir dir;
    Bus bus(dir);
    Daemon daemon(dir, bus);
    Stopped notifier{start_notifier(dir, bus)};

    ASSERT_EQ(daemon.rip(make_iso(dir, "FIRST", 1)), "ok");
    std::string err;
    EXPECT_TRUE(wait_until(
        [&] {
            err = notifier.process->err();
            return err.find("Ripped FIRST") != std::string::npos;
        },
        10s))
        << err;
    EXPECT_NE(err.find("org.freedesktop.DBus.Error.ServiceUnknown"), std::string::npos) << err;
    EXPECT_NE(err.find("is a notification daemon running"), std::string::npos) << err;
    ASSERT_TRUE(notifier.process->running()) << notifier.process->output();

    // The server appears: the next job's notifications get through.
    Desktop desktop(dir, bus);
    ASSERT_EQ(daemon.rip(make_iso(dir, "SECOND", 1)), "ok");
    auto got = desktop.wait_for(2);
    ASSERT_EQ(got.size(), 2u) << desktop.log() << notifier.process->output();
    EXPECT_EQ(got[1].summary, "Ripped SECOND");
    EXPECT_EQ(got[1].body, (daemon.library() / "SECOND.iso").string());

    notifier.process->signal(SIGINT);
    EXPECT_EQ(notifier.process->exit_code(5s), 0) << notifier.process->output();
}

}  // namespace
}  // namespace freemkv
