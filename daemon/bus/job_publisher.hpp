#pragma once

// The jobs on the bus: the JobQueue's JobListener. Rip workers report from their own threads;
// each report is handed to the loop thread, which applies it to the job's JobObject and sends
// the Manager's JobAdded and JobEnded. PropertiesChanged is batched: flush() sends what changed,
// a few times per second. Ended jobs are kept for a bounded history.

#include <sdbus-c++/sdbus-c++.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "event_loop.hpp"
#include "job.hpp"
#include "job_queue.hpp"

namespace freemkv::bus {

class JobObject;
class ManagerObject;

class JobPublisher final : public JobListener {
  public:
    // Construct on the loop thread. `history` is how many ended jobs stay published.
    JobPublisher(sdbus::IConnection& connection, EventLoop& loop, ManagerObject& manager,
                 unsigned history);
    ~JobPublisher();

    // Publishes the queue's jobs (those from its journal); Cancel goes to the queue. From now on
    // every event is also passed on to `next`, on the loop thread, once it is published.
    void attach(JobQueue& queue, JobListener& next);
    // Keeps at most `history` ended jobs, dropping the oldest now.
    void set_history(unsigned history);
    std::vector<std::string> paths() const;
    // Sends the jobs' PropertiesChanged and Resized since the last flush, and the Manager's
    // QueueLength and RunningJobs when they changed.
    void flush();
    // freemkvd is stopping (loop thread, the loop has ended): the jobs `ids`, running until now,
    // are interrupted and resume at the next start. Completed and JobEnded say so; they go out
    // when the connection is flushed at close.
    void interrupted(const std::vector<std::uint64_t>& ids);

    // JobListener: called on any thread.
    void on_added(const JobInfo& job) override;
    void on_progress(const JobInfo& job) override;
    void on_resize(const JobInfo& job, const Resize& resize) override;
    void on_acquired(const JobInfo& job) override;
    void on_ended(const JobInfo& job) override;

  private:
    // Runs `task` now when on the loop thread, else posts it there.
    void on_loop(std::function<void()> task);
    JobObject& object(const JobInfo& job);
    void trim();

    sdbus::IConnection& connection_;
    EventLoop& loop_;
    ManagerObject& manager_;
    unsigned history_;
    std::thread::id loop_thread_;
    JobQueue* queue_ = nullptr;
    JobListener* next_ = nullptr;
    std::map<std::uint64_t, std::unique_ptr<JobObject>> jobs_;
    std::uint32_t last_queued_ = 0;
    std::uint32_t last_running_ = 0;
};

}  // namespace freemkv::bus
