#pragma once

// Writes the job journal on a thread of its own, so that nobody waits for its fsyncs: not the
// queue's callers (the bus loop), not the rips. A save of jobs.toml can take seconds when the
// state directory shares a filesystem with a rip's dirty data.
//
// post() takes a complete snapshot of the journal and returns at once. Only the newest snapshot
// matters, so one waiting to be written is replaced by a newer one (coalesced), and the single
// writer thread writes them in the order they were posted: an older snapshot never overwrites
// a newer one. Callers post under their own lock, so that order is the order of their changes.

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "job.hpp"
#include "job_journal.hpp"

namespace freemkv {

class JournalWriter {
  public:
    // `journal` must outlive the writer.
    explicit JournalWriter(const JobJournal& journal);
    // Writes what is still waiting, then stops.
    ~JournalWriter();
    JournalWriter(const JournalWriter&) = delete;
    JournalWriter& operator=(const JournalWriter&) = delete;

    void post(std::vector<JobInfo> snapshot);
    // Blocks until every snapshot posted before the call has been written (or failed, logged).
    void flush();

  private:
    void loop(std::stop_token stop);

    const JobJournal& journal_;
    std::mutex mutex_;
    std::condition_variable_any changed_;
    std::optional<std::vector<JobInfo>> pending_;
    std::uint64_t posted_ = 0;   // snapshots posted
    std::uint64_t written_ = 0;  // the newest snapshot written, by its post number
    std::jthread thread_;        // last: it starts once the members above exist
};

}  // namespace freemkv
