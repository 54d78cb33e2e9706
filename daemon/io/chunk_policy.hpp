#pragma once

// How big a writeback chunk should be, decided from how long WAIT_AFTER took on recent chunks.
//
// Three policies:
//  - fixed:    never resizes (a baseline for the benchmark).
//  - seed:     libfreemkv 0.20.4's rule, kept exactly for comparison: a rolling window of the last
//              16 waits; once full, every new sample decides on the p95 (15th smallest): > 200 ms
//              doubles, < 20 ms halves. The window is not cleared after a resize.
//  - balanced: the default. The seed's rule runs away on bandwidth-limited storage: there the
//              wait grows with the chunk itself, so doubling makes the next wait longer and the
//              chunk (and dirty memory) climbs to the maximum without writing any faster. Larger
//              chunks only help when each flush has a fixed cost (a network round trip, a seek),
//              and then the wait *per byte* falls as the chunk grows. So growth is a probe: double,
//              fill a fresh window at the new size, keep it only if the p95 wait per byte fell by
//              at least a quarter; otherwise go back and hold off further probes (exponentially
//              longer after each failed one). Shrinking is the seed's rule.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "enum_names.hpp"

namespace freemkv {

using Nanos = std::chrono::nanoseconds;

inline constexpr std::uint64_t MiB = 1024 * 1024;

enum class PolicyKind { fixed, seed, balanced };

inline constexpr EnumNames<PolicyKind, 3> policy_kind_names{{
    {PolicyKind::balanced, "balanced"},
    {PolicyKind::seed, "seed"},
    {PolicyKind::fixed, "fixed"},
}};
inline std::string_view to_string(PolicyKind kind) {
    return name_of(policy_kind_names, kind);
}
inline std::optional<PolicyKind> parse_policy_kind(std::string_view name) {
    return value_of(policy_kind_names, name);
}

struct PolicyConfig {
    PolicyKind kind = PolicyKind::balanced;
    std::uint64_t start_bytes = 32 * MiB;
    std::uint64_t min_bytes = 4 * MiB;
    std::uint64_t max_bytes = 256 * MiB;
    Nanos grow_above = std::chrono::milliseconds(200);
    Nanos shrink_below = std::chrono::milliseconds(20);
};

// Throws std::invalid_argument naming the offending field.
void validate(const PolicyConfig& config);

struct Resize {
    std::uint64_t old_bytes;
    std::uint64_t new_bytes;
    Nanos p95;
};

// The last 16 WAIT_AFTER samples, as the seed keeps them.
class WaitWindow {
  public:
    static constexpr std::size_t capacity = 16;

    void push(Nanos wait);
    bool full() const { return count_ == capacity; }
    std::size_t size() const { return count_; }
    void clear() { count_ = 0; }
    // 15th smallest of the 16 (the seed's p95); the largest when not full. Requires size() > 0.
    Nanos p95() const;

  private:
    std::array<Nanos, capacity> samples_{};
    std::size_t next_ = 0;
    std::size_t count_ = 0;
};

class ChunkPolicy {
  public:
    explicit ChunkPolicy(const PolicyConfig& config);
    virtual ~ChunkPolicy() = default;

    std::uint64_t chunk_bytes() const { return chunk_bytes_; }
    // One WAIT_AFTER measurement for a chunk of `chunk_len` bytes. Returns the resize it caused.
    virtual std::optional<Resize> record(std::uint64_t chunk_len, Nanos wait) = 0;

  protected:
    // Sets the chunk size, clamped to the bounds; returns the resize if the size changed.
    std::optional<Resize> resize_to(std::uint64_t bytes, Nanos p95);

    PolicyConfig config_;
    std::uint64_t chunk_bytes_;
};

std::unique_ptr<ChunkPolicy> make_policy(const PolicyConfig& config);

class FixedPolicy final : public ChunkPolicy {
  public:
    using ChunkPolicy::ChunkPolicy;
    std::optional<Resize> record(std::uint64_t, Nanos) override { return std::nullopt; }
};

class SeedPolicy final : public ChunkPolicy {
  public:
    using ChunkPolicy::ChunkPolicy;
    std::optional<Resize> record(std::uint64_t chunk_len, Nanos wait) override;

  private:
    WaitWindow window_;
};

class BalancedPolicy final : public ChunkPolicy {
  public:
    using ChunkPolicy::ChunkPolicy;
    std::optional<Resize> record(std::uint64_t chunk_len, Nanos wait) override;

    // A probe is kept when the wait per byte falls to this fraction or less.
    static constexpr double probe_keep_ratio = 0.75;
    // Full windows to wait before probing again after the first failed probe; doubles each time.
    static constexpr unsigned first_hold_windows = 4;
    static constexpr unsigned max_hold_windows = 256;

  private:
    WaitWindow window_;
    std::uint64_t bytes_in_window_ = 0;
    // Set while a grow is on probation: the size before it and that size's p95 wait per byte.
    std::optional<std::pair<std::uint64_t, double>> probe_;
    unsigned hold_windows_ = 0;
    unsigned next_hold_ = first_hold_windows;
};

}  // namespace freemkv
