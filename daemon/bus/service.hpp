#pragma once

// The D-Bus service: one connection and one loop thread (EventLoop) that owns every bus object.
// It wires the parts together: the DriveManager (drives, auto-rip, eject) with its drives on the
// bus (DrivePublisher), the JobQueue with its jobs on the bus (JobPublisher), and the Manager
// object; and it takes SIGTERM, SIGINT and SIGHUP (reload), tells systemd READY=1 and STATUS=,
// and checks StartRip's arguments.
//
// Start-up order: the udev watcher, then all objects (manager, drives, the journal's jobs), then
// the bus name, so a client that sees the name sees a complete tree; then the discs already in
// the drives are queued and systemd hears READY=1. (The queue opens its journal before the drives
// are listed: the drive manager queues into it.)

#include <sdbus-c++/sdbus-c++.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config.hpp"
#include "drive_manager.hpp"
#include "drive_watcher.hpp"
#include "event_loop.hpp"
#include "job_queue.hpp"

namespace freemkv::bus {

class DrivePublisher;
class JobPublisher;
class ManagerObject;

enum class BusKind { system, session };

class Service final {
  public:
    // Reads the configuration again (SIGHUP, Reload); throws ConfigError.
    using ConfigLoader = std::function<Config()>;

    Service(const Config& config, BusKind bus, ConfigLoader reload_config);
    ~Service();

    // Serves until SIGTERM/SIGINT; returns the exit code. SIGHUP reloads the configuration.
    int run();
    // Applies a fresh configuration to jobs that start from now on, and to the drives.
    void reload();

    // For the Manager object (loop thread).
    std::string start_rip(const std::string& source, uid_t caller);
    // StartRipImage: `fd` is the caller's open image (or managed drive); it is duplicated.
    std::string start_rip_image(int fd, uid_t caller);
    std::vector<std::string> job_paths() const;
    std::vector<std::string> drive_paths() const;
    const Config& config() const { return config_; }
    JobQueue& queue() { return *queue_; }

  private:
    void notify_status();
    JobRequest drive_request(const std::string& name, uid_t caller);
    std::string drive_list() const;  // " (its drives: sr0, sr1)", for messages
    std::string submit(JobRequest request);

    Config config_;
    BusKind bus_kind_;
    ConfigLoader reload_config_;
    EventLoop loop_;
    std::unique_ptr<sdbus::IConnection> connection_;
    std::unique_ptr<ManagerObject> manager_;
    std::unique_ptr<DrivePublisher> drive_publisher_;
    std::unique_ptr<DriveWatcher> watcher_;
    std::unique_ptr<JobPublisher> job_publisher_;
    std::string status_;  // last STATUS= sent to systemd
    // Stopped first (~Service): its threads report into the objects above.
    std::unique_ptr<JobQueue> queue_;
    std::unique_ptr<DriveManager> drives_;
};

}  // namespace freemkv::bus
