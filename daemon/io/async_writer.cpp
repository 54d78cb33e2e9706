#include "async_writer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

namespace freemkv {

void validate(const BufferConfig& c) {
    if (c.block_bytes == 0) {
        throw std::invalid_argument("buffer block size must be > 0");
    }
    if (c.buffer_bytes < 2 * c.block_bytes) {
        throw std::invalid_argument("buffer (" + std::to_string(c.buffer_bytes) +
                                    " bytes) must hold at least two blocks of " +
                                    std::to_string(c.block_bytes) + " bytes");
    }
}

AsyncWriter::AsyncWriter(OutputFile& file, const BufferConfig& config)
    : file_(file), config_(config), next_offset_(file.position()) {
    validate(config_);
    current_.offset = next_offset_;
    thread_ = std::thread([this] { run(); });
}

AsyncWriter::~AsyncWriter() {
    try {
        close();
    } catch (const std::exception& e) {
        spdlog::warn("writer for {} stopped with an error: {}", file_.part_path().string(),
                     e.what());
    }
}

void AsyncWriter::throw_if_failed() {
    if (error_) {
        std::rethrow_exception(error_);
    }
}

void AsyncWriter::seal_current() {
    if (current_.data.empty()) {
        return;
    }
    std::vector<std::byte> fresh;
    if (!free_.empty()) {
        fresh = std::move(free_.back());
        free_.pop_back();
    }
    std::uint64_t next = current_.offset + current_.data.size();
    queue_.push_back(std::move(current_));
    current_ = Block{.offset = next, .data = std::move(fresh), .action = {}};
    work_.notify_one();
}

void AsyncWriter::write(std::span<const std::byte> data) {
    write_at(next_offset_, data);
}

void AsyncWriter::write_at(std::uint64_t offset, std::span<const std::byte> data) {
    std::unique_lock lock(mutex_);
    if (closed_) {
        throw std::logic_error("write to a closed AsyncWriter");
    }
    throw_if_failed();
    if (offset != next_offset_) {
        seal_current();
        current_.offset = offset;
        next_offset_ = offset;
    }
    while (!data.empty()) {
        std::size_t room_in_block = config_.block_bytes - current_.data.size();
        std::size_t n = std::min(data.size(), room_in_block);
        // A block costs its whole buffer from its first byte on, however little it holds.
        std::size_t cost = current_.data.empty() ? config_.block_bytes : 0;
        if (in_flight_ + cost > config_.buffer_bytes) {
            ++stats_.blocked_count;
            auto t0 = std::chrono::steady_clock::now();
            room_.wait(lock, [&] { return error_ || in_flight_ + cost <= config_.buffer_bytes; });
            Nanos waited = std::chrono::steady_clock::now() - t0;
            stats_.blocked_total += waited;
            stats_.blocked_longest = std::max(stats_.blocked_longest, waited);
            throw_if_failed();
        }
        if (current_.data.capacity() < config_.block_bytes) {
            current_.data.reserve(config_.block_bytes);
        }
        current_.data.insert(current_.data.end(), data.begin(),
                             data.begin() + static_cast<std::ptrdiff_t>(n));
        in_flight_ += cost;
        stats_.peak_buffered = std::max(stats_.peak_buffered, in_flight_);
        next_offset_ += n;
        data = data.subspan(n);
        if (current_.data.size() == config_.block_bytes) {
            seal_current();
        }
    }
}

void AsyncWriter::post(std::function<void()> action) {
    std::lock_guard lock(mutex_);
    if (closed_) {
        throw std::logic_error("post to a closed AsyncWriter");
    }
    throw_if_failed();
    seal_current();
    queue_.push_back(Block{.offset = 0, .data = {}, .action = std::move(action)});
    work_.notify_one();
}

void AsyncWriter::flush() {
    std::unique_lock lock(mutex_);
    seal_current();
    drained_.wait(lock, [&] { return error_ || (queue_.empty() && !writing_); });
    throw_if_failed();
}

void AsyncWriter::close() {
    {
        std::unique_lock lock(mutex_);
        if (closed_) {
            return;
        }
        closed_ = true;
        seal_current();
        stop_ = true;
        work_.notify_one();
    }
    thread_.join();
    std::lock_guard lock(mutex_);
    throw_if_failed();
}

ProducerStats AsyncWriter::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

std::vector<AsyncWriter::Extent> AsyncWriter::unwritten() const {
    std::lock_guard lock(mutex_);
    if (!error_) {
        return {};
    }
    std::vector<Extent> out = lost_;
    for (const Block& b : queue_) {  // sealed after the failure
        if (!b.data.empty()) {
            out.push_back({b.offset, b.data.size()});
        }
    }
    if (!current_.data.empty()) {
        out.push_back({current_.offset, current_.data.size()});
    }
    return out;
}

void AsyncWriter::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        work_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) {
            return;  // stop_ and nothing left to write
        }
        Block block = std::move(queue_.front());
        queue_.pop_front();
        writing_ = true;
        lock.unlock();
        std::exception_ptr error;
        try {
            if (block.action) {
                block.action();
            } else {
                file_.write_at(block.offset, block.data);
            }
        } catch (...) {
            error = std::current_exception();
        }
        lock.lock();
        writing_ = false;
        if (!block.data.empty()) {
            in_flight_ -= config_.block_bytes;
            if (error) {
                lost_.push_back({block.offset, block.data.size()});
            }
        }
        if (block.data.capacity() > 0) {
            block.data.clear();
            free_.push_back(std::move(block.data));
        }
        if (error) {
            // Nothing after a failed write can be written safely; drop the rest and report.
            error_ = error;
            for (auto& b : queue_) {
                if (!b.data.empty()) {
                    in_flight_ -= config_.block_bytes;
                    lost_.push_back({b.offset, b.data.size()});
                }
            }
            queue_.clear();
            room_.notify_all();
            drained_.notify_all();
            return;
        }
        room_.notify_all();
        if (queue_.empty()) {
            drained_.notify_all();
        }
    }
}

}  // namespace freemkv
