#pragma once

// The job queue: FIFO, one job per drive at a time, up to `max_parallel` drives ripping at once,
// cancel of queued and running jobs, and a journal in the state directory so that a restart
// lists past jobs and resumes the ones that were interrupted.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "disc_info.hpp"
#include "file_system.hpp"
#include "job.hpp"
#include "job_journal.hpp"
#include "journal_writer.hpp"
#include "naming.hpp"
#include "ripper.hpp"
#include "unique_fd.hpp"
#include "video_options.hpp"

namespace freemkv {

// The drive already has a queued or running job.
class BusyError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// How the queue runs jobs and where their rips go.
struct QueueOptions {
    std::filesystem::path library = "/var/lib/freemkvd/library";
    NamingOptions naming;
    std::filesystem::path state_dir = "/var/lib/freemkvd";  // the journal and the lock
    unsigned max_parallel = 2;                              // drives ripping at once
    unsigned max_extract = 1;  // images being turned into titles at once (no drive held)
    VideoOptions video;        // what a DVD-Video image becomes
    unsigned ecc_sectors = 0;  // ECC block in sectors; 0 = by disc type (16 DVD, 32 BD)
    // What every job's rip starts from: retries, repair budget, checkpoint interval, writeback
    // and buffer. The disc's own fields (identity, block size, source file) are set per job.
    RipOptions rip;
};

class JobQueue {
  public:
    // What to do with jobs the journal lists as queued or running (the daemon stopped or crashed).
    enum class Interrupted {
        requeue,  // run them again now (the daemon)
        abandon,  // mark them failed and resumable: ripping the same disc again resumes
    };
    // Loads the journal from options.state_dir; `journal_fs` syncs and renames its saves and
    // must outlive the queue. Throws BusyError if another process uses that state directory.
    JobQueue(const QueueOptions& options, JobListener* listener = nullptr,
             Interrupted interrupted = Interrupted::requeue,
             FileSystem& journal_fs = real_file_system());
    // shutdown(), then writes the journal's last state.
    ~JobQueue();
    JobQueue(const JobQueue&) = delete;
    JobQueue& operator=(const JobQueue&) = delete;

    // Returns the new job's id. Throws BusyError, std::invalid_argument for an empty source.
    std::uint64_t submit(JobRequest request);
    // Cancels a queued or running job; false when the id is unknown or already ended.
    bool cancel(std::uint64_t id);
    std::vector<JobInfo> jobs() const;
    std::optional<JobInfo> job(std::uint64_t id) const;
    std::size_t queued() const;
    std::size_t running() const;
    // The options for jobs that start from now on (running ones keep theirs). The state
    // directory cannot change: the caller refuses that.
    void set_options(const QueueOptions& options);
    // Blocks until no job is queued or running, and the listener has been told of their ends.
    void wait_idle();
    // Stops taking jobs, cancels running ones (they checkpoint and stay resumable) and waits.
    void shutdown();
    // Blocks until the journal records every change made so far. The journal is written on its
    // own thread: no queue call waits for its fsyncs.
    void flush_journal();

  private:
    struct Entry {
        JobInfo info;
        std::stop_source stop;
        std::shared_ptr<UniqueFd> image;  // request.image, held here until the job ends
    };

    void start_ready();  // caller holds mutex_
    void run(std::uint64_t id, std::stop_token stop);
    // Identifies the disc and chooses the output path (the earlier one, to resume).
    DiscInfo prepare(JobInfo& job, const QueueOptions& options, std::stop_token stop);
    // Posts a snapshot to journal_writer_; caller holds mutex_.
    void save_journal();
    Entry* find(std::uint64_t id);  // caller holds mutex_

    QueueOptions options_;
    JobListener* listener_;
    UniqueFd state_lock_;  // flock on "<state_dir>/lock"
    JobJournal journal_;
    JournalWriter journal_writer_;

    mutable std::mutex mutex_;
    std::condition_variable idle_;
    // Every job not ended and the newest JobJournal::history ended ones, oldest first; stable
    // addresses.
    std::list<Entry> entries_;
    std::deque<std::uint64_t> waiting_;
    std::map<std::uint64_t, std::jthread> workers_;
    std::vector<std::jthread> finished_workers_;
    std::uint64_t next_id_ = 1;
    std::uint64_t names_promised_ = 0;  // counts outputs recorded by prepare(); see there
    bool stopping_ = false;
};

}  // namespace freemkv
