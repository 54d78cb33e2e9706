#pragma once

// Follows jobs to their end on one thread: the connection's messages are processed from a
// poll loop, so signal handlers and async replies never race the reads and the drawing.
//
// No signal is lost between reading a job and following it: the Manager's JobAdded/JobEnded and
// each job's PropertiesChanged are subscribed before the job's properties are read, and the read
// is asynchronous, so its reply is processed in order with the signals. A PropertiesChanged
// that arrives while a read is in flight is older than the read's reply and is dropped.

#include <sdbus-c++/sdbus-c++.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bus.hpp"
#include "ctl.hpp"
#include "job_view.hpp"

namespace freemkv::ctl {

class Watcher {
  public:
    // Subscribes to the Manager's signals and to the daemon leaving the bus.
    Watcher(sdbus::IConnection& connection, const Options& options);
    ~Watcher();
    Watcher(const Watcher&) = delete;
    Watcher& operator=(const Watcher&) = delete;

    ManagerProxy& manager() { return manager_; }

    // Watches the jobs that have not ended yet, and the jobs added while watching.
    void watch_active();
    // Watches the job at `path` (which the daemon lists), even when it has already ended.
    void watch(const std::string& path);

    // Draws progress until every watched job has ended; returns them as they ended. Throws
    // sdbus::Error when a read fails or the daemon leaves the bus.
    std::vector<JobView> run();

  private:
    enum class Origin {
        named,      // on the command line, or just started: followed even when already ended
        initial,    // present when watch_active() listed the jobs: skipped when already ended
        announced,  // added while watching
    };

    struct Entry {
        JobView view;
        std::unique_ptr<JobProxy> proxy;
        Origin origin = Origin::named;
        bool loaded = false;          // the first read of the Job properties arrived
        bool telemetry_read = false;  // the first read of Telemetry answered, maybe with an error
        bool dropped = false;         // ended before we looked, or vanished: not shown
        int reading_job = 0;          // reads in flight, per interface
        int reading_telemetry = 0;
        std::string last_printed;
    };

    Entry* find(const std::string& path);
    void add(const std::string& path, Origin origin);
    void read(Entry& entry, const char* iface);
    void on_read(Entry& entry, bool job, const sdbus::Error* error, const Props& props);
    void on_changed(Entry& entry, const std::string& iface, const Props& changed,
                    const std::vector<std::string>& invalidated);
    void on_ended(const std::string& path, const std::string& result, const std::string& output);
    // Creates the entries for jobs added by signal; true when there were any.
    bool add_announced();
    // Shown from when both first reads have answered, so no line lacks the chunk size.
    static bool ready(const Entry& entry) { return entry.loaded && entry.telemetry_read; }
    bool finished() const;
    void draw();

    sdbus::IConnection& connection_;
    Options options_;
    ManagerProxy manager_;
    sdbus::Slot owner_match_;
    bool follow_new_ = false;
    std::vector<std::unique_ptr<Entry>> entries_;  // stable addresses for the callbacks
    std::vector<std::string> announced_;           // JobAdded, not yet followed
    // JobEnded of every job, for a job whose object is gone before it could be read.
    std::map<std::string, std::pair<std::string, std::string>> ended_;
    std::optional<sdbus::Error> error_;
    std::size_t lines_drawn_ = 0;
    std::string last_frame_;
};

}  // namespace freemkv::ctl
