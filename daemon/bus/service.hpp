#pragma once

// The D-Bus service: one connection, one loop thread (EventLoop) that owns every bus object.
// Rip workers report through JobListener; those calls are handed to the loop, which applies
// them to the job objects and emits signals, with PropertiesChanged batched by a 4 Hz flush.
//
// Start-up order: the udev watcher, then all objects (manager, drives, the journal's jobs), then
// the bus name, so a client that sees the name sees a complete tree; then the discs already in
// the drives are queued and systemd hears READY=1.
//
// Drives come and go with udev events (DriveWatcher, on the same loop). MediaTracker turns the
// events into inserts and removals: an insert queues a rip when drives.auto_rip is set; a
// removal cancels the drive's queued job, and a running one ends on its own, resumable, when its
// reads find the medium gone.

#include <sdbus-c++/sdbus-c++.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "config.hpp"
#include "drive_watcher.hpp"
#include "drives.hpp"
#include "event_loop.hpp"
#include "job_queue.hpp"
#include "media_tracker.hpp"

namespace freemkv::bus {

class DriveObject;
class JobObject;
class ManagerObject;

enum class BusKind { system, session };

class Service final : public JobListener {
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
    std::vector<std::string> job_paths() const;
    std::vector<std::string> drive_paths() const;
    const Config& config() const { return config_; }
    JobQueue& queue() { return *queue_; }

    // JobListener: called on any thread.
    void on_added(const JobInfo& job) override;
    void on_progress(const JobInfo& job) override;
    void on_resize(const JobInfo& job, const Resize& resize) override;
    void on_ended(const JobInfo& job) override;

  private:
    // Runs `task` now when on the loop thread, else posts it there.
    void on_loop(std::function<void()> task);
    JobObject& job_object(const JobInfo& job);
    void set_drive_busy(const std::string& drive, bool busy);
    void on_drive_event(const freemkv::Drive& drive, bool managed);
    void drive_gone(const std::string& name);
    void media_inserted(const freemkv::Drive& drive, bool at_start);
    void media_removed(const std::string& drive);
    void notify_status();
    void trim_history();
    void flush();

    Config config_;
    BusKind bus_kind_;
    ConfigLoader reload_config_;
    EventLoop loop_;
    std::thread::id loop_thread_;
    std::unique_ptr<sdbus::IConnection> connection_;
    std::unique_ptr<ManagerObject> manager_;
    std::map<std::string, std::unique_ptr<DriveObject>> drives_;
    MediaTracker media_;
    std::unique_ptr<DriveWatcher> watcher_;
    std::string status_;  // last STATUS= sent to systemd
    std::map<std::uint64_t, std::unique_ptr<JobObject>> jobs_;
    std::uint32_t last_queued_ = 0;
    std::uint32_t last_running_ = 0;
    std::unique_ptr<JobQueue> queue_;  // last: its threads report into the objects above
};

}  // namespace freemkv::bus
