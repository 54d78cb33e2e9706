// freemkv-notify: desktop notifications for freemkvd's rips.
//
// Follows the Manager's JobAdded and JobEnded signals (system bus, or --user for the session bus)
// and shows each through org.freedesktop.Notifications on the session bus; a job's end
// notification replaces its start one. A missing notification server is reported and retried at
// the next event. SIGTERM and SIGINT end it with status 0.

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

#include "api_names.hpp"
#include "job_proxy.h"
#include "manager_proxy.h"

namespace {

using Props = std::map<std::string, sdbus::Variant>;

template <typename T = std::string>
T prop(const Props& props, const char* name) {
    auto it = props.find(name);
    return it != props.end() && it->second.containsValueOfType<T>() ? it->second.get<T>() : T{};
}

// An audio CD's tracks in the library (a silent hidden track one audio is left out).
int published_tracks(const Props& props) {
    using Entry = sdbus::Struct<std::string, std::string, std::string, std::string, uint64_t,
                                uint64_t, int32_t, double>;
    int count = 0;
    for (const Entry& a : prop<std::vector<Entry>>(props, "Artifacts")) {
        count += a.get<0>() == "track" && a.get<2>() == "published";
    }
    return count;
}

// For servers that take markup in the body (dunst, GNOME, KDE do): a path may hold '&' or '<'.
std::string escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        out += c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : std::string(1, c);
    }
    return out;
}

class Notifier final : public sdbus::ProxyInterfaces<org::freemkv::Rip1::Manager_proxy> {
  public:
    Notifier(sdbus::IConnection& daemon_bus, sdbus::IConnection& session)
        : ProxyInterfaces(daemon_bus, freemkv::api::bus_name, freemkv::api::root_path),
          daemon_bus_(daemon_bus),
          server_(sdbus::createProxy(session, "org.freedesktop.Notifications",
                                     "/org/freedesktop/Notifications")) {
        registerProxy();
    }
    ~Notifier() { unregisterProxy(); }

  private:
    struct Job {
        std::string source;
        uint32_t notification = 0;
    };

    void onJobAdded(const uint64_t& id, const sdbus::ObjectPath& path,
                    const std::string& source) override {
        Job& job = jobs_[id];
        job.source = source;
        job.notification = notify(0, "Ripping " + label(read(path), source), escape(source), 1);
    }

    void onJobEnded(const uint64_t& id, const sdbus::ObjectPath& path, const std::string& result,
                    const std::string& output) override {
        Job job = jobs_[id];  // empty when it started before we did
        jobs_.erase(id);
        Props props = read(path);
        std::string source = job.source.empty() ? prop(props, "Source") : job.source;
        std::string name = label(props, source.empty() ? "job " + std::to_string(id) : source);
        if (result == "ok" || result == "ok-with-errors") {
            std::string body = output;
            if (auto tracks = published_tracks(props); tracks > 0) {
                // An audio CD: its album folder, the tracks, and the read errors or the
                // AccurateRip verdict the daemon gives as the reason.
                std::string reason = prop(props, "ResultReason");
                body += "\n" + std::to_string(tracks) + " tracks" +
                        (reason.empty() ? "" : "; " + reason);
            } else if (result != "ok") {
                body += "\n" + std::to_string(prop<uint64_t>(props, "UnreadableSectors")) +
                        " unreadable sectors";
            }
            notify(job.notification, "Ripped " + name, escape(body), 1);
        } else if (result == "failed") {
            std::string reason = prop(props, "ResultReason");
            notify(job.notification, "Rip failed: " + name,
                   escape(reason.empty() ? "see freemkvd's log" : reason), 2);
        } else {
            notify(job.notification, "Rip " + result + ": " + name, escape(source), 0);
        }
    }

    // The job's properties; none when the job object is gone already.
    Props read(const sdbus::ObjectPath& path) {
        Props props;
        try {
            sdbus::createProxy(daemon_bus_, freemkv::api::bus_name, path)
                ->callMethod("GetAll")
                .onInterface("org.freedesktop.DBus.Properties")
                .withArguments(std::string(org::freemkv::Rip1::Job_proxy::INTERFACE_NAME))
                .storeResultsTo(props);
        } catch (const sdbus::Error&) {
        }
        return props;
    }

    // The disc label, or else the source's last path element ("disc.iso", "sr0").
    static std::string label(const Props& props, const std::string& fallback) {
        std::string label = prop(props, "DiscLabel");
        return label.empty() ? fallback.substr(fallback.rfind('/') + 1) : label;
    }

    // Shows a notification; returns its id, 0 when the server could not be reached.
    uint32_t notify(uint32_t replaces, const std::string& summary, const std::string& body,
                    uint8_t urgency) {
        std::map<std::string, sdbus::Variant> hints{{"urgency", sdbus::Variant(urgency)}};
        std::string icon = urgency == 2 ? "dialog-error" : "media-optical";
        uint32_t id = 0;
        try {
            server_->callMethod("Notify")
                .onInterface("org.freedesktop.Notifications")
                .withTimeout(std::chrono::seconds(5))
                .withArguments(std::string("freemkv-notify"), replaces, icon, summary, body,
                               std::vector<std::string>{}, hints, int32_t{-1})
                .storeResultsTo(id);
        } catch (const sdbus::Error& e) {
            std::fprintf(stderr,
                         "freemkv-notify: cannot show \"%s\": %s: %s (is a notification daemon "
                         "running on the session bus?)\n",
                         summary.c_str(), e.getName().c_str(), e.getMessage().c_str());
        }
        return id;
    }

    sdbus::IConnection& daemon_bus_;
    std::unique_ptr<sdbus::IProxy> server_;
    std::map<uint64_t, Job> jobs_;
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"freemkv-notify: desktop notifications for freemkvd's rips"};
    bool system_bus = false, user_bus = false;
    auto* system_flag =
        app.add_flag("--system", system_bus, "freemkvd is on the system bus (default)");
    app.add_flag("--user", user_bus, "freemkvd is on the session bus")->excludes(system_flag);
    CLI11_PARSE(app, argc, argv);

    // Taken as events in the loop below, so the connections close cleanly.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, nullptr);
    int stop_fd = signalfd(-1, &stop, SFD_CLOEXEC);

    try {
        if (stop_fd < 0) {
            throw std::system_error(errno, std::generic_category(), "signalfd");
        }
        auto session = sdbus::createSessionBusConnection();
        auto daemon_bus = user_bus ? nullptr : sdbus::createSystemBusConnection();
        std::vector<sdbus::IConnection*> connections{session.get()};
        if (daemon_bus) {
            connections.push_back(daemon_bus.get());
        }
        Notifier notifier(daemon_bus ? *daemon_bus : *session, *session);
        for (;;) {
            // A blocking call leaves what arrived meanwhile queued, unseen by poll: drain first.
            for (bool busy = true; busy;) {
                busy = false;
                for (sdbus::IConnection* connection : connections) {
                    busy = connection->processPendingRequest() || busy;
                }
            }
            std::vector<pollfd> fds{{stop_fd, POLLIN, 0}};
            int timeout = -1;
            for (sdbus::IConnection* connection : connections) {
                auto data = connection->getEventLoopPollData();
                fds.push_back({data.fd, data.events, 0});
                int t = data.getPollTimeout();
                timeout = t >= 0 && (timeout < 0 || t < timeout) ? t : timeout;
            }
            if (poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) {
                throw std::system_error(errno, std::generic_category(), "poll");
            }
            if (fds[0].revents & POLLIN) {
                return 0;
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "freemkv-notify: %s\n", e.what());
    }
    return 1;
}
