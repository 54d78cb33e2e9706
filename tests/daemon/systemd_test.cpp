// freemkvd as systemd runs it, without systemd: sd_notify through a NOTIFY_SOCKET this test owns
// (READY=1 only once the bus name is owned, STATUS=, WATCHDOG=1 at WatchdogSec / 2, RELOADING=1 and
// STOPPING=1), SIGTERM in the middle of a rip (exit 0, and the job resumes at the next start), and
// reloading the configuration with SIGHUP or the Reload method.

#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-bus.h>

#include "mapfile.hpp"
#include "support/bus_fixture.hpp"
#include "support/process.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using namespace test;

// A datagram socket in the place of systemd's notification socket; every message it receives,
// with the time it came, is kept.
class NotifySocket {
  public:
    struct Message {
        Clock::time_point time;
        std::string text;
    };

    explicit NotifySocket(const fs::path& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            throw std::system_error(errno, std::generic_category(),
                                    "notify socket " + path_.string());
        }
        timeval tick{0, 50'000};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick);
        reader_ = std::jthread([this](std::stop_token stop) {
            std::array<char, 4096> buf{};
            while (!stop.stop_requested()) {
                ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
                if (n > 0) {
                    std::lock_guard lock(mutex_);
                    messages_.push_back({Clock::now(), std::string(buf.data(), std::size_t(n))});
                }
            }
        });
    }
    ~NotifySocket() {
        reader_.request_stop();
        reader_.join();
        ::close(fd_);
    }
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;

    std::string env() const { return "NOTIFY_SOCKET=" + path_.string(); }
    std::vector<Message> messages() const {
        std::lock_guard lock(mutex_);
        return messages_;
    }
    // Messages with a line `line` ("READY=1"), or starting with it when it ends in '='.
    std::vector<Message> with(const std::string& line) const {
        std::vector<Message> found;
        for (const Message& m : messages()) {
            for (const std::string& l : lines_of(m.text)) {
                if (line.back() == '=' ? l.starts_with(line) : l == line) {
                    found.push_back(m);
                    break;
                }
            }
        }
        return found;
    }
    bool wait_for(const std::string& line, Clock::duration timeout = 10s) const {
        return wait_until([&] { return !with(line).empty(); }, timeout);
    }
    std::vector<std::string> statuses() const {
        std::vector<std::string> all;
        for (const Message& m : with("STATUS=")) {
            for (const std::string& l : lines_of(m.text)) {
                if (l.starts_with("STATUS=")) {
                    all.push_back(l.substr(7));
                }
            }
        }
        return all;
    }

  private:
    fs::path path_;
    int fd_ = -1;
    mutable std::mutex mutex_;
    std::vector<Message> messages_;
    std::jthread reader_;
};

// The daemon as a Process with a NOTIFY_SOCKET, for when the Service fixture's "ready when on
// the bus" is exactly what is under test.
TEST(Notify, ReadyOnlyOnceTheNameIsOwnedThenStatusAndWatchdog) {
    TempDir dir;
    NotifySocket notify(dir / "notify");
    BusDaemon bus("--session");
    std::string bus_env = "DBUS_SESSION_BUS_ADDRESS=" + bus.address();
    fs::path config = write_config(dir, "", dir / "library", dir / "state");
    Process daemon(FREEMKV_BINARY, {"--user", "--config", config.string()}, dir / "out",
                   dir / "err", {bus_env, notify.env(), "WATCHDOG_USEC=400000"});
    ASSERT_TRUE(notify.wait_for("READY=1")) << daemon.output();
    // When READY=1 arrives, the name is already on the bus.
    Shell owner = sh("DBUS_SESSION_BUS_ADDRESS=" + quote(bus.address()) +
                     " busctl --user status org.freemkv.Rip1");
    EXPECT_TRUE(owner.ok()) << owner.output;
    ASSERT_FALSE(notify.statuses().empty());
    EXPECT_TRUE(notify.statuses().back().starts_with("idle; ")) << notify.statuses().back();

    // WATCHDOG=1 from the loop, again and again; sd-event sends it at most every quarter of the
    // interval (100 ms here), however late the loop runs.
    auto since = Clock::now();
    auto pings_since = [&] {
        std::size_t n = 0;
        for (const auto& m : notify.with("WATCHDOG=1")) {
            n += m.time >= since;
        }
        return n;
    };
    EXPECT_TRUE(wait_until([&] { return pings_since() >= 3; }, 30s));
    auto elapsed = Clock::now() - since;
    EXPECT_LE(pings_since(), std::size_t(elapsed / 100ms) + 2);

    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.exit_code(10s), 0) << daemon.output();
    EXPECT_TRUE(notify.wait_for("STOPPING=1", 1s));
}

// A client of its own that sends `count` GetManagedObjects at once and counts the replies.
class FloodClient {
  public:
    FloodClient(const std::string& address, int count) {
        check(sd_bus_new(&bus_), "sd_bus_new");
        check(sd_bus_set_address(bus_, address.c_str()), "address");
        check(sd_bus_set_bus_client(bus_, 1), "bus client");
        check(sd_bus_start(bus_), "sd_bus_start");
        for (int i = 0; i < count; ++i) {
            sd_bus_message* m = nullptr;
            check(sd_bus_message_new_method_call(bus_, &m, kName, kRoot,
                                                 "org.freedesktop.DBus.ObjectManager",
                                                 "GetManagedObjects"),
                  "new call");
            check(sd_bus_call_async(bus_, nullptr, m, &FloodClient::on_reply, this, 300'000'000),
                  "call");
            sd_bus_message_unref(m);
        }
        check(sd_bus_flush(bus_), "flush");
        // The bus driver answers in order: every call above has been routed.
        sd_bus_error error = SD_BUS_ERROR_NULL;
        check(sd_bus_call_method(bus_, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                 "org.freedesktop.DBus", "GetId", &error, nullptr, ""),
              "GetId");
        expected_ = count;
    }
    ~FloodClient() { sd_bus_flush_close_unref(bus_); }
    FloodClient(const FloodClient&) = delete;
    FloodClient& operator=(const FloodClient&) = delete;

    // Serves the replies until all have come or `timeout` passes.
    void wait(Clock::duration timeout) {
        auto deadline = Clock::now() + timeout;
        while (replies_ < expected_ && Clock::now() < deadline) {
            int r = sd_bus_process(bus_, nullptr);
            if (r == 0) {
                r = sd_bus_wait(bus_, 100'000);
            }
            check(r, "process");
        }
    }
    int replies() const { return replies_; }
    int errors() const { return errors_; }
    Clock::time_point first() const { return first_; }
    Clock::time_point last() const { return last_; }

  private:
    static void check(int r, const char* what) {
        if (r < 0) {
            throw std::system_error(-r, std::generic_category(), what);
        }
    }
    static int on_reply(sd_bus_message* m, void* self, sd_bus_error*) {
        auto* c = static_cast<FloodClient*>(self);
        auto now = Clock::now();
        if (c->replies_++ == 0) {
            c->first_ = now;
        }
        c->last_ = now;
        c->errors_ += sd_bus_message_is_method_error(m, nullptr) != 0;
        return 0;
    }

    sd_bus* bus_ = nullptr;
    int expected_ = 0;
    int replies_ = 0;
    int errors_ = 0;
    Clock::time_point first_{}, last_{};
};

// Several clients' calls queue up while the daemon is stopped; once it runs again it serves
// them, and the watchdog keeps coming meanwhile: the loop yields between batches of calls. A
// history of 200 jobs makes each GetManagedObjects cost the daemon more than the bus, so the
// calls wait for the daemon, not the other way round.
TEST(Notify, WatchdogKeepsComingWhileAFloodOfCallsIsServed) {
    TempDir dir;
    NotifySocket notify(dir / "notify");
    BusDaemon bus("--session");
    fs::path config =
        write_config(dir, "[queue]\nhistory = 1000\n", dir / "library", dir / "state");
    fs::create_directories(dir / "state");
    {
        std::ofstream journal(dir / "state" / "jobs.toml");
        for (int id = 1; id <= 200; ++id) {
            journal << "[[job]]\nid = " << id << "\nstate = \"done\"\nsource = \"/images/disc" << id
                    << ".iso\"\nlabel = \"DISC" << id
                    << "\"\noutcome = \"ok\"\nresult_output = \"/library/DISC" << id
                    << ".iso\"\n\n";
        }
    }
    Process daemon(
        FREEMKV_BINARY, {"--user", "--config", config.string()}, dir / "out", dir / "err",
        {"DBUS_SESSION_BUS_ADDRESS=" + bus.address(), notify.env(), "WATCHDOG_USEC=400000"});
    ASSERT_TRUE(notify.wait_for("READY=1")) << daemon.output();
    ASSERT_TRUE(notify.wait_for("WATCHDOG=1")) << daemon.output();

    constexpr int clients = 4;
    constexpr int calls = 250;
    daemon.signal(SIGSTOP);
    std::vector<std::unique_ptr<FloodClient>> flood;
    for (int i = 0; i < clients; ++i) {
        flood.push_back(std::make_unique<FloodClient>(bus.address(), calls));
    }
    daemon.signal(SIGCONT);
    {
        std::vector<std::jthread> readers;
        for (auto& c : flood) {
            readers.emplace_back([&c] { c->wait(240s); });
        }
    }
    auto first = flood.front()->first();
    auto last = flood.front()->last();
    for (auto& c : flood) {
        ASSERT_EQ(c->replies(), calls);
        EXPECT_EQ(c->errors(), 0);
        first = std::min(first, c->first());
        last = std::max(last, c->last());
    }
    std::size_t during = 0;
    for (const auto& m : notify.with("WATCHDOG=1")) {
        during += m.time > first && m.time < last;
    }
    EXPECT_GE(during, 2u)
        << "WATCHDOG=1 while " << clients * calls << " calls were served in "
        << std::chrono::duration_cast<std::chrono::milliseconds>(last - first).count() << " ms";
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.exit_code(30s), 0) << daemon.output();
}

// systemd restarts a daemon that exits non-zero (Restart=on-failure); a signal would mean a
// crash, with a core dump.
TEST(Restart, WhenTheBusGoesAwayTheDaemonExitsNonZeroNotByASignal) {
    TempDir dir;
    BusDaemon bus("--session");
    std::string bus_env = "DBUS_SESSION_BUS_ADDRESS=" + bus.address();
    fs::path config = write_config(dir, "", dir / "library", dir / "state");
    Process daemon(FREEMKV_BINARY, {"--user", "--config", config.string()}, dir / "out",
                   dir / "err", {bus_env});
    auto busctl = [&](const std::string& args) {
        return sh("DBUS_SESSION_BUS_ADDRESS=" + quote(bus.address()) + " busctl --user " + args);
    };
    ASSERT_TRUE(wait_until([&] { return busctl("status org.freemkv.Rip1 >/dev/null").ok(); }, 20s))
        << daemon.output();
    fs::path image = make_image(dir / "disc.img", 1 * MiB, 604);
    Shell started = busctl(std::string("call ") + kName + " " + kRoot + " " + kManager +
                           " StartRip sa{sv} " + quote(image.string()) + " 0");
    ASSERT_TRUE(started.ok()) << started.output;
    ASSERT_TRUE(wait_until(
        [&] {
            return busctl(std::string("get-property ") + kName + " " + job_path(1) + " " + kJob +
                          " Result")
                       .output == "s \"ok\"\n";
        },
        30s))
        << daemon.output();

    ASSERT_EQ(::kill(bus.pid(), SIGKILL), 0);
    int code = daemon.exit_code(30s);
    EXPECT_GT(code, 0) << "-N is signal N; -1 a timeout\n" << daemon.output();
}

TEST(Notify, NoWatchdogUnlessSystemdAsksForIt) {
    TempDir dir;
    NotifySocket notify(dir / "notify");
    Service service(dir, {.env = {notify.env()}});
    ASSERT_TRUE(notify.wait_for("READY=1"));
    std::this_thread::sleep_for(500ms);
    EXPECT_TRUE(notify.with("WATCHDOG=1").empty());
}

// SIGTERM while a disc is read at 16 MB/s: the daemon checkpoints and exits 0 at once, and the
// next start resumes the job from its .part, reading only the rest.
TEST(Notify, SigtermMidRipExitsZeroAndTheJobResumesAfterARestart) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    fs::path image = make_image(dir / "disc.img", 48 * MiB, 601);
    fs::path log = dir / "faultfs.log";
    FaultFs drive(image, "--read-only --read-bps 16000000 --log " + log.string());
    NotifySocket notify(dir / "notify");
    std::string output;
    std::uint64_t rescued = 0;
    {
        Service service(dir, {.env = {notify.env()}});
        std::string job = Service::job_of(service.start_rip_busctl(drive.disk()));
        ASSERT_TRUE(wait_until(
            [&] { return std::stoull(service.get(job, kJob, "BytesDone")) > 16 * MiB; }, 30s));
        EXPECT_TRUE(wait_until(
            [&] {
                auto s = notify.statuses();
                return !s.empty() && s.back().starts_with("ripping 1, queued 0; ");
            },
            2s));
        output = service.get(job, kJob, "OutputPath");
        ManagerWatcher watcher(service.address(), false);
        service.daemon().signal(SIGTERM);
        EXPECT_EQ(service.daemon().exit_code(60s), 0) << service.daemon().output();
        EXPECT_FALSE(notify.with("STOPPING=1").empty());
        rescued = Mapfile::load(output.substr(0, output.size() - 4) + ".map")
                      .bytes_with(BlockStatus::finished);
        EXPECT_GE(rescued, 16 * MiB) << "what was read before the stop is kept";
        EXPECT_LT(rescued, 48 * MiB) << "a stop waits for the checkpoint, not the rip";
        // It resumes at the next start: interrupted, not cancelled.
        std::string log = service.daemon().err();
        EXPECT_TRUE(contains(log, "job 1: interrupted")) << log;
        EXPECT_FALSE(contains(log, "job 1: cancelled")) << log;
        // Clients hear it before the daemon goes.
        ASSERT_TRUE(wait_until([&] { return watcher.ended_count() == 1; }, 10s));
        EXPECT_EQ(watcher.ended().at(0).result, "interrupted");
        EXPECT_EQ(watcher.ended().at(0).job, job);
        EXPECT_FALSE(fs::exists(output));
        EXPECT_TRUE(fs::exists(output + ".part"));
    }
    std::uint64_t served_before = faultfs_bytes_read(log);
    Service again(dir);
    EXPECT_EQ(again.wait_for_result(job_path(1)), "ok") << again.daemon().output();
    EXPECT_EQ(again.get(job_path(1), kJob, "OutputPath"), output);
    EXPECT_TRUE(read_file(output) == read_file(image));
    EXPECT_LE(faultfs_bytes_read(log) - served_before, 48 * MiB - rescued + 1 * MiB)
        << "the restarted job read the disc again from the start";
}

TEST(Reload, SighupAndTheReloadMethodApplyANewLibraryToNewJobs) {
    TempDir dir;
    NotifySocket notify(dir / "notify");
    Service service(dir, {.env = {notify.env()}});
    fs::path image = make_image(dir / "disc.img", 2 * MiB, 602);
    EXPECT_EQ(service.get(kRoot, kManager, "LibraryPath"), (dir / "library").string());

    // SIGHUP with a new library: the property follows, and the next rip lands there.
    write_config(dir, "", dir / "library2", dir / "state");
    service.daemon().signal(SIGHUP);
    ASSERT_TRUE(wait_until(
        [&] { return service.get(kRoot, kManager, "LibraryPath") == (dir / "library2").string(); },
        5s))
        << service.daemon().output();
    EXPECT_TRUE(notify.wait_for("RELOADING=1"));
    EXPECT_GE(notify.with("READY=1").size(), 2u) << "READY=1 again after the reload";
    std::string job = Service::job_of(service.start_rip_busctl(image));
    ASSERT_EQ(service.wait_for_result(job), "ok");
    EXPECT_EQ(fs::path(service.get(job, kJob, "OutputPath")).parent_path(), dir / "library2");

    // The Reload method, through busctl and freemkvctl.
    write_config(dir, "", dir / "library3", dir / "state");
    Shell r = service.busctl_call(kRoot, kManager, "Reload");
    ASSERT_TRUE(r.ok()) << r.output;
    EXPECT_EQ(service.get(kRoot, kManager, "LibraryPath"), (dir / "library3").string());
    write_config(dir, "", dir / "library4", dir / "state");
    r = sh(service.shell_env() + " " FREEMKV_CTL " --user reload");
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output, "configuration reloaded\n");
    EXPECT_EQ(service.get(kRoot, kManager, "LibraryPath"), (dir / "library4").string());
}

TEST(Reload, ABadFileChangesNothingAndSaysWhereItIsWrong) {
    TempDir dir;
    Service service(dir);
    std::string library = service.get(kRoot, kManager, "LibraryPath");
    fs::path config = dir / "freemkvd.toml";
    std::string good = slurp(config);

    std::ofstream(config) << good << "[queue]\nmax_paralel = 3\n";
    Shell r = service.gdbus_call(kRoot, std::string(kManager) + ".Reload");
    EXPECT_EQ(gdbus_error(r), "org.freemkv.Rip1.Error.Failed");
    EXPECT_TRUE(contains(r.output, "freemkvd.toml:")) << r.output;
    EXPECT_TRUE(contains(r.output, "max_paralel")) << r.output;
    EXPECT_TRUE(contains(r.output, "max_parallel")) << "did you mean: " << r.output;
    r = sh(service.shell_env() + " " FREEMKV_CTL " --user reload");
    EXPECT_EQ(r.status, 4) << "a failed D-Bus call: " << r.output;
    EXPECT_TRUE(contains(r.output, "org.freemkv.Rip1.Error.Failed")) << r.output;
    EXPECT_TRUE(contains(r.output, "max_paralel")) << r.output;

    // The state directory holds the journal and cannot move under a running daemon.
    write_config(dir, "", dir / "library", dir / "elsewhere");
    r = service.gdbus_call(kRoot, std::string(kManager) + ".Reload");
    EXPECT_EQ(gdbus_error(r), "org.freemkv.Rip1.Error.Failed");
    EXPECT_TRUE(contains(r.output, "state.dir")) << r.output;
    EXPECT_TRUE(contains(r.output, "restart")) << r.output;

    // SIGHUP with a bad file: logged, nothing changes, the daemon serves on.
    std::ofstream(config) << "[library\n";
    service.daemon().signal(SIGHUP);
    ASSERT_TRUE(wait_until([&] { return contains(service.daemon().err(), "reload failed"); }, 5s));
    EXPECT_EQ(service.get(kRoot, kManager, "LibraryPath"), library);
    fs::path image = make_image(dir / "disc.img", 1 * MiB, 603);
    EXPECT_EQ(service.wait_for_result(Service::job_of(service.start_rip_busctl(image))), "ok");
    std::ofstream(config) << good;
}

// What systemd runs for `systemctl reload`: the unit's ExecReload=, with $MAINPID replaced as
// systemd replaces it.
std::string exec_reload(const std::string& unit, Service& service) {
    for (std::string line : lines_of(slurp(fs::path(FREEMKV_SYSTEMD_DIR) / unit))) {
        if (line.starts_with("ExecReload=")) {
            line = std::regex_replace(line.substr(std::string("ExecReload=").size()),
                                      std::regex(R"(\$\{?MAINPID\}?)"),
                                      std::to_string(service.daemon().pid()));
            return service.shell_env() + " " + line;
        }
    }
    throw std::runtime_error(unit + " has no ExecReload=");
}

TEST(Reload, SystemctlReloadFailsOnABadFile) {
    FREEMKV_REQUIRE_ROOT();  // the system-like bus lets only root and user freemkvd own the name
    for (bool system : {true, false}) {
        SCOPED_TRACE(system ? "freemkvd.service" : "freemkvd-user.service");
        TempDir dir;
        Service service(dir,
                        {.system_bus_config = system ? write_system_bus_config(dir) : fs::path()});
        std::string reload =
            exec_reload(system ? "freemkvd.service.in" : "freemkvd-user.service.in", service);
        fs::path config = dir / "freemkvd.toml";
        std::string good = slurp(config);

        std::ofstream(config) << good << "[queue]\nmax_paralel = 3\n";
        Shell r = sh(reload);
        EXPECT_NE(r.status, 0) << reload << "\n" << r.output;
        EXPECT_TRUE(contains(r.output, "max_paralel")) << r.output;

        std::ofstream(config) << good;
        r = sh(reload);
        EXPECT_EQ(r.status, 0) << reload << "\n" << r.output;
    }
}

// The user unit runs `freemkvd --user` without --config: XDG defaults, and the user's file once
// it exists (picked up by Reload).
TEST(UserMode, WithoutAConfigurationTheLibraryIsTheUsersVideosFolder) {
    TempDir home;
    BusDaemon bus("--session");
    std::string bus_env = "DBUS_SESSION_BUS_ADDRESS=" + bus.address();
    Process daemon(FREEMKV_BINARY, {"--user"}, home / "out", home / "err",
                   {bus_env, "HOME=" + home.path().string(),
                    "XDG_CONFIG_HOME=", "XDG_STATE_HOME=", "XDG_DATA_HOME="});
    auto busctl = [&](const std::string& args) {
        return sh("DBUS_SESSION_BUS_ADDRESS=" + quote(bus.address()) + " busctl --user " + args);
    };
    auto library = [&] {
        return busctl(
                   "get-property org.freemkv.Rip1 /org/freemkv/Rip1 org.freemkv.Rip1.Manager "
                   "LibraryPath")
            .output;
    };
    ASSERT_TRUE(wait_until([&] { return busctl("status org.freemkv.Rip1").ok(); }, 10s))
        << daemon.output();
    EXPECT_EQ(library(), "s \"" + (home / "Videos").string() + "\"\n");
    EXPECT_TRUE(fs::is_directory(home / "Videos"));
    EXPECT_TRUE(fs::exists(home / ".local/state/freemkvd/jobs.toml"));

    fs::create_directories(home / ".config/freemkvd");
    std::ofstream(home / ".config/freemkvd/freemkvd.toml")
        << "[library]\npath = \"" << (home / "Rips").string() << "\"\n";
    Shell r = busctl("call org.freemkv.Rip1 /org/freemkv/Rip1 org.freemkv.Rip1.Manager Reload");
    ASSERT_TRUE(r.ok()) << r.output;
    EXPECT_EQ(library(), "s \"" + (home / "Rips").string() + "\"\n");
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.exit_code(10s), 0) << daemon.output();
}

}  // namespace
}  // namespace freemkv
