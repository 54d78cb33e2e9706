#include "commands.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <system_error>

#include "bus.hpp"
#include "cue_file.hpp"
#include "format.hpp"
#include "job_view.hpp"
#include "titles_view.hpp"
#include "watch.hpp"

namespace freemkv::ctl {

namespace {

void warn(const std::string& message) {
    fmt::print(stderr, "freemkvctl: warning: {}\n", message);
}

// Warns about rips that left unreadable sectors; true when every job ended ok, with or without.
bool all_ok(const std::vector<JobView>& views) {
    bool ok = true;
    for (const JobView& view : views) {
        std::string outcome = view.outcome();
        if (outcome == "ok-with-errors") {
            warn(fmt::format("job {} finished with {} unreadable sectors: {}", view.id,
                             view.unreadable_sectors, view.output));
        } else if (outcome != "ok") {
            ok = false;
        }
    }
    return ok;
}

// A path with a slash, or a bare name that is a file here, is an image; anything else ("sr0")
// is left for the daemon to match against its drives.
std::string rip_source(const std::string& arg) {
    std::error_code ec;
    if (arg.find('/') == std::string::npos && !std::filesystem::is_regular_file(arg, ec)) {
        return arg;
    }
    return std::filesystem::absolute(arg).string();
}

// Whether `source` (from rip_source) is a drive for the daemon to find by name.
bool by_name(const std::string& source) {
    return !source.starts_with("/") || source.starts_with("/dev/");
}

// An image, opened to hand it over. O_NONBLOCK: opening a FIFO must not hang here (the daemon
// refuses it).
sdbus::UnixFd open_image(const std::string& source) {
    int fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        throw std::system_error(errno, std::generic_category(), source);
    }
    return sdbus::UnixFd(fd, sdbus::adopt_fd);
}

// A drive by name; an image handed over open, so the daemon reads it with our rights (it may
// not reach the file itself: a private home, its sandbox's own /tmp).
std::string start_rip(ManagerProxy& manager, const std::string& arg,
                      const std::vector<std::uint16_t>& titles) {
    std::string source = rip_source(arg);
    Props options;
    if (!titles.empty()) {
        options["titles"] = sdbus::Variant(titles);
    }
    if (by_name(source)) {
        return manager.StartRip(source, options);
    }
    sdbus::UnixFd image = open_image(source);
    if (is_cue_sheet(source)) {
        // Its BIN goes with it: the daemon must not open the path the cue names.
        std::string text(1024 * 1024, '\0');
        ssize_t n = ::pread(image.get(), text.data(), text.size(), 0);
        if (n < 0) {
            throw std::system_error(errno, std::generic_category(), source);
        }
        text.resize(static_cast<std::size_t>(n));
        options["bin"] = sdbus::Variant(open_image(cue_data_file(source, text).string()));
    }
    return manager.StartRipImage(std::move(image), options);
}

}  // namespace

int status(const Options& options) {
    auto connection = connect(options.user_bus);
    ManagerProxy manager(*connection);
    Props props = get_all(*connection, api::root_path, manager_iface);
    std::string version, library;
    uint32_t queued = 0, running = 0;
    read_prop(props, "Version", version);
    read_prop(props, "LibraryPath", library);
    read_prop(props, "QueueLength", queued);
    read_prop(props, "RunningJobs", running);

    Json drive_json = Json::array();
    std::vector<std::string> drive_lines;
    for (const sdbus::ObjectPath& path : manager.ListDrives()) {
        Props drive = get_all(*connection, path, drive_iface);
        std::string name, device, state, label;
        bool media = false;
        read_prop(drive, "Name", name);
        read_prop(drive, "Device", device);
        read_prop(drive, "State", state);
        read_prop(drive, "MediaLabel", label);
        read_prop(drive, "MediaPresent", media);
        Json d;
        d["path"] = path;
        d["name"] = name;
        d["device"] = device;
        d["state"] = state;
        d["media_present"] = media;
        d["media_label"] = label;
        drive_json.push_back(std::move(d));
        std::string disc = !media ? "no disc" : label.empty() ? "disc" : "disc \"" + label + "\"";
        drive_lines.push_back(fmt::format("drive {}  {}  {}  {}", name, device, state, disc));
    }

    if (options.json) {
        Json o;
        o["version"] = version;
        o["library_path"] = library;
        o["queue_length"] = queued;
        o["running_jobs"] = running;
        o["drives"] = std::move(drive_json);
        fmt::print("{}\n", dump(o));
        return exit_ok;
    }
    fmt::print("freemkvd {}\nlibrary {}\nqueued  {}\nrunning {}\n", version, library, queued,
               running);
    for (const std::string& line : drive_lines) {
        fmt::print("{}\n", line);
    }
    if (drive_lines.empty()) {
        fmt::print("no drives\n");
    }
    return exit_ok;
}

int jobs(const Options& options) {
    auto connection = connect(options.user_bus);
    ManagerProxy manager(*connection);
    std::vector<JobView> views;
    for (const sdbus::ObjectPath& path : manager.ListJobs()) {
        JobView view;
        view.path = path;
        try {
            view.apply_job(get_all(*connection, path, job_iface));
        } catch (const sdbus::Error&) {
            continue;  // dropped from the history since ListJobs
        }
        views.push_back(std::move(view));
    }
    std::sort(views.begin(), views.end(), [](auto& a, auto& b) { return a.id < b.id; });

    if (options.json) {
        Json items = Json::array();
        for (const JobView& view : views) {
            items.push_back(view.json());
        }
        fmt::print("{}\n", dump(items));
        return exit_ok;
    }
    std::vector<std::vector<std::string>> rows = {
        {"ID", "STATE", "PROGRESS", "LABEL", "OUTPUT/RESULT"}};
    for (const JobView& view : views) {
        rows.push_back({std::to_string(view.id), view.state, percent(view.progress),
                        view.display_label(), view.result_text()});
    }
    std::vector<std::size_t> widths(rows[0].size() - 1, 0);
    for (const auto& row : rows) {
        for (std::size_t i = 0; i < widths.size(); ++i) {
            widths[i] = std::max(widths[i], row[i].size());
        }
    }
    for (std::size_t r = 0; r < rows.size(); ++r) {
        std::string line;
        for (std::size_t i = 0; i < widths.size(); ++i) {
            line += fmt::format("{:<{}}  ", rows[r][i], widths[i]);
        }
        fmt::print("{}{}\n", line, rows[r].back());
        // A DVD-Video's image and titles, one line each, under its job.
        const JobView* view = r ? &views[r - 1] : nullptr;
        if (view && view->artifacts.size() > 1) {
            for (const ArtifactView& a : view->artifacts) {
                fmt::print("    {}\n", a.line());
            }
        }
    }
    return exit_ok;
}

int watch(const Options& options, const std::vector<std::string>& jobs) {
    auto connection = connect(options.user_bus);
    Watcher watcher(*connection, options);
    if (jobs.empty()) {
        watcher.watch_active();
    }
    for (const std::string& job : jobs) {
        watcher.watch(resolve_job(watcher.manager(), job));
    }
    std::vector<JobView> views = watcher.run();
    if (views.empty() && !options.json) {
        fmt::print("no active jobs\n");
    }
    return all_ok(views) ? exit_ok : exit_job_failed;
}

int rip(const Options& options, const std::string& source, bool wait,
        const std::vector<std::uint16_t>& titles) {
    auto connection = connect(options.user_bus);
    // Subscribed before the job exists: not even a job that fails at once is missed.
    Watcher watcher(*connection, options);
    std::string path = start_rip(watcher.manager(), source, titles);
    if (options.json) {
        std::string tail = path_tail(path);
        std::uint64_t id = 0;
        auto [end, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), id);
        bool numeric = !tail.empty() && ec == std::errc() && end == tail.data() + tail.size();
        fmt::print("{}\n", dump({{"job", path}, {"id", numeric ? Json(id) : Json(nullptr)}}));
    } else {
        fmt::print("{}\n", path);
    }
    std::fflush(stdout);
    if (!wait) {
        return exit_ok;
    }
    watcher.watch(path);
    std::vector<JobView> views = watcher.run();
    all_ok(views);  // for the warning
    std::string outcome = views.empty() ? "" : views.front().outcome();
    if (outcome == "ok-with-errors") {
        return exit_unreadable;
    }
    return outcome == "ok" ? exit_ok : exit_job_failed;
}

int titles(const Options& options, const std::string& arg) {
    auto connection = connect(options.user_bus);
    ManagerProxy manager(*connection);
    // Like rip: a drive by name, an image handed over open.
    std::string source = rip_source(arg);
    auto dicts =
        by_name(source) ? manager.ListTitles(source) : manager.ListTitlesImage(open_image(source));
    std::vector<TitleView> views = title_views(dicts);
    if (options.json) {
        fmt::print("{}\n", dump(titles_json(source, views)));
    } else {
        fmt::print("{}", titles_table(views));
    }
    return exit_ok;
}

int cancel(const Options& options, const std::string& job) {
    auto connection = connect(options.user_bus);
    ManagerProxy manager(*connection);
    std::string path = resolve_job(manager, job);
    JobProxy(*connection, path, nullptr).Cancel({});
    if (options.json) {
        fmt::print("{}\n", dump({{"job", path}, {"cancel_requested", true}}));
    } else {
        fmt::print("job {}: cancel requested\n", path_tail(path));
    }
    return exit_ok;
}

int eject(const Options& options, const std::string& drive) {
    auto connection = connect(options.user_bus);
    ManagerProxy manager(*connection);
    std::string path = resolve_drive(*connection, manager, drive);
    DriveProxy(*connection, path).Eject();
    if (options.json) {
        fmt::print("{}\n", dump({{"drive", path}, {"ejected", true}}));
    } else {
        fmt::print("{}: ejected\n", path_tail(path));
    }
    return exit_ok;
}

int reload(const Options& options) {
    auto connection = connect(options.user_bus);
    ManagerProxy manager(*connection);
    manager.Reload();
    if (options.json) {
        fmt::print("{}\n", dump({{"reloaded", true}}));
    } else {
        fmt::print("configuration reloaded\n");
    }
    return exit_ok;
}

}  // namespace freemkv::ctl
