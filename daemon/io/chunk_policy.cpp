#include "chunk_policy.hpp"

#include <algorithm>
#include <stdexcept>

namespace freemkv {

void validate(const PolicyConfig& c) {
    auto fail = [](const std::string& what) { throw std::invalid_argument(what); };
    if (c.min_bytes == 0) {
        fail("min chunk must be > 0");
    }
    if (c.min_bytes > c.max_bytes) {
        fail("min chunk (" + std::to_string(c.min_bytes) + ") exceeds max chunk (" +
             std::to_string(c.max_bytes) + ")");
    }
    if (c.start_bytes < c.min_bytes || c.start_bytes > c.max_bytes) {
        fail("start chunk (" + std::to_string(c.start_bytes) + ") is outside [" +
             std::to_string(c.min_bytes) + ", " + std::to_string(c.max_bytes) + "]");
    }
    if (c.shrink_below.count() < 0 || c.shrink_below >= c.grow_above) {
        fail("shrink threshold must be >= 0 and below the grow threshold");
    }
}

void WaitWindow::push(Nanos wait) {
    samples_[next_] = wait;
    next_ = (next_ + 1) % capacity;
    count_ = std::min(count_ + 1, capacity);
}

Nanos WaitWindow::p95() const {
    std::array<Nanos, capacity> sorted = samples_;
    auto end = sorted.begin() + static_cast<std::ptrdiff_t>(count_);
    std::sort(sorted.begin(), end);
    // The seed: "p95 of 16 samples ~ sorted[14]".
    return sorted[std::min<std::size_t>(14, count_ - 1)];
}

ChunkPolicy::ChunkPolicy(const PolicyConfig& config)
    : config_(config), chunk_bytes_(config.start_bytes) {
    validate(config_);
}

std::optional<Resize> ChunkPolicy::resize_to(std::uint64_t bytes, Nanos p95) {
    bytes = std::clamp(bytes, config_.min_bytes, config_.max_bytes);
    if (bytes == chunk_bytes_) {
        return std::nullopt;
    }
    Resize r{chunk_bytes_, bytes, p95};
    chunk_bytes_ = bytes;
    return r;
}

std::unique_ptr<ChunkPolicy> make_policy(const PolicyConfig& config) {
    switch (config.kind) {
        case PolicyKind::fixed:
            return std::make_unique<FixedPolicy>(config);
        case PolicyKind::seed:
            return std::make_unique<SeedPolicy>(config);
        case PolicyKind::balanced:
            return std::make_unique<BalancedPolicy>(config);
    }
    throw std::invalid_argument("unknown policy kind");
}

std::optional<Resize> SeedPolicy::record(std::uint64_t, Nanos wait) {
    window_.push(wait);
    if (!window_.full()) {
        return std::nullopt;
    }
    Nanos p95 = window_.p95();
    if (p95 > config_.grow_above) {
        return resize_to(chunk_bytes_ * 2, p95);
    }
    if (p95 < config_.shrink_below) {
        return resize_to(chunk_bytes_ / 2, p95);
    }
    return std::nullopt;
}

std::optional<Resize> BalancedPolicy::record(std::uint64_t chunk_len, Nanos wait) {
    window_.push(wait);
    bytes_in_window_ += chunk_len;
    if (!window_.full()) {
        return std::nullopt;
    }
    // Every decision below is taken on a window filled entirely at the current size.
    Nanos p95 = window_.p95();
    // p95 wait per byte; a window's first sample can belong to a chunk of the previous size, so
    // divide by the mean chunk length rather than the current size.
    double cost = static_cast<double>(p95.count()) * WaitWindow::capacity /
                  static_cast<double>(std::max<std::uint64_t>(bytes_in_window_, 1));
    window_.clear();
    bytes_in_window_ = 0;
    bool held = hold_windows_ > 0;
    if (held) {
        --hold_windows_;
    }

    if (probe_) {
        auto [before_bytes, before_cost] = *probe_;
        probe_.reset();
        if (cost > before_cost * probe_keep_ratio) {
            // The bigger chunk did not make writing cheaper per byte: the storage is bandwidth
            // bound. Go back and leave it alone for a while.
            hold_windows_ = next_hold_;
            next_hold_ = std::min(next_hold_ * 2, max_hold_windows);
            return resize_to(before_bytes, p95);
        }
        next_hold_ = first_hold_windows;
    }
    if (p95 > config_.grow_above && !held && chunk_bytes_ < config_.max_bytes) {
        probe_ = {chunk_bytes_, cost};
        return resize_to(chunk_bytes_ * 2, p95);
    }
    if (p95 < config_.shrink_below) {
        return resize_to(chunk_bytes_ / 2, p95);
    }
    return std::nullopt;
}

}  // namespace freemkv
