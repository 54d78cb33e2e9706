#pragma once

// The drives the daemon manages and what happens to their discs. The drives come from udev's
// enumeration and DriveWatcher's events, filtered by [drives] watch and ignore; MediaTracker turns
// the events into inserts and removals. An insert queues a rip when drives.auto_rip is set; a
// removal cancels the drive's queued job, and a running one ends on its own, resumable, when its
// reads find the medium gone. A drive is busy while it has a job; after a job that is done, the
// tray opens when drives.eject_when_done is set.
//
// Plain C++: the D-Bus side hears about the drives through a DriveListener. Everything here runs
// on the daemon's loop thread.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "drives.hpp"
#include "job.hpp"
#include "job_queue.hpp"
#include "media_tracker.hpp"

namespace freemkv {

// Told about the drives the manager takes in, sees change and lets go.
class DriveListener {
  public:
    virtual ~DriveListener() = default;
    virtual void on_added(const Drive&) {}
    virtual void on_changed(const Drive&) {}
    virtual void on_removed(const std::string& /*name*/) {}
    virtual void on_busy(const std::string& /*name*/, bool /*busy*/) {}
};

// What the drive manager asks of the system: drives.hpp's functions; tests put in their own.
struct DriveSystem {
    std::function<std::vector<Drive>()> enumerate = enumerate_drives;
    std::function<Drive(const std::string& name)> read = read_drive;
    std::function<void(const std::filesystem::path& device)> eject = freemkv::eject;
};

// The job that rips the disc in `drive`, started by `uid`.
JobRequest rip_request(const Drive& drive, std::uint32_t uid);

// The manager's JobListener side must be called on the loop thread (JobPublisher passes the
// queue's events on from there).
class DriveManager final : public JobListener {
  public:
    DriveManager(const DriveOptions& options, JobQueue& queue, DriveListener& listener,
                 DriveSystem system = {});

    // Takes in the drives udev lists now. Throws std::system_error.
    void enumerate();
    // The discs already in the drives, as if inserted now; not the ones the queue already has a
    // job for (queued again from the journal, or ripped before a restart).
    void queue_present_discs();
    // A udev event (DriveWatcher).
    void on_event(const Drive& drive, bool managed);
    // New options: the drives as udev lists them now, as if each was announced again; a known
    // drive no longer listed is gone. When udev cannot list them, the drives follow at their next
    // event.
    void reload(const DriveOptions& options);

    // The managed drive named `name_or_device` ("sr0" or "/dev/sr0"), or null.
    const Drive* find(const std::string& name_or_device) const;
    // Reads a managed drive's state from udev now. Throws std::system_error.
    const Drive& refresh(const std::string& name);
    const std::map<std::string, Drive>& drives() const { return drives_; }
    bool busy(const std::string& name) const { return busy_.contains(name); }

    // JobListener (loop thread): a drive's job makes it busy until it ends, or until its acquire
    // stage ends (a DVD-Video's titles are extracted from the image without the drive); the tray
    // opens then (eject_when_done), not at the end of the extraction.
    void on_added(const JobInfo& job) override;
    void on_acquired(const JobInfo& job) override;
    void on_ended(const JobInfo& job) override;

  private:
    void gone(const std::string& name);
    void inserted(const Drive& drive, bool at_start);
    void removed(const std::string& name);
    void set_busy(const std::string& name, bool busy);
    void eject_after(const JobInfo& job);  // per eject_when_done

    DriveOptions options_;
    JobQueue& queue_;
    DriveListener& listener_;
    DriveSystem system_;
    std::map<std::string, Drive> drives_;
    std::set<std::string> busy_;
    MediaTracker media_;
};

}  // namespace freemkv
