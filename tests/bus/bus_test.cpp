// The D-Bus API as third-party clients see it: busctl, gdbus and dbus-monitor against freemkvd on
// a private bus of each test's own (a session bus, or a system-like bus with the shipped policy),
// and a small sdbus-c++ client where a process per call would be too slow. The cases with a
// throttled disc or another user need root.

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sdbus-c++/sdbus-c++.h>
#include <signal.h>
#include <sys/stat.h>
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
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <system_error>
#include <thread>

#include "support/bus_fixture.hpp"
#include "support/process.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using namespace test;

// --- introspection ---

using Members = std::set<std::string>;

std::map<std::string, std::string> attributes(const std::string& tag) {
    std::map<std::string, std::string> attrs;
    static const std::regex attr(R"re(([A-Za-z_]+)\s*=\s*"([^"]*)")re");
    for (auto it = std::sregex_iterator(tag.begin(), tag.end(), attr); it != std::sregex_iterator();
         ++it) {
        attrs[(*it)[1]] = (*it)[2];
    }
    return attrs;
}

// Each interface's members as "method NAME(IN)->(OUT)", "signal NAME(ARGS)" and
// "property NAME TYPE ACCESS", from introspection XML (just enough XML for D-Bus's).
std::map<std::string, Members> parse_interfaces(std::string xml) {
    xml = std::regex_replace(xml, std::regex(R"(<!--[\s\S]*?-->)"), "");
    std::map<std::string, Members> interfaces;
    static const std::regex iface_re(
        R"re(<interface\s+name="([^"]+)"\s*>([\s\S]*?)</interface>)re");
    static const std::regex member_re(
        R"re(<(method|signal)\s+([^>]*?)(/?)>|<property\s+([^>]*?)/?>)re");
    static const std::regex arg_re(R"re(<arg\s+([^>]*?)/?>)re");
    for (auto i = std::sregex_iterator(xml.begin(), xml.end(), iface_re);
         i != std::sregex_iterator(); ++i) {
        Members& members = interfaces[(*i)[1]];
        std::string body = (*i)[2];
        for (auto m = std::sregex_iterator(body.begin(), body.end(), member_re);
             m != std::sregex_iterator(); ++m) {
            if ((*m)[4].matched) {
                auto a = attributes((*m)[4]);
                members.insert("property " + a["name"] + " " + a["type"] + " " + a["access"]);
                continue;
            }
            std::string kind = (*m)[1];
            std::string name = attributes((*m)[2])["name"];
            std::string in, out;
            if ((*m)[3].length() == 0) {
                std::size_t from = static_cast<std::size_t>(m->position() + m->length());
                std::string inner = body.substr(from, body.find("</" + kind + ">", from) - from);
                for (auto a = std::sregex_iterator(inner.begin(), inner.end(), arg_re);
                     a != std::sregex_iterator(); ++a) {
                    auto attrs = attributes((*a)[1]);
                    (attrs["direction"] == "out" ? out : in) += attrs["type"];
                }
            }
            members.insert(kind == "method" ? "method " + name + "(" + in + ")->(" + out + ")"
                                            : "signal " + name + "(" + in + ")");
        }
    }
    return interfaces;
}

// Our interfaces only (not org.freedesktop.DBus.*).
std::map<std::string, Members> own_interfaces(const std::string& xml) {
    auto all = parse_interfaces(xml);
    std::erase_if(all, [](const auto& i) { return !i.first.starts_with("org.freemkv."); });
    return all;
}

std::map<std::string, Members> shipped_interface(const std::string& iface) {
    return parse_interfaces(test::slurp(fs::path(FREEMKV_DBUS_DIR) / (iface + ".xml")));
}

// --- sdbus-c++ clients ---

using Options = std::map<std::string, sdbus::Variant>;

// === 1. every method through busctl and gdbus ===

TEST(BusApi, EveryMethodThroughBusctlAndGdbus) {
    TempDir dir;
    fs::path iso = make_iso(dir, "BUSCTL_DISC", 3 * MiB, 1);
    fs::path img = make_image(dir / "gdbus.img", 2 * MiB + 5 * 2048, 2);
    Service service(dir);

    // ListDrives: whatever drives this machine has, both tools list the same.
    Shell drives_b = service.busctl_call(kRoot, kManager, "ListDrives");
    Shell drives_g = service.gdbus_call(kRoot, std::string(kManager) + ".ListDrives");
    ASSERT_TRUE(drives_b.ok()) << drives_b.output;
    ASSERT_TRUE(drives_g.ok()) << drives_g.output;
    EXPECT_TRUE(drives_b.output.starts_with("ao ")) << drives_b.output;
    EXPECT_EQ(all_matches(drives_b.output, R"re("(/[^"]*)")re"),
              all_matches(drives_g.output, R"('(/[^']*)')"));

    std::string job1 = Service::job_of(service.start_rip_busctl(iso));
    std::string job2 = Service::job_of(service.start_rip_gdbus(img.string()));
    const std::regex job_re(R"(^/org/freemkv/Rip1/job/[0-9]+$)");
    EXPECT_TRUE(std::regex_match(job1, job_re)) << job1;
    EXPECT_TRUE(std::regex_match(job2, job_re)) << job2;
    EXPECT_NE(job1, job2);

    Shell jobs_b = service.busctl_call(kRoot, kManager, "ListJobs");
    Shell jobs_g = service.gdbus_call(kRoot, std::string(kManager) + ".ListJobs");
    ASSERT_TRUE(jobs_b.ok()) << jobs_b.output;
    ASSERT_TRUE(jobs_g.ok()) << jobs_g.output;
    EXPECT_EQ(all_matches(jobs_b.output, R"re("(/[^"]*)")re"),
              (std::vector<std::string>{job1, job2}));
    EXPECT_EQ(all_matches(jobs_g.output, R"('(/[^']*)')"), (std::vector<std::string>{job1, job2}));

    for (const auto& [job, source] : {std::pair{job1, iso}, std::pair{job2, img}}) {
        SCOPED_TRACE(job);
        ASSERT_EQ(service.wait_for_result(job), "ok");
        std::string size = std::to_string(fs::file_size(source));

        // Properties.Get, both ways.
        EXPECT_EQ(service.get(job, kJob, "State"), "done");
        std::string output = service.get(job, kJob, "OutputPath");
        Shell result_g = service.gdbus_call(job, std::string(kProperties) + ".Get",
                                            gvariant(kJob) + " " + gvariant("Result"));
        EXPECT_EQ(result_g.output, "(<'ok'>,)\n");
        Shell output_g = service.gdbus_call(job, std::string(kProperties) + ".Get",
                                            gvariant(kJob) + " " + gvariant("OutputPath"));
        EXPECT_EQ(output_g.output, "(<'" + output + "'>,)\n");
        EXPECT_EQ(service.get(job, kJob, "BytesDone"), size);
        EXPECT_EQ(service.get(job, kJob, "BytesTotal"), size);
        EXPECT_EQ(service.get(job, kJob, "Progress"), "1");
        EXPECT_EQ(service.get(job, kJob, "Source"), source.string());
        EXPECT_EQ(service.get(job, kJob, "Cancelable"), "false");
        EXPECT_EQ(service.get(job, kJob, "StartedByUid"), std::to_string(::getuid()));
        EXPECT_EQ(service.get(job, kJob, "UnreadableSectors"), "0");

        EXPECT_EQ(fs::path(output).parent_path(), service.library());
        ASSERT_TRUE(fs::exists(output)) << output;
        EXPECT_TRUE(read_file(output) == read_file(source)) << output << " differs from " << source;

        // Properties.GetAll, both ways, on both interfaces of the job.
        Shell all_b = service.busctl_call(job, kProperties, "GetAll", "s " + std::string(kJob));
        ASSERT_TRUE(all_b.ok()) << all_b.output;
        EXPECT_TRUE(contains(all_b.output, R"("Result" s "ok")")) << all_b.output;
        EXPECT_TRUE(contains(all_b.output, R"("State" s "done")")) << all_b.output;
        EXPECT_TRUE(contains(all_b.output, "\"OutputPath\" s \"" + output + "\"")) << all_b.output;
        EXPECT_TRUE(contains(all_b.output, "\"BytesDone\" t " + size + " ")) << all_b.output;
        Shell all_g = service.gdbus_call(job, std::string(kProperties) + ".GetAll", gvariant(kJob));
        ASSERT_TRUE(all_g.ok()) << all_g.output;
        EXPECT_TRUE(contains(all_g.output, "'Result': <'ok'>")) << all_g.output;
        EXPECT_TRUE(contains(all_g.output, "'OutputPath': <'" + output + "'>")) << all_g.output;
        EXPECT_TRUE(contains(all_g.output, "'BytesDone': <uint64 " + size + ">")) << all_g.output;
        Shell tel_b =
            service.busctl_call(job, kProperties, "GetAll", "s " + std::string(kTelemetry));
        EXPECT_TRUE(contains(tel_b.output, "\"ChunkBytes\" t ")) << tel_b.output;
        Shell tel_g =
            service.gdbus_call(job, std::string(kProperties) + ".GetAll", gvariant(kTelemetry));
        EXPECT_TRUE(contains(tel_g.output, "'ChunkBytes': <uint64 ")) << tel_g.output;

        // Job.Cancel, both ways: the job has ended.
        Shell cancel_b = service.busctl_call(job, kJob, "Cancel", "a{sv} 0");
        EXPECT_FALSE(cancel_b.ok());
        EXPECT_TRUE(contains(cancel_b.output, "has already ended")) << cancel_b.output;
        Shell cancel_g = service.gdbus_call(job, std::string(kJob) + ".Cancel", "'{}'");
        EXPECT_EQ(gdbus_error(cancel_g), "org.freemkv.Rip1.Error.Failed");
    }
    EXPECT_EQ(fs::path(service.get(job1, kJob, "OutputPath")).filename(), "BUSCTL_DISC.iso");
    EXPECT_EQ(service.get(job1, kJob, "DiscLabel"), "BUSCTL_DISC");

    // The manager's properties.
    Shell manager_b =
        service.busctl_call(kRoot, kProperties, "GetAll", "s " + std::string(kManager));
    ASSERT_TRUE(manager_b.ok()) << manager_b.output;
    EXPECT_TRUE(
        contains(manager_b.output, "\"LibraryPath\" s \"" + service.library().string() + "\""))
        << manager_b.output;
    EXPECT_TRUE(contains(manager_b.output, R"("QueueLength" u 0)")) << manager_b.output;
    EXPECT_TRUE(contains(manager_b.output, R"("RunningJobs" u 0)")) << manager_b.output;
    Shell manager_g =
        service.gdbus_call(kRoot, std::string(kProperties) + ".GetAll", gvariant(kManager));
    ASSERT_TRUE(manager_g.ok()) << manager_g.output;
    EXPECT_TRUE(contains(manager_g.output, "'LibraryPath': <'" + service.library().string() + "'>"))
        << manager_g.output;
    EXPECT_TRUE(
        std::regex_search(manager_g.output, std::regex(R"('Version': <'[0-9]+\.[0-9.]+'>)")))
        << manager_g.output;
    EXPECT_EQ(service.get(kRoot, kManager, "Version"),
              all_matches(manager_g.output, R"('Version': <'([^']+)'>)").at(0));
    EXPECT_EQ(service
                  .gdbus_call(kRoot, std::string(kProperties) + ".Get",
                              gvariant(kManager) + " " + gvariant("QueueLength"))
                  .output,
              "(<uint32 0>,)\n");

    // ObjectManager: each job with both of its interfaces.
    Shell managed_b =
        service.busctl_call(kRoot, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects");
    Shell managed_g =
        service.gdbus_call(kRoot, "org.freedesktop.DBus.ObjectManager.GetManagedObjects");
    ASSERT_TRUE(managed_b.ok()) << managed_b.output;
    ASSERT_TRUE(managed_g.ok()) << managed_g.output;
    for (const std::string& job : {job1, job2}) {
        // The part of the reply from this object's path to the next object's.
        auto section = [](const std::string& text, const std::string& start,
                          const std::string& next) {
            std::size_t from = text.find(start);
            if (from == std::string::npos) {
                return std::string();
            }
            return text.substr(from, text.find(next, from + start.size()) - from);
        };
        std::string b = section(managed_b.output, "\"" + job + "\"", "\"/org/freemkv/Rip1/");
        std::string g = section(managed_g.output, "'" + job + "'", "'/org/freemkv/Rip1/");
        for (const char* iface : {kJob, kTelemetry}) {
            EXPECT_TRUE(contains(b, std::string("\"") + iface + "\"")) << job << ": " << b;
            EXPECT_TRUE(contains(g, std::string("'") + iface + "'")) << job << ": " << g;
        }
        EXPECT_TRUE(contains(g, "'Result': <'ok'>")) << g;
    }
}

// === 2. introspection matches dbus/*.xml ===

TEST(BusApi, IntrospectionMatchesTheShippedXml) {
    TempDir dir;
    fs::path img = make_image(dir / "disc.img", 64 * 2048, 3);
    Service service(dir);
    std::string job = Service::job_of(service.start_rip_busctl(img));
    ASSERT_EQ(service.wait_for_result(job), "ok");

    std::map<std::string, std::vector<std::string>> objects{
        {kRoot, {kManager}},
        {job, {kJob, kTelemetry}},
    };
    Shell drives = service.busctl_call(kRoot, kManager, "ListDrives");
    for (const std::string& drive : all_matches(drives.output, R"re("(/[^"]*)")re")) {
        objects[drive] = {"org.freemkv.Rip1.Drive"};
    }
    if (objects.size() == 2) {
        std::printf("no optical drive here: org.freemkv.Rip1.Drive is not introspected\n");
    }
    for (const auto& [path, ifaces] : objects) {
        SCOPED_TRACE(path);
        std::map<std::string, Members> expected;
        for (const std::string& iface : ifaces) {
            auto shipped = shipped_interface(iface);
            ASSERT_EQ(shipped.size(), 1u) << iface;
            ASSERT_FALSE(shipped.begin()->second.empty()) << iface;
            expected.insert(shipped.begin(), shipped.end());
        }
        Shell b = service.busctl("introspect --xml-interface " + std::string(kName) + " " + path);
        Shell g = service.gdbus("introspect",
                                "--xml --dest " + std::string(kName) + " --object-path " + path);
        ASSERT_TRUE(b.ok()) << b.output;
        ASSERT_TRUE(g.ok()) << g.output;
        EXPECT_EQ(own_interfaces(b.output), expected) << b.output;
        EXPECT_EQ(own_interfaces(g.output), expected) << g.output;
    }
    // The manager also serves the ObjectManager the API promises.
    Shell root = service.busctl("introspect --xml-interface " + std::string(kName) + " " + kRoot);
    EXPECT_EQ(parse_interfaces(root.output).count("org.freedesktop.DBus.ObjectManager"), 1u);
}

// === 3. signals: JobAdded, Completed, JobEnded, with the result readable first ===

TEST(BusSignals, JobEndedFollowsCompletedAndTheResultProperties) {
    TempDir dir;
    fs::path img = make_image(dir / "disc.img", 4 * MiB, 4);
    Service service(dir);
    GdbusMonitor monitor(service, dir, "monitor");
    ManagerWatcher reader(service.address(), true);

    std::string job = Service::job_of(service.start_rip_gdbus(img.string()));
    ASSERT_EQ(service.wait_for_result(job), "ok");
    std::string output = service.get(job, kJob, "OutputPath");
    std::string id = job.substr(job.rfind('/') + 1);
    ASSERT_TRUE(wait_until([&] { return monitor.count(".JobEnded (") > 0; }, 10s)) << monitor.log();
    monitor.stop();

    auto lines = lines_of(monitor.log());
    auto find_all = [&](const std::function<bool(const std::string&)>& match) {
        std::vector<std::size_t> at;
        for (std::size_t i = 0; i < lines.size(); ++i) {
            if (match(lines[i])) {
                at.push_back(i);
            }
        }
        return at;
    };
    auto added = find_all([&](const std::string& l) {
        return l == std::string(kRoot) + ": " + kManager + ".JobAdded (uint64 " + id +
                        ", objectpath '" + job + "', '" + img.string() + "')";
    });
    auto result_set = find_all([&](const std::string& l) {
        return l.starts_with(job + ": " + kProperties + ".PropertiesChanged ('" + kJob + "'") &&
               contains(l, "'Result': <'ok'>");
    });
    auto completed = find_all(
        [&](const std::string& l) { return l == job + ": " + kJob + ".Completed (true, 'ok')"; });
    auto ended = find_all([&](const std::string& l) {
        return contains(l, std::string(".JobEnded (")) && contains(l, "'" + job + "'");
    });
    ASSERT_EQ(added.size(), 1u) << monitor.log();
    ASSERT_EQ(result_set.size(), 1u) << monitor.log();
    ASSERT_EQ(completed.size(), 1u) << monitor.log();
    ASSERT_EQ(ended.size(), 1u) << monitor.log();
    EXPECT_LT(added[0], result_set[0]);
    EXPECT_LT(result_set[0], completed[0]);
    EXPECT_LT(completed[0], ended[0]);
    // The Result change carries the output path with it.
    EXPECT_TRUE(contains(lines[result_set[0]], "'OutputPath': <'" + output + "'>"))
        << lines[result_set[0]];
    EXPECT_EQ(lines[ended[0]], std::string(kRoot) + ": " + kManager + ".JobEnded (uint64 " + id +
                                   ", objectpath '" + job + "', 'ok', '" + output + "')");

    // A client that reads the job's properties from its JobEnded handler sees the outcome.
    ASSERT_TRUE(wait_until([&] { return reader.ended_count() == 1; }, 5s));
    auto seen = reader.ended().at(0);
    EXPECT_EQ(seen.job, job);
    EXPECT_EQ(seen.result, "ok");
    EXPECT_EQ(seen.output, output);
    EXPECT_EQ(seen.read_result, "ok");
    EXPECT_EQ(seen.read_output, output);
}

// === 4. PropertiesChanged is rate-bound during a rip ===

TEST(BusSignals, PropertiesChangedAtMostAFewPerSecondDuringARip) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    fs::path image = make_image(dir / "slow.img", 160 * MiB, 5);
    // About 4 s at 40 MB/s. The image file on faultfs, not a loop device over it: a loop device
    // is not an optical drive, and StartRip takes only managed drives or image files.
    FaultFs slow(image, "--read-bps 40000000 --read-only");
    Service service(dir);
    DbusMonitor monitor(service, dir, "monitor");

    std::string job = Service::job_of(service.start_rip_busctl(slow.disk()));
    ASSERT_EQ(service.wait_for_result(job, 60s), "ok");
    std::string output = service.get(job, kJob, "OutputPath");
    ASSERT_TRUE(wait_until([&] { return contains(monitor.log(), "member=JobEnded"); }, 10s));
    monitor.stop();
    EXPECT_TRUE(sh("cmp " + quote(output) + " " + quote(image.string())).ok());

    std::map<std::string, std::vector<double>> times;  // per interface
    for (const auto& s : monitor.signals()) {
        if (s.path == job && s.member == "PropertiesChanged") {
            times[s.arg0].push_back(s.time);
        }
    }
    for (const char* iface : {kJob, kTelemetry}) {
        SCOPED_TRACE(iface);
        const std::vector<double>& t = times[iface];
        ASSERT_GT(t.size(), 0u) << monitor.log();
        double span = t.back() - t.front();
        // Whole seconds since the first; the last one is left out, the immediate flush before
        // Completed, which may follow a 4 Hz one closely.
        std::map<long, int> per_second;
        for (std::size_t i = 0; i + 1 < t.size(); ++i) {
            ++per_second[static_cast<long>(t[i] - t.front())];
        }
        int most = 0;
        std::string counts;
        for (const auto& [second, n] : per_second) {
            most = std::max(most, n);
            counts += " " + std::to_string(n);
        }
        int window = 0;  // the most in any 1 s window, the last one included
        for (std::size_t i = 0; i < t.size(); ++i) {
            window = std::max(window,
                              static_cast<int>(std::upper_bound(t.begin(), t.end(), t[i] + 0.999) -
                                               t.begin() - static_cast<std::ptrdiff_t>(i)));
        }
        std::printf(
            "%s: %zu PropertiesChanged over %.2f s, per second:%s (+1 at the end); "
            "most in any 1 s: %d\n",
            iface, t.size(), span, counts.c_str(), window);
        EXPECT_GT(span, 2.0) << "the rip was too short to measure a rate";
        // The daemon flushes at most every 250 ms, however late the loop runs (a late flush is
        // not followed by a catching-up burst), plus the immediate flush at the end. Delivery
        // delays can bunch up what the monitor sees, never add to it: at most 4 per second over
        // the whole span, with a second of slack.
        EXPECT_LE(static_cast<double>(t.size() - 1), 4.0 * span + 4.0);
    }
}

// === 5. a burst of thousands of worker-driven signals all arrives ===

// StartRip for every image, over one connection of this process (a process per call is slow).
void start_rips(const Service& service, const std::vector<fs::path>& images) {
    auto connection = sdbus::createSessionBusConnectionWithAddress(service.address());
    auto manager = sdbus::createProxy(*connection, kName, kRoot);
    for (const fs::path& image : images) {
        sdbus::ObjectPath job;
        manager->callMethod("StartRip")
            .onInterface(kManager)
            .withArguments(image.string(), Options{})
            .storeResultsTo(job);
    }
}

TEST(BusSignals, BurstOfFifteenHundredJobsDeliversEveryJobEnded) {
    constexpr std::size_t jobs = 1500;
    TempDir dir;
    fs::create_directory(dir / "images");
    std::vector<fs::path> images;
    for (std::size_t i = 0; i < jobs; ++i) {
        // Labelled, so that each rip gets a name of its own (see labelled_image).
        std::size_t sectors = 18 + (i * 7919) % 15;  // 36 KiB to 64 KiB
        char label[16];
        std::snprintf(label, sizeof label, "BURST_%04zu", i);
        images.push_back(labelled_image(dir / "images" / (std::string(label) + ".iso"), label,
                                        sectors, 1000 + i));
    }
    // Every ended job stays an object, so nothing is trimmed while the signals go out. The
    // library and the job journal (saved with fsync several times per job) are on tmpfs, so the
    // jobs end as fast as the workers go; on the disk this burst would take about a minute.
    TmpfsDir state;
    Service service(dir, {.config = "[queue]\nmax_parallel = 4\nhistory = 2000\n",
                          .library_dir = state.path() / "library",
                          .state_dir = state.path() / "state"});
    GdbusMonitor monitor(service, dir, "monitor");
    ManagerWatcher watcher(service.address(), false);

    auto started = Clock::now();
    start_rips(service, images);
    double submitted = std::chrono::duration<double>(Clock::now() - started).count();
    bool all = wait_until(
        [&] { return watcher.ended_count() == jobs && monitor.count(".JobEnded (") == jobs; },
        100s);
    double done = std::chrono::duration<double>(Clock::now() - started).count();
    monitor.stop();
    std::size_t monitor_ended = monitor.count(".JobEnded (");
    std::size_t monitor_ok = monitor.count("', 'ok', '");
    std::printf(
        "%zu StartRip calls in %.1f s; JobEnded received: %zu by an sdbus-c++ client, "
        "%zu by gdbus monitor (%zu ok) after %.1f s\n",
        jobs, submitted, watcher.ended_count(), monitor_ended, monitor_ok, done);
    EXPECT_TRUE(all);
    EXPECT_EQ(watcher.added(), jobs);
    EXPECT_EQ(monitor.count(".JobAdded ("), jobs);
    EXPECT_EQ(monitor_ended, jobs);
    EXPECT_EQ(monitor_ok, jobs);
    auto ended = watcher.ended();
    std::set<std::uint64_t> ids;
    std::size_t ok = 0;
    for (const auto& e : ended) {
        ids.insert(e.id);
        ok += e.result == "ok";
    }
    EXPECT_EQ(ids.size(), jobs) << "each job ends once";
    EXPECT_EQ(ok, jobs);
    Shell listed = service.busctl_call(kRoot, kManager, "ListJobs");
    EXPECT_TRUE(listed.output.starts_with("ao " + std::to_string(jobs) + " ")) << "history 2000";
}

// Parallel rips of unlabelled discs started in the same second all want the name
// "disc-DATE-TIME". The queue reserves each chosen name until its rip has created its files, so
// every rip gets its own name and publishes its own disc.
TEST(BusSignals, ParallelRipsOfUnlabelledImagesAllSucceed) {
    constexpr std::size_t jobs = 200;
    TempDir dir;
    std::vector<fs::path> images;
    for (std::size_t i = 0; i < jobs; ++i) {
        images.push_back(make_image(dir / (std::to_string(i) + ".img"), 4 * 2048, 5000 + i));
    }
    TmpfsDir state;
    Service service(dir, {.config = "[queue]\nmax_parallel = 4\nhistory = 1000\n",
                          .library_dir = state.path() / "library",
                          .state_dir = state.path() / "state"});
    ManagerWatcher watcher(service.address(), false);
    start_rips(service, images);
    ASSERT_TRUE(wait_until([&] { return watcher.ended_count() == jobs; }, 60s));
    std::size_t ok = 0;
    for (const auto& e : watcher.ended()) {
        EXPECT_EQ(e.result, "ok") << e.job << ": " << service.get(e.job, kJob, "ResultReason");
        if (e.result == "ok") {
            ++ok;
            // Two rips writing one .part can publish a mix of both discs.
            EXPECT_TRUE(fs::exists(e.output) &&
                        read_file(e.output) == read_file(service.get(e.job, kJob, "Source")))
                << e.job << ": " << e.output
                << (fs::exists(e.output) ? " is not a copy of its disc" : " is gone");
        }
    }
    std::printf("%zu of %zu parallel rips ok\n", ok, jobs);
}

// === 6. bad arguments: named errors, and the daemon keeps serving ===

TEST(BusErrors, BadArgumentsGetNamedErrorsAndTheDaemonKeepsServing) {
    TempDir dir;
    fs::path img = make_image(dir / "disc.img", 32 * 2048, 6);
    fs::path other = make_image(dir / "other.img", 16 * 2048, 7);
    Service service(dir);

    auto error_of = [&](const std::string& source, const std::string& options = "'{}'") {
        return gdbus_error(service.start_rip_gdbus(source, options));
    };
    EXPECT_EQ(error_of(""), "org.freemkv.Rip1.Error.InvalidArgs");
    // A bare name is a drive's: there is no such drive (not "image path not absolute").
    EXPECT_EQ(error_of("disc.img"), "org.freemkv.Rip1.Error.NotFound");
    Shell sr7 = service.start_rip_gdbus("sr7");
    EXPECT_EQ(gdbus_error(sr7), "org.freemkv.Rip1.Error.NotFound");
    EXPECT_TRUE(contains(sr7.output, "no drive named 'sr7'")) << sr7.output;
    EXPECT_EQ(error_of("images/disc.img"), "org.freemkv.Rip1.Error.InvalidArgs");
    // A kernel interface is no image, even where the daemon may read it.
    for (const char* kernel :
         {"/proc/self/mem", "/proc/self/status", "/sys/kernel/uevent_seqnum"}) {
        EXPECT_EQ(error_of(kernel), "org.freemkv.Rip1.Error.InvalidArgs") << kernel;
    }
    EXPECT_EQ(error_of((dir / "no-such.img").string()), "org.freemkv.Rip1.Error.NotFound");
    EXPECT_EQ(error_of("/dev/sda"), "org.freemkv.Rip1.Error.NotFound");
    EXPECT_EQ(error_of(dir.path().string()), "org.freemkv.Rip1.Error.InvalidArgs");
    EXPECT_EQ(error_of(img.string(), quote("{'x': <1>}")), "org.freemkv.Rip1.Error.InvalidArgs");
    // busctl reports them too (with the message; it does not print the name).
    Shell relative = service.busctl_call(kRoot, kManager, "StartRip", "sa{sv} images/disc.img 0");
    EXPECT_FALSE(relative.ok());
    EXPECT_TRUE(contains(relative.output, "is not absolute")) << relative.output;
    Shell options =
        service.busctl_call(kRoot, kManager, "StartRip", "sa{sv} " + img.string() + " 1 x i 1");
    EXPECT_FALSE(options.ok());
    EXPECT_TRUE(contains(options.output, "unknown option 'x'")) << options.output;
    // Not a job.
    Shell nothing = service.gdbus_call(job_path(999), std::string(kJob) + ".Cancel", "'{}'");
    EXPECT_FALSE(nothing.ok()) << nothing.output;
    Shell listed = service.busctl_call(kRoot, kManager, "ListJobs");
    EXPECT_EQ(listed.output, "ao 0\n") << "a refused call queued nothing";

    std::string job = Service::job_of(service.start_rip_gdbus(img.string()));
    ASSERT_EQ(service.wait_for_result(job), "ok");
    Shell cancel = service.gdbus_call(job, std::string(kJob) + ".Cancel", "'{}'");
    EXPECT_EQ(gdbus_error(cancel), "org.freemkv.Rip1.Error.Failed");
    Shell cancel_options =
        service.gdbus_call(job, std::string(kJob) + ".Cancel", quote("{'x': <1>}"));
    EXPECT_EQ(gdbus_error(cancel_options), "org.freemkv.Rip1.Error.InvalidArgs");

    // Still serving.
    ASSERT_TRUE(service.daemon().running());
    std::string next = Service::job_of(service.start_rip_busctl(other));
    EXPECT_EQ(service.wait_for_result(next), "ok");
}

// === images handed over open (StartRipImage) ===

struct Started {
    std::string job;    // the job's path, or "" when the call failed
    std::string error;  // the error's name
    std::string message;
};

// StartRipImage from this process (root), passing `fd`.
Started start_rip_image(const Service& service, int fd, const Options& options = {}) {
    auto connection = sdbus::createSessionBusConnectionWithAddress(service.address());
    auto manager = sdbus::createProxy(*connection, kName, kRoot);
    Started out;
    try {
        sdbus::ObjectPath job;
        manager->callMethod("StartRipImage")
            .onInterface(kManager)
            .withArguments(sdbus::UnixFd(fd), options)
            .storeResultsTo(job);
        out.job = job;
    } catch (const sdbus::Error& e) {
        out.error = e.getName();
        out.message = e.getMessage();
    }
    return out;
}

int open_or_throw(const fs::path& path, int flags) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) {
        throw std::system_error(errno, std::generic_category(), path.string());
    }
    return fd;
}

// The daemon reads through the descriptor only: replacing the path with a FIFO right after
// the call (a re-open by path would hang on it, and the job with it) changes nothing.
TEST(ImageHandedOverOpen, RipsThroughTheDescriptorByteIdentical) {
    TempDir dir;
    fs::path img = make_image(dir / "disc.img", 8 * MiB, 61);
    std::vector<std::byte> bytes = read_file(img);
    Service service(dir);

    int fd = open_or_throw(img, O_RDONLY);
    Started started = start_rip_image(service, fd);
    ::close(fd);
    ASSERT_EQ(started.error, "") << started.message;
    fs::remove(img);
    ASSERT_EQ(::mkfifo(img.c_str(), 0600), 0);

    ASSERT_EQ(service.wait_for_result(started.job), "ok");
    EXPECT_EQ(service.get(started.job, kJob, "Source"), img.string());
    EXPECT_TRUE(read_file(service.get(started.job, kJob, "OutputPath")) == bytes);
}

TEST(ImageHandedOverOpen, WhatIsNoImageIsRefusedAtOnceWithANamedError) {
    TempDir dir;
    fs::path img = make_image(dir / "disc.img", 32 * 2048, 62);
    std::ofstream(dir / "empty.img").close();
    ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
    Service service(dir);

    auto refused = [&](int fd, const Options& options = {}) {
        Started s = start_rip_image(service, fd, options);
        ::close(fd);
        EXPECT_EQ(s.job, "");
        return s;
    };
    // Nobody writes to the FIFO: a read from it would block for ever, so it is never read.
    Started fifo = refused(open_or_throw(dir / "fifo", O_RDONLY | O_NONBLOCK));
    EXPECT_EQ(fifo.error, "org.freemkv.Rip1.Error.InvalidArgs");
    EXPECT_TRUE(contains(fifo.message, "pipe")) << fifo.message;
    Started write_only = refused(open_or_throw(img, O_WRONLY));
    EXPECT_EQ(write_only.error, "org.freemkv.Rip1.Error.NotAuthorized");
    EXPECT_TRUE(contains(write_only.message, "not opened for reading")) << write_only.message;
    Started proc = refused(open_or_throw("/proc/self/status", O_RDONLY));
    EXPECT_EQ(proc.error, "org.freemkv.Rip1.Error.InvalidArgs");
    Started null = refused(open_or_throw("/dev/null", O_RDONLY));
    EXPECT_EQ(null.error, "org.freemkv.Rip1.Error.InvalidArgs");
    Started empty = refused(open_or_throw(dir / "empty.img", O_RDONLY));
    EXPECT_EQ(empty.error, "org.freemkv.Rip1.Error.InvalidArgs");
    Started option = refused(open_or_throw(img, O_RDONLY), Options{{"x", sdbus::Variant(1)}});
    EXPECT_EQ(option.error, "org.freemkv.Rip1.Error.InvalidArgs");

    Shell listed = service.busctl_call(kRoot, kManager, "ListJobs");
    EXPECT_EQ(listed.output, "ao 0\n") << "a refused call queued nothing";
    int fd = open_or_throw(img, O_RDONLY);
    Started ok = start_rip_image(service, fd);
    ::close(fd);
    ASSERT_EQ(ok.error, "") << ok.message;
    EXPECT_EQ(service.wait_for_result(ok.job), "ok");
}

// === blocking work is not the loop's: a hung path lookup holds up only its own call ===

// A faultfs whose "disk" cannot be looked up while `gate` exists: whoever stats it waits there,
// and faultfs logs "gate" when it does.
struct GatedDisk {
    explicit GatedDisk(const TempDir& dir, const std::string& name, std::uint64_t seed)
        : gate(dir / (name + ".gate")),
          log(dir / (name + ".log")),
          image(make_image(dir / (name + ".img"), 64 * 2048, seed)),
          fs(image, "--read-only --stat-gate " + gate.string() + " --log " + log.string(), name) {
        std::ofstream(gate).close();
    }
    ~GatedDisk() { open(); }
    void open() {
        std::error_code ec;
        fs::remove(gate, ec);
    }
    // Someone is waiting at the gate.
    bool waited() const {
        std::ifstream in(log);
        std::string line;
        while (std::getline(in, line)) {
            if (line.starts_with("gate ")) {
                return true;
            }
        }
        return false;
    }

    fs::path gate, log, image;
    FaultFs fs;
};

// Calls `method` on the Manager from a thread of its own (a connection of its own); done is set
// when the reply (or an error) is in.
struct PendingCall {
    PendingCall(const Service& service, const std::string& method,
                std::function<void(sdbus::IProxy&)> call)
        : thread([&service, method, call, this] {
              auto connection = sdbus::createSessionBusConnectionWithAddress(service.address());
              auto manager = sdbus::createProxy(*connection, kName, kRoot);
              try {
                  call(*manager);
              } catch (const sdbus::Error& e) {
                  error = e.getName() + ": " + e.getMessage();
              }
              done = true;
          }) {}
    ~PendingCall() { thread.join(); }

    std::atomic<bool> done = false;
    std::string error;
    std::thread thread;
};

// Answered while the slow call is still pending: the loop did not wait for it.
void expect_loop_answers_while(const Service& service, const PendingCall& slow) {
    Shell queue_length = service.busctl("--timeout=30 get-property " + std::string(kName) + " " +
                                        kRoot + " " + kManager + " QueueLength");
    EXPECT_TRUE(queue_length.ok()) << queue_length.output;
    EXPECT_FALSE(slow.done) << "the slow call ended before the gate opened";
}

TEST(BusLoop, AStartRipWhosePathHangsHoldsUpNoOtherCall) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    GatedDisk gated(dir, "gated", 71);
    Service service(dir);

    std::string job;
    PendingCall start(service, "StartRip", [&](sdbus::IProxy& manager) {
        sdbus::ObjectPath path;
        manager.callMethod("StartRip")
            .onInterface(kManager)
            .withArguments(gated.fs.disk().string(), Options{})
            .storeResultsTo(path);
        job = path;
    });
    ASSERT_TRUE(wait_until([&] { return gated.waited(); }, 60s)) << "StartRip never looked";
    expect_loop_answers_while(service, start);
    gated.open();
    ASSERT_TRUE(wait_until([&] { return start.done.load(); }, 60s));
    ASSERT_EQ(start.error, "");
    EXPECT_EQ(service.wait_for_result(job), "ok");
}

TEST(BusLoop, AReloadWhoseLibraryHangsHoldsUpNoOtherCall) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    GatedDisk gated(dir, "gated", 72);
    Service service(dir);
    // The new library is below the gated file: creating it stats the file first.
    fs::path config = dir / "freemkvd.toml";
    std::string text = slurp(config);
    std::ofstream(config) << std::regex_replace(
        text, std::regex(R"(\[library\]\npath = "[^"]*")"),
        "[library]\npath = \"" + (gated.fs.disk() / "library").string() + "\"");

    PendingCall reload(service, "Reload", [](sdbus::IProxy& manager) {
        manager.callMethod("Reload").onInterface(kManager);
    });
    ASSERT_TRUE(wait_until([&] { return gated.waited(); }, 60s)) << "Reload never looked";
    expect_loop_answers_while(service, reload);
    gated.open();
    ASSERT_TRUE(wait_until([&] { return reload.done.load(); }, 60s));
    // Not a directory: the configuration stays as it was.
    EXPECT_TRUE(contains(reload.error, "org.freemkv.Rip1.Error.Failed")) << reload.error;
    EXPECT_EQ(service.get(kRoot, kManager, "LibraryPath"), service.library().string());
}

// A rip that takes long enough to be cancelled or collided with: the image file on faultfs.
constexpr const char* kSlow = "--read-bps 8000000 --read-only";

TEST(BusErrors, CancelAndBusyWhileQueuedOrRunning) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    fs::path slow_image = make_image(dir / "slow.img", 64 * MiB, 8);  // 8 s at 8 MB/s
    fs::path small = make_image(dir / "small.img", 64 * 2048, 9);
    FaultFs slow(slow_image, kSlow);
    Service service(dir, {.config = "[queue]\nmax_parallel = 1\n"});

    std::string running = Service::job_of(service.start_rip_busctl(slow.disk()));
    ASSERT_TRUE(wait_until([&] { return service.get(running, kJob, "State") == "running"; }, 10s));
    std::string queued = Service::job_of(service.start_rip_gdbus(small.string()));
    EXPECT_EQ(service.get(queued, kJob, "State"), "queued");
    EXPECT_EQ(service.get(kRoot, kManager, "RunningJobs"), "1");

    // The same source again, while running and while queued.
    EXPECT_EQ(gdbus_error(service.start_rip_gdbus(slow.disk().string())),
              "org.freemkv.Rip1.Error.Busy");
    EXPECT_EQ(gdbus_error(service.start_rip_gdbus(small.string())), "org.freemkv.Rip1.Error.Busy");
    Shell busy_b = service.start_rip_busctl(small);
    EXPECT_FALSE(busy_b.ok());
    EXPECT_TRUE(contains(busy_b.output, "already has job")) << busy_b.output;

    // Cancel the queued one with gdbus, the running one with busctl.
    Shell cancel_g = service.gdbus_call(queued, std::string(kJob) + ".Cancel", "'{}'");
    EXPECT_TRUE(cancel_g.ok()) << cancel_g.output;
    EXPECT_EQ(service.wait_for_result(queued, 5s), "cancelled");
    EXPECT_EQ(service.get(queued, kJob, "State"), "cancelled");
    Shell cancel_b = service.busctl_call(running, kJob, "Cancel", "a{sv} 0");
    EXPECT_TRUE(cancel_b.ok()) << cancel_b.output;
    EXPECT_EQ(service.wait_for_result(running, 10s), "cancelled");
    EXPECT_EQ(service.get(running, kJob, "State"), "cancelled");
    EXPECT_EQ(service.get(running, kJob, "Resumable"), "true");
    EXPECT_EQ(service.get(running, kJob, "Cancelable"), "false");
    EXPECT_EQ(gdbus_error(service.gdbus_call(running, std::string(kJob) + ".Cancel", "'{}'")),
              "org.freemkv.Rip1.Error.Failed");

    // Both sources are free again.
    std::string again = Service::job_of(service.start_rip_gdbus(small.string()));
    EXPECT_EQ(service.wait_for_result(again), "ok");
}

// An ended job's progress properties are final, not the last report's, and clients that follow
// PropertiesChanged hear it.
TEST(BusApi, AnEndedJobsProgressRateAndPhaseAreFinal) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    fs::path image = make_image(dir / "slow.img", 24 * MiB, 31);
    FaultFs slow(image, "--read-bps 16000000 --read-only");
    Service service(dir);
    GdbusMonitor monitor(service, dir, "monitor");
    std::string job = Service::job_of(service.start_rip_busctl(slow.disk()));
    ASSERT_TRUE(wait_until([&] { return service.get(job, kJob, "Rate") != "0"; }, 20s));
    ASSERT_EQ(service.wait_for_result(job), "ok");
    EXPECT_EQ(service.get(job, kJob, "Progress"), "1");
    EXPECT_EQ(service.get(job, kJob, "Rate"), "0");
    EXPECT_EQ(service.get(job, kJob, "Phase"), "");
    std::string done_line;
    ASSERT_TRUE(wait_until(
        [&] {
            for (const std::string& l : lines_of(monitor.log())) {
                if (l.starts_with(job + ": " + kProperties + ".PropertiesChanged") &&
                    contains(l, "'State': <'done'>")) {
                    done_line = l;
                }
            }
            return !done_line.empty();
        },
        10s))
        << monitor.log();
    EXPECT_TRUE(contains(done_line, "'Progress': <1.0>")) << done_line;
    EXPECT_TRUE(contains(done_line, "'Rate': <0.0>")) << done_line;
    EXPECT_TRUE(contains(done_line, "'Phase': <''>")) << done_line;
}

// A cancelled rip published nothing: OutputPath and JobEnded's output are empty, and the kept
// .part is PartialPath.
TEST(BusApi, ACancelledJobHasNoOutputAndNamesItsPartialFile) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    fs::path image = make_image(dir / "slow.img", 64 * MiB, 32);
    FaultFs slow(image, kSlow);
    Service service(dir);
    ManagerWatcher watcher(service.address(), false);
    std::string job = Service::job_of(service.start_rip_busctl(slow.disk()));
    ASSERT_TRUE(
        wait_until([&] { return std::stoull(service.get(job, kJob, "BytesDone")) > 0; }, 20s));
    std::string planned = service.get(job, kJob, "OutputPath");
    EXPECT_FALSE(planned.empty());
    ASSERT_TRUE(service.busctl_call(job, kJob, "Cancel", "a{sv} 0").ok());
    ASSERT_EQ(service.wait_for_result(job), "cancelled");
    EXPECT_EQ(service.get(job, kJob, "OutputPath"), "");
    EXPECT_EQ(service.get(job, kJob, "PartialPath"), planned + ".part");
    EXPECT_TRUE(fs::exists(planned + ".part"));
    EXPECT_FALSE(fs::exists(planned));
    ASSERT_TRUE(wait_until([&] { return watcher.ended_count() == 1; }, 10s));
    EXPECT_EQ(watcher.ended().at(0).output, "");
}

// Properties that never change are flagged const, not emits-change.
TEST(BusApi, ConstantJobPropertiesAreFlaggedConst) {
    TempDir dir;
    fs::path img = make_image(dir / "disc.img", 1 * MiB, 33);
    Service service(dir);
    std::string job = Service::job_of(service.start_rip_busctl(img));
    ASSERT_EQ(service.wait_for_result(job), "ok");
    Shell r = service.busctl("introspect " + std::string(kName) + " " + job + " " + kJob);
    ASSERT_TRUE(r.ok()) << r.output;
    auto flags_of = [&](const std::string& name) {
        for (const std::string& l : lines_of(r.output)) {
            if (l.starts_with("." + name + " ")) {
                return l;
            }
        }
        return std::string("(no ") + name + ")";
    };
    for (const char* name : {"Id", "Source", "Drive", "StartedByUid"}) {
        EXPECT_TRUE(contains(flags_of(name), "const")) << flags_of(name);
        EXPECT_FALSE(contains(flags_of(name), "emits-change")) << flags_of(name);
    }
    EXPECT_TRUE(contains(flags_of("State"), "emits-change")) << flags_of("State");
}

// === 7. a system-like bus with the shipped policy ===

TEST(SystemBus, ShippedPolicyLetsEveryoneReadButOnlyPrivilegedUsersRip) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    fs::permissions(dir.path(), fs::perms(0755));  // the socket, for nobody
    fs::path img = make_image(dir / "disc.img", 32 * 2048, 10);
    fs::permissions(img, fs::perms(0644));
    Service service(dir, {.system_bus_config = write_system_bus_config(dir)});

    // Root may rip.
    std::string job = Service::job_of(service.start_rip_busctl(img));
    ASSERT_EQ(service.wait_for_result(job), "ok");

    // Anyone may read.
    Shell version = service.busctl(
        "get-property " + std::string(kName) + " " + kRoot + " " + kManager + " Version", kNobody);
    EXPECT_TRUE(version.ok()) << version.output;
    Shell result = service.gdbus_call(job, std::string(kProperties) + ".Get",
                                      gvariant(kJob) + " " + gvariant("Result"), kNobody);
    EXPECT_EQ(result.output, "(<'ok'>,)\n");
    Shell all =
        service.gdbus_call(job, std::string(kProperties) + ".GetAll", gvariant(kJob), kNobody);
    EXPECT_TRUE(contains(all.output, "'State': <'done'>")) << all.output;
    Shell jobs_b = service.busctl_call(kRoot, kManager, "ListJobs", "", kNobody);
    EXPECT_EQ(jobs_b.output, "ao 1 \"" + job + "\"\n");
    Shell jobs_g = service.gdbus_call(kRoot, std::string(kManager) + ".ListJobs", "", kNobody);
    EXPECT_EQ(jobs_g.output, "([objectpath '" + job + "'],)\n");
    Shell drives = service.busctl_call(kRoot, kManager, "ListDrives", "", kNobody);
    EXPECT_TRUE(drives.ok()) << drives.output;
    Shell managed = service.gdbus_call(
        kRoot, "org.freedesktop.DBus.ObjectManager.GetManagedObjects", "", kNobody);
    EXPECT_TRUE(contains(managed.output, job)) << managed.output;
    Shell introspect = service.busctl("introspect " + std::string(kName) + " " + job, kNobody);
    EXPECT_TRUE(contains(introspect.output, ".Cancel")) << introspect.output;

    // Only root, the service user and the freemkv group may start, cancel and reload.
    const std::string denied = "org.freedesktop.DBus.Error.AccessDenied";
    EXPECT_EQ(gdbus_error(service.start_rip_gdbus(img.string(), "'{}'", kNobody)), denied);
    Shell start_b = service.start_rip_busctl(img, kNobody);
    EXPECT_FALSE(start_b.ok());
    EXPECT_TRUE(contains(start_b.output, "Access denied")) << start_b.output;
    EXPECT_EQ(gdbus_error(service.gdbus_call(job, std::string(kJob) + ".Cancel", "'{}'", kNobody)),
              denied);
    Shell cancel_b = service.busctl_call(job, kJob, "Cancel", "a{sv} 0", kNobody);
    EXPECT_FALSE(cancel_b.ok());
    EXPECT_TRUE(contains(cancel_b.output, "Access denied")) << cancel_b.output;
    EXPECT_EQ(
        gdbus_error(service.gdbus_call(kRoot, std::string(kManager) + ".Reload", "", kNobody)),
        denied);
    // Nor may anyone else own the name.
    Shell own = sh(service.shell_env() + " " + kNobody +
                   " gdbus call --system --dest org.freedesktop.DBus --object-path "
                   "/org/freedesktop/DBus --method org.freedesktop.DBus.RequestName " +
                   gvariant(kName) + " 0");
    EXPECT_EQ(gdbus_error(own), denied);

    Shell listed = service.busctl_call(kRoot, kManager, "ListJobs");
    EXPECT_EQ(listed.output, "ao 1 \"" + job + "\"\n") << "nothing was started";
}

// A user the bus lets call Cancel may cancel their own jobs, not another user's; root may
// cancel any.
TEST(SystemBus, OnlyRootOrTheStarterMayCancelAJob) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    fs::permissions(dir.path(), fs::perms(0755));
    fs::path slow_image = make_image(dir / "slow.img", 64 * MiB, 16);
    fs::path small = make_image(dir / "small.img", 64 * 2048, 17);
    fs::permissions(small, fs::perms(0644));
    FaultFs slow(slow_image, kSlow);
    // nobody names small.img by path: inside an import folder
    Service service(dir,
                    {.config = "[queue]\nmax_parallel = 1\n[images]\nimport_folders = [\"" +
                               dir.path().string() + "\"]\n",
                     .system_bus_config = write_system_bus_config(dir, R"(  <policy user="nobody">
    <allow send_destination="org.freemkv.Rip1" send_interface="org.freemkv.Rip1.Manager"
           send_member="StartRip"/>
    <allow send_destination="org.freemkv.Rip1" send_interface="org.freemkv.Rip1.Job"
           send_member="Cancel"/>
  </policy>
)")});
    std::string roots = Service::job_of(service.start_rip_busctl(slow.disk()));
    ASSERT_TRUE(wait_until([&] { return service.get(roots, kJob, "State") == "running"; }, 10s));
    std::string nobodys = Service::job_of(service.start_rip_gdbus(small.string(), "'{}'", kNobody));
    EXPECT_EQ(service.get(nobodys, kJob, "State"), "queued");

    Shell refused = service.gdbus_call(roots, std::string(kJob) + ".Cancel", "'{}'", kNobody);
    EXPECT_EQ(gdbus_error(refused), "org.freemkv.Rip1.Error.NotAuthorized");
    Shell refused_b = service.busctl_call(roots, kJob, "Cancel", "a{sv} 0", kNobody);
    EXPECT_FALSE(refused_b.ok());
    EXPECT_EQ(service.get(roots, kJob, "State"), "running");

    Shell own = service.gdbus_call(nobodys, std::string(kJob) + ".Cancel", "'{}'", kNobody);
    EXPECT_TRUE(own.ok()) << own.output;
    EXPECT_EQ(service.wait_for_result(nobodys, 10s), "cancelled");

    Shell by_root = service.busctl_call(roots, kJob, "Cancel", "a{sv} 0");
    EXPECT_TRUE(by_root.ok()) << by_root.output;
    EXPECT_EQ(service.wait_for_result(roots, 10s), "cancelled");
}

// The admin group ("freemkv") for one test, created if the machine has none and removed again,
// also when the test fails.
class AdminGroup {
  public:
    AdminGroup() {
        if (::getgrnam("freemkv") == nullptr) {
            created_ = sh("groupadd --system freemkv").ok();
        }
        if (const group* g = ::getgrnam("freemkv")) {
            gid_ = g->gr_gid;
        }
    }
    ~AdminGroup() {
        if (created_) {
            sh("groupdel freemkv");
        }
    }
    AdminGroup(const AdminGroup&) = delete;
    AdminGroup& operator=(const AdminGroup&) = delete;
    std::optional<gid_t> gid() const { return gid_; }

  private:
    bool created_ = false;
    std::optional<gid_t> gid_;
};

// Membership of the admin group comes from the caller's credentials (the groups the kernel gave
// its process, through the bus), not from the user database: "nobody" holding the group only in
// its process may cancel root's job; without it, not.
TEST(SystemBus, TheAdminGroupInTheCallersCredentialsMayCancelAnyJob) {
    FREEMKV_REQUIRE_ROOT();
    AdminGroup admin;
    ASSERT_TRUE(admin.gid()) << "cannot create the group freemkv";
    TempDir dir;
    fs::permissions(dir.path(), fs::perms(0755));
    fs::path slow_image = make_image(dir / "slow.img", 64 * MiB, 18);
    FaultFs slow(slow_image, kSlow);
    Service service(dir,
                    {.system_bus_config = write_system_bus_config(dir, R"(  <policy user="nobody">
    <allow send_destination="org.freemkv.Rip1" send_interface="org.freemkv.Rip1.Job"
           send_member="Cancel"/>
  </policy>
)")});
    std::string roots = Service::job_of(service.start_rip_busctl(slow.disk()));
    ASSERT_TRUE(wait_until([&] { return service.get(roots, kJob, "State") == "running"; }, 10s));

    Shell outsider = service.gdbus_call(roots, std::string(kJob) + ".Cancel", "'{}'", kNobody);
    EXPECT_EQ(gdbus_error(outsider), "org.freemkv.Rip1.Error.NotAuthorized");
    EXPECT_EQ(service.get(roots, kJob, "State"), "running");

    std::string member =
        "setpriv --reuid=nobody --regid=nogroup --groups=" + std::to_string(*admin.gid());
    Shell by_member = service.gdbus_call(roots, std::string(kJob) + ".Cancel", "'{}'", member);
    EXPECT_TRUE(by_member.ok()) << by_member.output;
    EXPECT_EQ(service.wait_for_result(roots, 10s), "cancelled");
}

// The daemon reads a path with its own rights, so on the system bus only root names one, or
// anyone allowed to rip names one inside an import folder; everyone else hands it over open.
TEST(SystemBus, ImagePathsOnlyFromRootOrInsideAnImportFolder) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    fs::permissions(dir.path(), fs::perms(0755));
    for (const char* sub : {"images", "import"}) {
        fs::create_directory(dir / sub);
        fs::permissions(dir / sub, fs::perms(0755));
    }
    fs::path outside = make_image(dir / "images" / "outside.img", 32 * 2048, 11);
    fs::path inside = make_image(dir / "import" / "inside.img", 48 * 2048, 12);
    for (const fs::path& p : {outside, inside}) {
        fs::permissions(p, fs::perms(0644));
    }
    fs::create_symlink(outside, dir / "import" / "link.img");
    // For this test only: nobody may call StartRip.
    Service service(
        dir, {.config = "[images]\nimport_folders = [\"" + (dir / "import").string() + "\"]\n",
              .system_bus_config = write_system_bus_config(dir, R"(  <policy user="nobody">
    <allow send_destination="org.freemkv.Rip1" send_interface="org.freemkv.Rip1.Manager"
           send_member="StartRip"/>
  </policy>
)")});

    for (const fs::path& p :
         {outside, dir / "import" / "link.img", dir / "import" / ".." / "images" / "outside.img",
          dir / "images" / "missing.img"}) {
        Shell refused = service.start_rip_gdbus(p.string(), "'{}'", kNobody);
        EXPECT_EQ(gdbus_error(refused), "org.freemkv.Rip1.Error.NotAuthorized") << p;
        EXPECT_TRUE(contains(refused.output, "import folder")) << refused.output;
    }

    std::string job = Service::job_of(service.start_rip_gdbus(inside.string(), "'{}'", kNobody));
    EXPECT_EQ(service.get(job, kJob, "StartedByUid"), "65534");
    ASSERT_EQ(service.wait_for_result(job), "ok");
    EXPECT_TRUE(read_file(service.get(job, kJob, "OutputPath")) == read_file(inside));

    // Root may name any path.
    std::string root_job = Service::job_of(service.start_rip_busctl(outside));
    EXPECT_EQ(service.wait_for_result(root_job), "ok");
}

TEST(SystemBus, CallersUidComesFromTheBusEvenWhenTheDaemonCannotSeeTheirProcesses) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    fs::path img = make_image(dir / "disc.img", 32 * 2048, 13);
    fs::path img2 = make_image(dir / "disc2.img", 48 * 2048, 15);
    for (const fs::path& p : {img, img2}) {
        fs::permissions(p, fs::perms(0644));
    }
    Service service(dir, as_nobody(dir, true));
    std::string pid = std::to_string(service.daemon().pid());
    ASSERT_TRUE(contains(slurp("/proc/" + pid + "/status"), "Uid:\t65534\t"));
    ASSERT_TRUE(contains(slurp("/proc/" + pid + "/mountinfo"), "hidepid=invisible"));

    std::string root_job = Service::job_of(service.start_rip_busctl(img));
    EXPECT_EQ(service.get(root_job, kJob, "StartedByUid"), "0");
    ASSERT_EQ(service.wait_for_result(root_job), "ok");

    // Handed over open (a path is root's only, here).
    Shell ctl_rip = sh(service.shell_env() + " " + kDaemonUser + " " FREEMKV_CTL " --system rip " +
                       quote(img2.string()));
    ASSERT_TRUE(ctl_rip.ok()) << ctl_rip.output;
    std::string daemon_job = ctl_rip.output.substr(0, ctl_rip.output.find('\n'));
    EXPECT_EQ(service.get(daemon_job, kJob, "StartedByUid"), "1");
    EXPECT_EQ(service.wait_for_result(daemon_job), "ok");
}

TEST(SystemBus, StartRipTellsAnImageItMayNotReachFromAMissingOne) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    fs::create_directory(dir / "private");
    fs::permissions(dir / "private", fs::perms(0700));
    fs::path hidden = make_image(dir / "private" / "disc.img", 32 * 2048, 14);
    Service service(dir, as_nobody(dir, false));

    // Root may read it, but the daemon (nobody) may not enter the directory.
    Shell forbidden = service.start_rip_gdbus(hidden.string());
    EXPECT_EQ(gdbus_error(forbidden), "org.freemkv.Rip1.Error.NotAuthorized");
    EXPECT_TRUE(contains(forbidden.output, hidden.string())) << forbidden.output;

    Shell missing = service.start_rip_gdbus((dir / "missing.img").string());
    EXPECT_EQ(gdbus_error(missing), "org.freemkv.Rip1.Error.NotFound");
    // Not root, and no import folder: a path is not the daemon user's to name at all.
    Shell missing_for_daemon =
        service.start_rip_gdbus((dir / "missing.img").string(), "'{}'", kDaemonUser);
    EXPECT_EQ(gdbus_error(missing_for_daemon), "org.freemkv.Rip1.Error.NotAuthorized");
}

// The Debian 12 home: a 0700 directory that the daemon's user cannot enter. Its owner opens the
// image (freemkvctl rip does) and the daemon reads it through that descriptor.
TEST(SystemBus, AnImageInAPrivateHomeHandedOverOpenIsRippedByteIdentical) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    fs::path home = dir / "home";
    fs::create_directory(home);
    fs::path img = make_image(home / "disc.img", 4 * MiB, 63);
    for (const fs::path& p : {home, img}) {
        if (::chown(p.c_str(), 1, 1) != 0) {  // the user "daemon", our caller
            throw std::system_error(errno, std::generic_category(), "chown");
        }
    }
    fs::permissions(home, fs::perms(0700));
    fs::permissions(img, fs::perms(0600));
    Service service(dir, as_nobody(dir, true));

    Shell by_path = service.start_rip_gdbus(img.string(), "'{}'", kDaemonUser);
    EXPECT_EQ(gdbus_error(by_path), "org.freemkv.Rip1.Error.NotAuthorized");

    // The caller opens it: as themselves, inside their shell (not as root).
    Shell rip = sh(service.shell_env() + " " + kDaemonUser +
                   " " FREEMKV_CTL " --system rip --wait " + quote(img.string()));
    ASSERT_EQ(rip.status, 0) << rip.output;
    std::string job = rip.output.substr(0, rip.output.find('\n'));
    EXPECT_EQ(service.get(job, kJob, "StartedByUid"), "1");
    EXPECT_EQ(service.get(job, kJob, "Result"), "ok");
    EXPECT_TRUE(read_file(service.get(job, kJob, "OutputPath")) == read_file(img));

    // Nor can anyone hand over what they cannot open: nobody may not.
    Shell nobody = sh(service.shell_env() + " " + kNobody + " " FREEMKV_CTL " --system rip " +
                      quote(img.string()));
    EXPECT_FALSE(nobody.ok());
    EXPECT_TRUE(contains(nobody.output, "Permission denied")) << nobody.output;
}

}  // namespace
}  // namespace freemkv

// === freemkvctl, the client, against the real daemon ===

namespace freemkv {
namespace {

Shell ctl(const Service& service, const std::string& args) {
    return sh(service.shell_env() + " " FREEMKV_CTL " --user " + args);
}

TEST(Freemkvctl, RipWaitJobsStatusAndCancel) {
    TempDir dir;
    fs::path img = make_image(dir / "ctl.img", 4 * MiB, 41);
    fs::path big = make_image(dir / "big.img", 64 * MiB, 42);
    Service service(dir, {.config = "[queue]\nmax_parallel = 1\n"});

    Shell rip = ctl(service, "rip --wait " + img.string());
    ASSERT_EQ(rip.status, 0) << rip.output;
    Shell jobs = ctl(service, "--json jobs");
    ASSERT_TRUE(jobs.ok()) << jobs.output;
    EXPECT_NE(jobs.output.find("\"ok\""), std::string::npos) << jobs.output;
    EXPECT_NE(jobs.output.find(service.library().string()), std::string::npos) << jobs.output;

    Shell status = ctl(service, "status");
    ASSERT_TRUE(status.ok()) << status.output;
    EXPECT_NE(status.output.find(service.library().string()), std::string::npos) << status.output;

    // A queued job behind a running one, cancelled by id: the job ends cancelled.
    Shell first = ctl(service, "rip " + big.string());
    Shell second = ctl(service, "--json rip " + img.string());
    ASSERT_TRUE(first.ok() && second.ok()) << first.output << second.output;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(second.output, m, std::regex(R"re("job":\s*"([^"]+)")re")))
        << second.output;
    std::string job = m[1];
    Shell cancel = ctl(service, "cancel " + job.substr(job.rfind('/') + 1));
    EXPECT_TRUE(cancel.ok()) << cancel.output;
    EXPECT_EQ(service.wait_for_result(job), "cancelled");

    // Errors come back named, with the documented status.
    Shell missing = ctl(service, "cancel 999");
    EXPECT_EQ(missing.status, 4) << missing.output;
    EXPECT_NE(missing.output.find("org.freemkv.Rip1.Error.NotFound"), std::string::npos)
        << missing.output;
    Shell bad = ctl(service, "rip --wait " + (dir / "nothing.img").string());
    EXPECT_EQ(bad.status, 4) << bad.output;
}

// With no history, an ended job's object goes away; cancelling a queued job from its own
// Cancel() handler must not destroy that object while the handler runs.
TEST(Freemkvctl, CancelWithoutHistoryKeepsTheDaemonServing) {
    TempDir dir;
    fs::path big = make_image(dir / "big.img", 64 * MiB, 44);
    fs::path small = make_image(dir / "small.img", 1 * MiB, 45);
    Service service(dir, {.config = "[queue]\nmax_parallel = 1\nhistory = 0\n"});
    ASSERT_TRUE(ctl(service, "rip " + big.string()).ok());
    Shell queued = ctl(service, "--json rip " + small.string());
    std::smatch m;
    ASSERT_TRUE(std::regex_search(queued.output, m, std::regex(R"re("id":\s*([0-9]+))re")))
        << queued.output;
    Shell cancel = ctl(service, "cancel " + std::string(m[1]));
    EXPECT_TRUE(cancel.ok()) << cancel.output;
    EXPECT_TRUE(service.daemon().running());
    EXPECT_TRUE(ctl(service, "status").ok());
}

TEST(Freemkvctl, WaitAndWatchEndWithTheJobsResult) {
    TempDir dir;
    fs::path odd = dir / "odd.img";
    write_file(odd, random_bytes(2048 * 8 + 100, 43));  // not whole sectors: the rip fails
    Service service(dir);
    Shell rip = ctl(service, "rip --wait " + odd.string());
    EXPECT_EQ(rip.status, 1) << rip.output;
    EXPECT_NE(rip.output.find("failed"), std::string::npos) << rip.output;
    Shell watch = ctl(service, "watch 1");
    EXPECT_EQ(watch.status, 1) << "a watched job that failed: " << watch.output;
}

}  // namespace

// === text from a disc reaches clients as UTF-8 without control characters ===

namespace {

// Valid UTF-8 without C0, DEL or C1 controls; decoded here, not with the daemon's helper.
bool clean_utf8(std::string_view s) {
    static constexpr char32_t least[] = {0, 0x80, 0x800, 0x10000};
    for (std::size_t i = 0; i < s.size();) {
        auto b = static_cast<unsigned char>(s[i]);
        int more = b < 0x80             ? 0
                   : (b & 0xe0) == 0xc0 ? 1
                   : (b & 0xf0) == 0xe0 ? 2
                   : (b & 0xf8) == 0xf0 ? 3
                                        : -1;
        if (more < 0 || i + static_cast<std::size_t>(more) >= s.size()) {
            return false;
        }
        char32_t cp = more == 0 ? b : b & (0x3fu >> more);
        for (int k = 1; k <= more; ++k) {
            auto c = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
            if ((c & 0xc0) != 0x80) {
                return false;
            }
            cp = cp << 6 | (c & 0x3fu);
        }
        if (cp < least[more] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp < 0x20 ||
            (cp >= 0x7f && cp <= 0x9f)) {
            return false;
        }
        i += static_cast<std::size_t>(more) + 1;
    }
    return true;
}

// A label in Latin-1 with a terminal escape, a newline and a byte that is never UTF-8 (ISO 9660
// labels are raw bytes; blkid passes them on). It used to make every property read and signal of
// the job fail: no Completed or JobEnded, GetManagedObjects failing for everyone.
TEST(BusText, LabelThatIsNotUtf8ReachesClientsCleaned) {
    TempDir dir;
    fs::path img = labelled_image(dir / "latin1.iso", "CAF\xE9 \x1b[31mRED\nX\xFF", 64, 46);
    Service service(dir);
    ManagerWatcher watcher(service.address(), false);

    std::string job = Service::job_of(service.start_rip_busctl(img));
    ASSERT_TRUE(wait_until([&] { return watcher.ended_count() == 1; }, 30s))
        << "no JobEnded\n"
        << service.daemon().output();
    EXPECT_EQ(watcher.ended().at(0).result, "ok");

    Shell objects =
        service.busctl_call(kRoot, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects");
    ASSERT_TRUE(objects.ok()) << objects.output;
    EXPECT_TRUE(contains(objects.output, job)) << objects.output;

    auto connection = sdbus::createSessionBusConnectionWithAddress(service.address());
    auto proxy = sdbus::createProxy(*connection, kName, job);
    std::string label = proxy->getProperty("DiscLabel").onInterface(kJob).get<std::string>();
    EXPECT_EQ(label, "CAF\uFFFD \uFFFD[31mRED X\uFFFD");
    std::map<std::string, sdbus::Variant> props;
    proxy->callMethod("GetAll").onInterface(kProperties).withArguments(kJob).storeResultsTo(props);
    for (const auto& [name, value] : props) {
        if (value.containsValueOfType<std::string>()) {
            EXPECT_TRUE(clean_utf8(value.get<std::string>())) << name;
        }
    }

    Shell jobs = ctl(service, "jobs");
    ASSERT_TRUE(jobs.ok()) << jobs.output;
    EXPECT_FALSE(contains(jobs.output, "\x1b")) << jobs.output;
    auto lines = lines_of(jobs.output);
    // One row, the label on it as on the bus.
    EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                            [&](const std::string& l) { return contains(l, label); }),
              1)
        << jobs.output;
    for (const std::string& line : lines) {
        EXPECT_TRUE(clean_utf8(line)) << line;
    }
    // The columns line up in characters, not bytes (U+FFFD is three bytes, one column).
    auto column = [](const std::string& line, const std::string& part) {
        std::string before = line.substr(0, line.find(part));
        return std::count_if(before.begin(), before.end(),
                             [](char c) { return (static_cast<unsigned char>(c) & 0xc0) != 0x80; });
    };
    std::string output = proxy->getProperty("OutputPath").onInterface(kJob).get<std::string>();
    ASSERT_EQ(lines.size(), 2u) << jobs.output;
    EXPECT_EQ(column(lines[0], "OUTPUT/RESULT"), column(lines[1], output)) << jobs.output;

    std::string log = service.daemon().output();
    EXPECT_FALSE(contains(log, "timer failed") || contains(log, "task failed")) << log;
}

}  // namespace
}  // namespace freemkv
