// freemkvd: the ripping daemon.
//
//   freemkvd [--system|--user] [--config FILE]  serve org.freemkv.Rip1 on the bus (the daemon);
//                                               SIGHUP re-reads FILE, SIGTERM stops (exit 0)
//   freemkvd --check-config FILE                validate a configuration file and exit
//   freemkvd --help-config                      list every configuration key and exit
//   freemkvd [--config FILE] rip SOURCE...      rip discs or images in the foreground
//
// Exit status: 0 ok (every rip ok, possibly with unreadable sectors), 1 a rip failed or was
// cancelled, or the service failed, 2 bad usage or configuration.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include "config.hpp"
#include "job_queue.hpp"
#include "logging.hpp"
#include "mkv_extractor.hpp"
#include "service.hpp"

using namespace freemkv;

namespace {

constexpr int exit_failed = 1;
constexpr int exit_usage = 2;

std::string mib(std::uint64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
    return buf;
}

// Prints one progress line per update (overwritten in place on a terminal).
class ConsoleProgress : public JobListener {
  public:
    void on_progress(const JobInfo& job) override {
        const RipProgress& p = job.progress;
        if (p.bytes_total == 0) {
            return;
        }
        double pct = 100.0 * static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total);
        std::string eta =
            p.eta
                ? std::to_string(std::chrono::duration_cast<std::chrono::seconds>(*p.eta).count()) +
                      " s"
                : "-";
        std::fprintf(stderr, "%sjob %llu %-9s %5.1f%%  %s / %s  %6.1f MB/s  ETA %s  chunk %s%s",
                     tty_ ? "\r" : "", static_cast<unsigned long long>(job.id), p.phase.c_str(),
                     pct, mib(p.bytes_done).c_str(), mib(p.bytes_total).c_str(), p.rate / 1e6,
                     eta.c_str(), mib(p.chunk_bytes).c_str(), tty_ ? "   " : "\n");
    }
    void on_ended(const JobInfo& job) override {
        const RipResult& r = *job.result;
        std::fprintf(stderr, "%sjob %llu %s", tty_ ? "\n" : "",
                     static_cast<unsigned long long>(job.id),
                     std::string(to_string(r.outcome)).c_str());
        if (!r.reason.empty()) {
            std::fprintf(stderr, ": %s", r.reason.c_str());
        }
        std::fprintf(stderr, " (read %llu bytes)\n", static_cast<unsigned long long>(r.bytes_read));
    }

  private:
    bool tty_ = ::isatty(STDERR_FILENO) != 0;
};

// SIGINT and SIGTERM are blocked in every thread and taken here: they cancel the rips, which
// checkpoint and stay resumable.
std::jthread cancel_on_signal(JobQueue& queue, const sigset_t& signals) {
    return std::jthread([&queue, signals](std::stop_token stop) {
        timespec tick{0, 200'000'000};
        while (!stop.stop_requested()) {
            if (::sigtimedwait(&signals, nullptr, &tick) > 0) {
                for (const JobInfo& job : queue.jobs()) {
                    queue.cancel(job.id);
                }
            }
        }
    });
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"freemkvd: rips optical discs into a library"};
    std::string config_file;
    std::string check_file;
    std::string log_level = "info";
    app.add_option("--config", config_file,
                   "configuration file (default: built-in defaults; with --user, "
                   "~/.config/freemkvd/freemkvd.toml if it exists)")
        ->check(CLI::ExistingFile);
    CLI::Option* check_option =
        app.add_option("--check-config", check_file, "validate FILE and exit");
    bool help_config = false;
    app.add_flag("--help-config", help_config, "list every configuration key and exit");
    bool user_bus = false;
    bool system_bus = false;
    app.add_flag("--user", user_bus, "serve on the session bus (a desktop user, tests)");
    app.add_flag("--system", system_bus, "serve on the system bus (the default)")
        ->excludes("--user");
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
    CLI::App* rip_cmd = app.add_subcommand("rip", "rip discs or images in the foreground");
    std::vector<std::string> sources;
    std::string drive;
    rip_cmd->add_option("source", sources, "device or image")->required();
    rip_cmd->add_option("--drive", drive, "drive name to record (e.g. sr0)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : exit_usage;
    }
    // A drive holds one disc: several sources for one drive is a mistake, refused before anything
    // starts (the queue takes one job per drive).
    if (!drive.empty() && sources.size() > 1) {
        std::cerr << "freemkvd: --drive " << drive << " names one drive but " << sources.size()
                  << " sources are given; rip them one at a time\n";
        return exit_usage;
    }
    // An empty name would otherwise read as the option not given, and the daemon would start.
    // (--config's ExistingFile check refuses one already.)
    if (check_option->count() > 0 && check_file.empty()) {
        std::cerr << "freemkvd: --check-config: the file name is empty\n";
        return exit_usage;
    }
    setup_logging(spdlog::level::from_str(log_level));
    if (help_config) {
        for (const ConfigKey& key : config_keys()) {
            std::cout << key.name << "\n    " << key.doc << "\n";
        }
        return 0;
    }

    std::string file = !check_file.empty() ? check_file : config_file;
    Config defaults;
    bool file_optional = false;  // --user's default file is read only if it exists
    if (user_bus && file.empty() && !*rip_cmd) {
        try {
            UserSetup setup = user_setup([](const char* name) {
                const char* value = std::getenv(name);
                return std::string(value ? value : "");
            });
            defaults = setup.defaults;
            file = setup.config_file;
            file_optional = true;
        } catch (const ConfigError& e) {
            std::cerr << "freemkvd: " << e.what() << "\n";
            return exit_usage;
        }
    }
    // Also what SIGHUP and Reload run: a bad file is a ConfigError and changes nothing.
    auto load = [&]() {
        bool use_file = !file.empty() && (!file_optional || std::filesystem::exists(file));
        Config c = use_file ? load_config(file, defaults) : defaults;
        check_environment(c, use_file ? file : "(built-in defaults)");
        return c;
    };
    Config config;
    try {
        config = load();
    } catch (const ConfigError& e) {
        std::cerr << "freemkvd: " << e.what() << "\n";
        return exit_usage;
    }
    if (!check_file.empty()) {
        std::cout << check_file << ": ok\n";
        return 0;
    }
    try {
        std::filesystem::create_directories(config.jobs.state_dir);
        std::filesystem::create_directories(config.jobs.library);
    } catch (const std::filesystem::filesystem_error& e) {
        std::cerr << "freemkvd: " << e.what() << "\n";
        return exit_usage;
    }
    // Taken by the loop (daemon) or a waiting thread (rip), never by a worker.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    if (!*rip_cmd) {
        sigaddset(&signals, SIGHUP);
    }
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    if (!*rip_cmd) {
        auto reload = [&, state_dir = config.jobs.state_dir]() {
            Config c = load();
            if (c.jobs.state_dir != state_dir) {
                throw ConfigError(file, c.lines.contains("state.dir") ? c.lines.at("state.dir") : 0,
                                  "state.dir",
                                  "cannot change while freemkvd runs (it holds the journal "
                                  "there); restart freemkvd instead");
            }
            std::filesystem::create_directories(c.jobs.library);
            return c;
        };
        try {
            bus::Service service(config, user_bus ? bus::BusKind::session : bus::BusKind::system,
                                 reload);
            return service.run();
        } catch (const std::exception& e) {
            spdlog::error("{}", e.what());
            return exit_failed;
        }
    }

    ConsoleProgress progress;
    // A job interrupted earlier is not restarted on its own here: ripping the same disc again
    // resumes it.
    std::unique_ptr<JobQueue> owned;
    try {
        owned = std::make_unique<JobQueue>(config.jobs, &progress, JobQueue::Interrupted::abandon,
                                           real_file_system(), mkv_extractor());
    } catch (const std::exception& e) {
        std::cerr << "freemkvd: " << e.what() << "\n";
        return exit_usage;
    }
    JobQueue& queue = *owned;
    auto signal_thread = cancel_on_signal(queue, signals);
    std::vector<std::uint64_t> ids;
    int status = 0;
    for (const auto& source : sources) {
        // A source refused (the same image twice) fails alone: returning here would cancel the
        // rips already started.
        try {
            ids.push_back(queue.submit(
                JobRequest{.drive = drive, .source = std::filesystem::absolute(source)}));
        } catch (const std::exception& e) {
            std::cerr << "freemkvd: " << source << ": " << e.what() << "\n";
            status = exit_failed;
        }
    }
    queue.wait_idle();
    for (auto id : ids) {
        auto job = queue.job(id);
        const RipResult& r = *job->result;
        if (r.outcome == RipOutcome::ok || r.outcome == RipOutcome::ok_with_errors) {
            std::cout << r.output.string();
            if (r.unreadable_sectors) {
                std::cout << " (" << r.unreadable_sectors << " unreadable sectors, see "
                          << r.mapfile.string() << ")";
            }
            std::cout << "\n";
        } else {
            status = exit_failed;
        }
    }
    return status;
}
