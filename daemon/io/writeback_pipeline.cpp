#include "writeback_pipeline.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <cerrno>

#include "io_error.hpp"

namespace freemkv {

namespace {

// Every this many chunks, log the chunk size at debug level, so someone tailing the log can see
// where the policy settled.
constexpr std::uint64_t size_log_interval = 32;

using Clock = std::chrono::steady_clock;

void sync_range(FileRef file, std::uint64_t offset, std::uint64_t length, unsigned flags) {
    if (::sync_file_range(file.fd, static_cast<off_t>(offset), static_cast<off_t>(length), flags) !=
        0) {
        throw IoError(flags == SYNC_FILE_RANGE_WRITE ? "write back" : "wait for write-back",
                      file.path, offset, errno);
    }
}

double ms(Nanos d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

WritebackPipeline::WritebackPipeline(const PolicyConfig& policy, std::uint64_t start_pos,
                                     WritebackObserver* observer)
    : policy_(make_policy(policy)), observer_(observer), last_flush_pos_(start_pos) {}

std::pair<Nanos, Nanos> WritebackPipeline::settle(FileRef file, Range range) {
    auto t0 = Clock::now();
    sync_range(file, range.offset, range.length, SYNC_FILE_RANGE_WAIT_AFTER);
    auto t1 = Clock::now();
    int err = ::posix_fadvise(file.fd, static_cast<off_t>(range.offset),
                              static_cast<off_t>(range.length), POSIX_FADV_DONTNEED);
    if (err != 0) {
        throw IoError("drop cached pages of", file.path, range.offset, err);
    }
    return {t1 - t0, Clock::now() - t1};
}

void WritebackPipeline::note_progress(FileRef file, std::uint64_t pos) {
    if (pos < last_flush_pos_ + policy_->chunk_bytes()) {
        return;
    }
    Range chunk{last_flush_pos_, pos - last_flush_pos_};
    sync_range(file, chunk.offset, chunk.length, SYNC_FILE_RANGE_WRITE);
    Nanos wait{0};
    Nanos fadvise{0};
    std::optional<Resize> resize;
    if (pending_) {
        Range previous = *pending_;
        pending_.reset();
        std::tie(wait, fadvise) = settle(file, previous);
        resize = policy_->record(previous.length, wait);
    }
    pending_ = chunk;
    last_flush_pos_ = pos;
    ++chunk_count_;

    ChunkEvent event{chunk.offset, chunk.length, wait, fadvise, policy_->chunk_bytes()};
    spdlog::trace("writeback chunk off={} len={} wait_ms={:.3f} fadvise_ms={:.3f} chunk_bytes={}",
                  event.offset, event.length, ms(wait), ms(fadvise), event.chunk_bytes);
    if (observer_) {
        observer_->on_chunk(event);
    }
    if (resize) {
        spdlog::info("writeback {}: chunk {} -> {} MiB (p95 wait {:.1f} ms)", file.path.string(),
                     resize->old_bytes / MiB, resize->new_bytes / MiB, ms(resize->p95));
        if (observer_) {
            observer_->on_resize(*resize);
        }
    }
    if (chunk_count_ % size_log_interval == 0) {
        spdlog::debug("writeback {}: chunk {} MiB after {} chunks", file.path.string(),
                      policy_->chunk_bytes() / MiB, chunk_count_);
    }
}

void WritebackPipeline::handle_seek(FileRef file, std::uint64_t pos, std::uint64_t new_pos) {
    finalize(file, pos);
    last_flush_pos_ = new_pos;
}

void WritebackPipeline::finalize(FileRef file, std::uint64_t pos) {
    if (pos > last_flush_pos_) {
        Range tail{last_flush_pos_, pos - last_flush_pos_};
        sync_range(file, tail.offset, tail.length, SYNC_FILE_RANGE_WRITE);
        last_flush_pos_ = pos;
        if (pending_) {
            Range previous = *pending_;
            pending_.reset();
            settle(file, previous);
        }
        pending_ = tail;
    }
    if (pending_) {
        Range previous = *pending_;
        pending_.reset();
        settle(file, previous);
    }
}

}  // namespace freemkv
