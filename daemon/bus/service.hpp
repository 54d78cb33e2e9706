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
#include "title_info.hpp"
#include "worker.hpp"

namespace freemkv::bus {

class DrivePublisher;
class JobPublisher;
class ManagerObject;
struct CheckedImage;

enum class BusKind { system, session };

class Service final {
  public:
    // Reads the configuration again (SIGHUP, Reload); throws ConfigError.
    using ConfigLoader = std::function<Config()>;

    Service(const Config& config, BusKind bus, ConfigLoader reload_config);
    ~Service();

    // How a method that may block ends: the job's path, or the error. Called on the loop thread,
    // maybe before the method returns.
    using Reply = std::function<void(const std::string& job, const sdbus::Error* error)>;

    // Serves until SIGTERM/SIGINT; returns the exit code. SIGHUP reloads the configuration.
    int run();
    // Reads the configuration file again on the worker (it creates the library's directories,
    // and the file may be on a slow filesystem), then applies it on the loop to jobs that start
    // from now on, and to the drives. `done` gets "" or why nothing changed.
    void reload(std::function<void(const std::string& error)> done);

    // For the Manager object (loop thread). Drive names are answered at once; an image's checks
    // run on the worker (they stat and resolve links, on filesystems that may hang). `titles`
    // goes into the JobRequest (StartRip's option, already checked).
    void start_rip(const std::string& source, uid_t caller, Reply reply,
                   std::vector<int> titles = {});
    // StartRipImage: `fd` is the caller's open image (or managed drive); it is duplicated.
    // `bin`: a cue sheet's BIN handed over with it (StartRipImage's option), or null.
    void start_rip_image(int fd, uid_t caller, Reply reply, std::vector<int> titles = {},
                         std::shared_ptr<UniqueFd> bin = nullptr);

    // How ListTitles ends: the titles, or the error. Called on the loop thread.
    using TitlesReply =
        std::function<void(const std::vector<TitleInfo>& titles, const sdbus::Error* error)>;
    // ListTitles: a managed drive's disc or an image path (StartRip's rules for paths), read on
    // the worker (a drive spins up, an image may be on a slow filesystem).
    void list_titles(const std::string& source, uid_t caller, TitlesReply reply);
    // ListTitlesImage: read only through `fd` (duplicated), on the worker.
    void list_titles_image(int fd, TitlesReply reply);
    std::vector<std::string> job_paths() const;
    std::vector<std::string> drive_paths() const;
    const Config& config() const { return config_; }
    JobQueue& queue() { return *queue_; }

  private:
    void notify_status();
    void apply(const Config& fresh);
    JobRequest drive_request(const std::string& name, uid_t caller);
    // The managed drive `name` as udev sees it now; throws NotFound, or NoMedia without a disc.
    freemkv::Drive drive_with_disc(const std::string& name);
    // Runs `read` on the worker, then replies on the loop; a DvdError is NotDvdVideo.
    void titles_in_background(std::function<std::vector<TitleInfo>()> read, TitlesReply reply);
    std::string drive_list() const;  // " (its drives: sr0, sr1)", for messages
    // The managed drive whose block device is `device`; throws NotFound naming `name`.
    std::string drive_of(dev_t device, const std::filesystem::path& name) const;
    std::string submit(JobRequest request);
    // Runs `check` on the worker, then submits what it found on the loop and replies.
    void background(std::function<CheckedImage()> check, Reply reply);

    Config config_;
    BusKind bus_kind_;
    ConfigLoader reload_config_;
    EventLoop loop_;
    // The loop's blocking work; stopped first (~Service), while what its tasks use still exists.
    std::unique_ptr<Worker> worker_ = std::make_unique<Worker>();
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
