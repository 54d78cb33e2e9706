#pragma once

// Linux writeback pipeline using sync_file_range + posix_fadvise (after libfreemkv 0.20.4).
//
// Pathology: the kernel lets dirty pages pile up to vm.dirty_ratio (~20 % of RAM) during a long
// sequential write and then flushes them in a burst; while the burst runs, the writer blocks on
// the writeback queue and a ripping drive stalls (seen as 15 MB/s dropping to 1 MB/s every ~30 s).
//
// Strategy: every chunk_bytes of sequential output, kick async writeback of the chunk just
// finished (SYNC_FILE_RANGE_WRITE) and finalise the chunk before it (SYNC_FILE_RANGE_WAIT_AFTER,
// then POSIX_FADV_DONTNEED). By then that chunk had a whole chunk's time to reach the disk, so the
// wait is short; dirty cache stays near 2 x chunk_bytes and the disk drains continuously. The
// chunk size comes from a ChunkPolicy fed with each WAIT_AFTER time.
//
// Differences from the seed: the pipeline never stores a file descriptor (the owner passes it on
// each call, so there is nothing to alias); every syscall is checked and a failure throws IoError
// with path and offset; waits are measured in nanoseconds; and a drain (seek, finish) also writes
// back and drops the unflushed tail after the last chunk boundary, which the seed left dirty.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>

#include "chunk_policy.hpp"
#include "writeback_observer.hpp"

namespace freemkv {

// The file a pipeline call works on, borrowed for the duration of that call.
struct FileRef {
    int fd;
    const std::filesystem::path& path;
};

class WritebackPipeline {
  public:
    WritebackPipeline(const PolicyConfig& policy, std::uint64_t start_pos,
                      WritebackObserver* observer = nullptr);

    // The caller's sequential output now ends at `pos`. Crossing a chunk boundary kicks writeback
    // of the finished chunk and finalises the previous one.
    void note_progress(FileRef file, std::uint64_t pos);
    // The caller is about to write at `new_pos` instead of continuing at `pos`: drain first.
    void handle_seek(FileRef file, std::uint64_t pos, std::uint64_t new_pos);
    // Writes back and drops everything up to `pos`. Idempotent.
    void finalize(FileRef file, std::uint64_t pos);

    std::uint64_t chunk_bytes() const { return policy_->chunk_bytes(); }
    std::uint64_t chunk_count() const { return chunk_count_; }

  private:
    struct Range {
        std::uint64_t offset;
        std::uint64_t length;
    };

    // WAIT_AFTER + DONTNEED on `range`; returns the wait and fadvise durations.
    std::pair<Nanos, Nanos> settle(FileRef file, Range range);

    std::unique_ptr<ChunkPolicy> policy_;
    WritebackObserver* observer_;
    std::uint64_t last_flush_pos_;
    std::optional<Range> pending_;
    std::uint64_t chunk_count_ = 0;
};

}  // namespace freemkv
