// freemkvctl: a small client for freemkvd, over its public D-Bus API (org.freemkv.Rip1).
//
//   freemkvctl [--system|--user] [--json] status         the daemon, its queue and its drives
//   freemkvctl [...] jobs                                 every job the daemon lists, as a table
//   freemkvctl [...] watch [JOB...]                       progress until the jobs have ended
//   freemkvctl [...] rip SOURCE [--wait] [--titles 1,3]   start a rip; --wait watches it
//   freemkvctl [...] titles SOURCE                        the titles of a DVD-Video, unripped
//   freemkvctl [...] cancel JOB                           cancel a queued or running job
//   freemkvctl [...] eject DRIVE                          eject a drive's disc
//   freemkvctl [...] reload                               make the daemon re-read its configuration
//
// JOB is an id ("3") or an object path; DRIVE a name ("sr0"), a device or an object path.
// `watch` without JOB follows the jobs that have not ended yet, and the jobs started while it
// watches; it says "no active jobs" and exits 0 when there are none.
//
// Exit status:
//   0  ok; for watch, every job ended ok, possibly with unreadable sectors (a warning is printed)
//   1  a watched job (or the rip of `rip --wait`) failed or was cancelled
//   2  bad usage
//   3  `rip --wait` only: the rip finished, but with unreadable sectors
//   4  the daemon is not reachable, or a D-Bus call failed ("freemkvctl: NAME: message")

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>
#include <sdbus-c++/Error.h>

#include "commands.hpp"
#include "titles_view.hpp"
#include "utf8.hpp"

using namespace freemkv::ctl;

namespace {

constexpr const char* exit_codes_help = R"(
Exit status:
  0  ok; for watch: every job ended ok, possibly with unreadable sectors (warned about)
  1  a watched job, or the rip of rip --wait, failed or was cancelled
  2  bad usage
  3  rip --wait: the rip finished, but with unreadable sectors
  4  the daemon is not reachable, or a D-Bus call failed)";

bool stdout_is_terminal() {
    const char* term = std::getenv("TERM");
    return isatty(STDOUT_FILENO) && !(term && std::string_view(term) == "dumb");
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"freemkvctl: control freemkvd, the disc ripping daemon, over D-Bus"};
    app.footer(exit_codes_help);
    app.require_subcommand(1);
    app.fallthrough();  // the global flags also work after the subcommand

    bool system_bus = false, user_bus = false, json = false;
    auto* system_flag = app.add_flag("--system", system_bus, "Use the system bus (the default)");
    auto* user_flag =
        app.add_flag("--user", user_bus, "Use the session bus ($DBUS_SESSION_BUS_ADDRESS)");
    system_flag->excludes(user_flag);
    app.add_flag("--json", json, "Print JSON (watch: one object per line per update)");

    auto* status_cmd = app.add_subcommand("status", "The daemon's version, library, queue, drives");
    auto* jobs_cmd = app.add_subcommand("jobs", "The jobs: id, state, progress, label, output");

    std::vector<std::string> watch_jobs;
    auto* watch_cmd = app.add_subcommand(
        "watch", "Show progress until the jobs end (default: the active ones and new ones)");
    watch_cmd->add_option("JOB", watch_jobs, "Job id or object path");

    std::string source;
    bool wait = false;
    auto* rip_cmd = app.add_subcommand("rip", "Start a rip and print the job's object path");
    rip_cmd
        ->add_option("SOURCE", source,
                     "A drive (sr0, /dev/sr0) or a disc image file; a bare name is a drive "
                     "unless such a file is in the current directory")
        ->required();
    rip_cmd->add_flag("--wait", wait, "Watch the job to its end and exit with its result");
    std::string rip_titles;
    rip_cmd->add_option("--titles", rip_titles,
                        "DVD-Video titles to extract, e.g. 1,3 (see `titles`); default: as the "
                        "daemon's [video] titles says");

    std::string titles_source;
    auto* titles_cmd = app.add_subcommand(
        "titles", "List the titles of a DVD-Video in a drive or an image, without ripping");
    titles_cmd
        ->add_option("SOURCE", titles_source,
                     "A drive (sr0, /dev/sr0) or a disc image file, as for rip")
        ->required();

    std::string job;
    auto* cancel_cmd = app.add_subcommand("cancel", "Cancel a queued or running job");
    cancel_cmd->add_option("JOB", job, "Job id or object path")->required();

    std::string drive;
    auto* eject_cmd = app.add_subcommand("eject", "Eject the disc of a drive");
    eject_cmd->add_option("DRIVE", drive, "Drive name, device or object path")->required();

    auto* reload_cmd = app.add_subcommand(
        "reload", "Make the daemon re-read its configuration (for jobs that start afterwards)");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? exit_ok : exit_usage;
    }

    Options options{.user_bus = user_bus, .json = json, .tty = stdout_is_terminal()};
    try {
        if (status_cmd->parsed()) {
            return status(options);
        }
        if (jobs_cmd->parsed()) {
            return jobs(options);
        }
        if (watch_cmd->parsed()) {
            return watch(options, watch_jobs);
        }
        if (rip_cmd->parsed()) {
            std::vector<std::uint16_t> numbers;
            if (rip_cmd->count("--titles") > 0) {
                numbers = parse_title_numbers(rip_titles);
            }
            return rip(options, source, wait, numbers);
        }
        if (titles_cmd->parsed()) {
            return titles(options, titles_source);
        }
        if (cancel_cmd->parsed()) {
            return cancel(options, job);
        }
        if (reload_cmd->parsed()) {
            return reload(options);
        }
        return eject(options, drive);
    } catch (const UsageError& e) {
        fmt::print(stderr, "freemkvctl: {}\n", e.what());
        return exit_usage;
    } catch (const sdbus::Error& e) {
        fmt::print(stderr, "freemkvctl: {}: {}\n", e.getName(), freemkv::safe_text(e.getMessage()));
        return exit_bus;
    } catch (const std::exception& e) {
        fmt::print(stderr, "freemkvctl: {}\n", e.what());
        return exit_bus;
    }
}
