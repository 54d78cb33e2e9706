#include "watch.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string_view>
#include <system_error>

#include "format.hpp"

namespace freemkv::ctl {

namespace {

std::size_t terminal_columns() {
    winsize ws{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
        return ws.ws_col;
    }
    return 80;
}

}  // namespace

Watcher::Watcher(sdbus::IConnection& connection, const Options& options)
    : connection_(connection), options_(options), manager_(connection) {
    manager_.on_added = [this](const std::string& path) {
        if (follow_new_) {
            announced_.push_back(path);
        }
    };
    manager_.on_ended = [this](const std::string& path, const std::string& result,
                               const std::string& output) { on_ended(path, result, output); };
    // Without this, a daemon that dies mid-rip would leave us waiting forever.
    std::string rule = fmt::format(
        "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
        "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='{}'",
        api::bus_name);
    owner_match_ = connection_.addMatch(rule, [this](sdbus::Message& message) {
        std::string name, old_owner, new_owner;
        try {
            message >> name >> old_owner >> new_owner;
        } catch (const sdbus::Error&) {
            return;
        }
        if (new_owner.empty() && !error_) {
            error_ = sdbus::Error("org.freedesktop.DBus.Error.ServiceUnknown",
                                  std::string("freemkvd (") + api::bus_name + ") left the bus");
        }
    });
}

Watcher::~Watcher() = default;

void Watcher::watch_active() {
    follow_new_ = true;
    for (const sdbus::ObjectPath& path : manager_.ListJobs()) {
        add(path, Origin::initial);
    }
}

void Watcher::watch(const std::string& path) {
    add(path, Origin::named);
}

Watcher::Entry* Watcher::find(const std::string& path) {
    for (auto& entry : entries_) {
        if (entry->view.path == path) {
            return entry.get();
        }
    }
    return nullptr;
}

void Watcher::add(const std::string& path, Origin origin) {
    if (Entry* existing = find(path)) {
        if (origin == Origin::named) {
            existing->origin = origin;
        }
        return;
    }
    auto entry = std::make_unique<Entry>();
    Entry& e = *entry;
    e.view.path = path;
    e.origin = origin;
    if (auto it = ended_.find(path); it != ended_.end()) {
        e.view.result = it->second.first;
        e.view.output = it->second.second;
    }
    e.proxy = std::make_unique<JobProxy>(connection_, path,
                                         [this, &e](const std::string& iface, const Props& changed,
                                                    const std::vector<std::string>& invalidated) {
                                             on_changed(e, iface, changed, invalidated);
                                         });
    entries_.push_back(std::move(entry));
    read(e, job_iface);
    read(e, telemetry_iface);
}

void Watcher::read(Entry& entry, const char* iface) {
    bool job = std::string_view(iface) == job_iface;
    ++(job ? entry.reading_job : entry.reading_telemetry);
    entry.proxy->fetch(iface, [this, &entry, job](const sdbus::Error* error, const Props& props) {
        on_read(entry, job, error, props);
    });
}

void Watcher::on_read(Entry& entry, bool job, const sdbus::Error* error, const Props& props) {
    --(job ? entry.reading_job : entry.reading_telemetry);
    if (!job) {
        // The chunk size is a nicety: without Telemetry it shows as "-".
        entry.telemetry_read = true;
        if (!error) {
            entry.view.apply_telemetry(props);
        }
        return;
    }
    if (error) {
        if (entry.view.ended()) {
            entry.loaded = true;  // gone from the history already; JobEnded told the result
        } else if (entry.origin == Origin::named) {
            error_ = *error;
        } else {
            entry.dropped = true;
        }
        return;
    }
    entry.view.apply_job(props);
    if (!entry.loaded) {
        entry.loaded = true;
        entry.dropped = entry.origin == Origin::initial && entry.view.ended();
    }
}

void Watcher::on_changed(Entry& entry, const std::string& iface, const Props& changed,
                         const std::vector<std::string>& invalidated) {
    bool job = iface == job_iface;
    if (!job && iface != telemetry_iface) {
        return;
    }
    // A read in flight answers with newer values than this signal carries.
    if ((job ? entry.reading_job : entry.reading_telemetry) > 0) {
        return;
    }
    if (job) {
        entry.view.apply_job(changed);
    } else {
        entry.view.apply_telemetry(changed);
    }
    if (!invalidated.empty()) {
        read(entry, job ? job_iface : telemetry_iface);
    }
}

void Watcher::on_ended(const std::string& path, const std::string& result,
                       const std::string& output) {
    ended_[path] = {result, output};
    Entry* entry = find(path);
    if (entry && entry->view.result.empty()) {
        entry->view.result = result;
        if (!output.empty()) {
            entry->view.output = output;
        }
    }
}

bool Watcher::add_announced() {
    if (announced_.empty()) {
        return false;
    }
    std::vector<std::string> paths;
    paths.swap(announced_);
    for (const std::string& path : paths) {
        add(path, Origin::announced);
    }
    return true;
}

bool Watcher::finished() const {
    if (!announced_.empty()) {
        return false;
    }
    for (const auto& entry : entries_) {
        if (!entry->dropped && !(ready(*entry) && entry->view.ended())) {
            return false;
        }
    }
    return true;
}

std::vector<JobView> Watcher::run() {
    for (;;) {
        if (connection_.processPendingRequest()) {
            continue;  // drain what is queued before drawing
        }
        if (error_) {
            throw *error_;
        }
        // Proxies are created and destroyed here, never from inside their own callbacks.
        if (add_announced()) {
            continue;
        }
        std::erase_if(entries_, [](const auto& entry) { return entry->dropped; });
        draw();
        if (finished()) {
            break;
        }
        auto poll_data = connection_.getEventLoopPollData();
        pollfd fd{poll_data.fd, poll_data.events, 0};
        if (::poll(&fd, 1, poll_data.getPollTimeout()) < 0 && errno != EINTR) {
            throw std::system_error(errno, std::generic_category(), "poll");
        }
    }
    std::vector<JobView> views;
    for (const auto& entry : entries_) {
        views.push_back(entry->view);
    }
    return views;
}

void Watcher::draw() {
    std::vector<Entry*> shown;
    for (const auto& entry : entries_) {
        if (ready(*entry) && !entry->dropped) {
            shown.push_back(entry.get());
        }
    }
    if (options_.json || !options_.tty) {
        for (Entry* entry : shown) {
            std::string text = options_.json ? dump(entry->view.json()) : entry->view.line(false);
            if (text != entry->last_printed) {
                fmt::print("{}\n", text);
                entry->last_printed = std::move(text);
            }
        }
        std::fflush(stdout);
        return;
    }
    // Redraw the block in place; lines are cut to the width so none wraps.
    std::size_t width = terminal_columns() - 1;
    std::string frame;
    for (Entry* entry : shown) {
        frame += "\r" + truncate(entry->view.line(true), width) + "\x1b[K\n";
    }
    for (std::size_t i = shown.size(); i < lines_drawn_; ++i) {
        frame += "\r\x1b[K\n";
    }
    if (frame == last_frame_) {
        return;
    }
    std::string out = lines_drawn_ ? fmt::format("\x1b[{}A", lines_drawn_) : std::string();
    fmt::print("{}{}", out, frame);
    std::fflush(stdout);
    lines_drawn_ = std::max(lines_drawn_, shown.size());
    last_frame_ = std::move(frame);
}

}  // namespace freemkv::ctl
