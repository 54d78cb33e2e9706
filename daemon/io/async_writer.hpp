#pragma once

// A bounded buffer between the disc reader and the OutputFile, so a slow WAIT_AFTER (or any
// storage hiccup) delays neither the drive nor the caller. write() copies into fixed-size blocks
// and returns at once while the buffer has room; a writer thread drains the blocks into the file.
// The producer blocks only when `buffer_bytes` are already in flight, and that time is counted.
//
// The first error on the writer thread (ENOSPC, EIO, ...) is rethrown to the producer by its next
// write(), flush() or close(); data the writer already wrote stays in the file, and unwritten()
// tells what did not reach it.
//
// The bound is on memory: every block holding data costs a whole block_bytes buffer, so many
// small writes at scattered offsets (a repair pass) are bounded like large ones.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "chunk_policy.hpp"
#include "output_file.hpp"

namespace freemkv {

struct BufferConfig {
    std::size_t buffer_bytes = 64 * MiB;  // memory bound for data not yet written
    std::size_t block_bytes = 1 * MiB;    // unit handed to the writer thread
};

// Throws std::invalid_argument naming the offending field.
void validate(const BufferConfig& config);

struct ProducerStats {
    Nanos blocked_total{0};    // time write() spent waiting for room
    Nanos blocked_longest{0};  // longest single wait
    std::uint64_t blocked_count = 0;
    std::size_t peak_buffered = 0;  // most buffer memory held at once; never above buffer_bytes
};

class AsyncWriter {
  public:
    struct Extent {
        std::uint64_t offset = 0;
        std::uint64_t size = 0;
    };

    AsyncWriter(OutputFile& file, const BufferConfig& config);
    // Stops the writer after draining what is queued; errors are logged, not thrown.
    ~AsyncWriter();
    AsyncWriter(const AsyncWriter&) = delete;
    AsyncWriter& operator=(const AsyncWriter&) = delete;

    void write(std::span<const std::byte> data);
    void write_at(std::uint64_t offset, std::span<const std::byte> data);
    // Runs `action` on the writer thread once everything written before this call is in the
    // file, without waiting for it. If it throws, that is the writer's error. This is how a rip
    // checkpoints: sync the file, then record what is now durable.
    void post(std::function<void()> action);
    // Returns once everything written so far is in the file (not necessarily durable).
    void flush();
    // flush(), then stops the writer thread. Idempotent.
    void close();

    ProducerStats stats() const;
    // After a failure: the data write() took that did not reach the file (the block that failed,
    // whole, and everything behind it). Empty while nothing failed.
    std::vector<Extent> unwritten() const;

  private:
    struct Block {
        std::uint64_t offset = 0;
        std::vector<std::byte> data;
        std::function<void()> action;  // a posted action instead of data
    };

    void seal_current();     // caller holds mutex_
    void throw_if_failed();  // caller holds mutex_
    void run();

    OutputFile& file_;
    BufferConfig config_;

    mutable std::mutex mutex_;
    std::condition_variable room_;     // producer waits: queued bytes fell, or failure
    std::condition_variable work_;     // writer waits: a block was queued, or stop
    std::condition_variable drained_;  // flush() waits: queue empty and writer idle
    std::deque<Block> queue_;
    std::vector<std::vector<std::byte>> free_;  // recycled block buffers
    Block current_;                             // block the producer is filling
    std::uint64_t next_offset_;                 // where the producer's next byte goes
    std::size_t in_flight_ = 0;  // buffer memory of the blocks in queue_, current_, being written
    bool writing_ = false;
    bool stop_ = false;
    bool closed_ = false;
    std::exception_ptr error_;
    std::vector<Extent> lost_;  // taken off the queue by the failure
    ProducerStats stats_;

    std::thread thread_;
};

}  // namespace freemkv
