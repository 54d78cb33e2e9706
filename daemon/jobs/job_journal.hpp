#pragma once

// The job journal: every job the daemon knows, in "<state_dir>/jobs.toml", rewritten atomically
// on each change of state (not on progress). A restart lists past jobs from it and re-queues the
// ones that were queued or running when the daemon stopped.

#include <filesystem>
#include <vector>

#include "file_system.hpp"
#include "job.hpp"

namespace freemkv {

class JobJournal {
  public:
    // Saves sync and rename through `fs`, which must outlive the journal.
    explicit JobJournal(std::filesystem::path file, FileSystem& fs = real_file_system())
        : file_(std::move(file)), fs_(fs) {}

    // The jobs recorded, oldest first. A missing file is an empty journal; an unreadable one is
    // moved aside to "<file>.corrupt" (logged) so the daemon still starts.
    std::vector<JobInfo> load() const;
    // Throws IoError.
    void save(const std::vector<const JobInfo*>& jobs) const;

    const std::filesystem::path& file() const { return file_; }

    // How many ended jobs are kept.
    static constexpr std::size_t history = 200;

  private:
    std::filesystem::path file_;
    FileSystem& fs_;
};

}  // namespace freemkv
