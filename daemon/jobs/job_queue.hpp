#pragma once

// The job queue: FIFO, one job per drive at a time, up to `max_parallel` drives ripping at once,
// cancel of queued and running jobs, and a journal in the state directory so that a restart
// lists past jobs and resumes the ones that were interrupted.
//
// A job has two stages. It acquires the disc into an image (the rip, holding the drive); when
// the image is a DVD-Video and the queue has a title extractor, the job then releases the drive
// (JobInfo::released, JobListener::on_acquired: the drive may eject and take the next job at
// once) and extracts its titles from the image (extract_stage.hpp), up to `max_extract` jobs at
// once, holding no drive. Without an extractor, and for data discs, the image is the result.
// An audio CD (or a cue sheet) has one stage instead, the audio stage (audio_stage.hpp), which
// holds its drive to the end.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "audio_stage.hpp"
#include "descrambler.hpp"
#include "disc_info.hpp"
#include "extract_stage.hpp"
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
    AudioOptions audio;        // how an audio CD is read and what it becomes
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
    // `extractor` writes a DVD-Video title as MKV; null: every image stays an image.
    JobQueue(const QueueOptions& options, JobListener* listener = nullptr,
             Interrupted interrupted = Interrupted::requeue,
             FileSystem& journal_fs = real_file_system(), TitleExtractor extractor = nullptr);
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
        std::shared_ptr<UniqueFd> bin;    // request.bin, the same
        bool acquiring = false;           // running and holding its drive (a max_parallel slot)
    };

    void start_ready();  // caller holds mutex_
    void run(std::uint64_t id, std::stop_token stop);
    // Identifies the disc, decides on its protection (a CSS DVD's `descrambler`, or a refusal
    // thrown as DiscError) and chooses the output path (the earlier one, to resume).
    DiscInfo prepare(JobInfo& job, const QueueOptions& options,
                     std::shared_ptr<Descrambler>& descrambler, std::stop_token stop);
    // The acquire stage: identify, name, rip into the image.
    RipResult acquire(JobInfo& job, const QueueOptions& options, RipObserver& forward,
                      std::stop_token stop);
    // After the acquire stage: if the image is a DVD-Video, plans the extract stage and releases
    // the drive. False for a data disc (the job ends as before).
    bool release_for_extract(JobInfo& job, const QueueOptions& options,
                             std::vector<TitleInfo>& titles);
    // The extract stage, within max_extract.
    RipResult extract(JobInfo& job, const QueueOptions& options,
                      const std::vector<TitleInfo>& titles, const RipResult& base,
                      std::stop_token stop);
    // The audio stage, for an audio CD or a cue sheet.
    RipResult rip_audio(JobInfo& job, const QueueOptions& options, std::stop_token stop);
    // A stage's change of the job (its names, artifacts, progress) into the entry, journaled
    // when `journal`, and to the listener.
    void report_stage(const JobInfo& now, bool journal);
    // What made the job's result: the stage that set its folder and artifacts, if any.
    enum class Stage { acquire, extract, audio };
    // Records the job's end, tells the listener, and leaves workers_.
    void finish(std::uint64_t id, const JobInfo& job, Stage stage, RipResult result);
    // Posts a snapshot to journal_writer_; caller holds mutex_.
    void save_journal();
    Entry* find(std::uint64_t id);  // caller holds mutex_

    QueueOptions options_;
    JobListener* listener_;
    UniqueFd state_lock_;  // flock on "<state_dir>/lock"
    TitleExtractor extractor_;
    JobJournal journal_;
    JournalWriter journal_writer_;

    mutable std::mutex mutex_;
    std::condition_variable idle_;
    std::condition_variable_any extract_slot_;
    unsigned extracting_ = 0;
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
