#include "chunk_policy.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace freemkv {
namespace {

using std::chrono::milliseconds;

PolicyConfig config(PolicyKind kind, std::uint64_t start = 32 * MiB) {
    PolicyConfig c;
    c.kind = kind;
    c.start_bytes = start;
    return c;
}

// Feeds `n` samples of (len, wait) and returns the chunk size after each.
std::vector<std::uint64_t> feed(ChunkPolicy& p, int n, std::uint64_t len, Nanos wait) {
    std::vector<std::uint64_t> sizes;
    for (int i = 0; i < n; ++i) {
        p.record(len, wait);
        sizes.push_back(p.chunk_bytes());
    }
    return sizes;
}

TEST(WaitWindow, P95IsFifteenthSmallestOfSixteen) {
    WaitWindow w;
    for (int i = 1; i <= 16; ++i) {
        w.push(milliseconds(i * 10));
    }
    EXPECT_TRUE(w.full());
    EXPECT_EQ(w.p95(), milliseconds(150));
}

TEST(WaitWindow, RollsOldestOut) {
    WaitWindow w;
    for (int i = 0; i < 16; ++i) {
        w.push(milliseconds(1000));
    }
    for (int i = 0; i < 15; ++i) {
        w.push(milliseconds(1));
    }
    EXPECT_EQ(w.p95(), milliseconds(1)) << "one remaining outlier is above the p95";
    w.push(milliseconds(1));
    EXPECT_EQ(w.p95(), milliseconds(1));
}

struct SeedCase {
    const char* name;
    std::uint64_t start;
    Nanos wait;
    std::uint64_t after_16;
};

class SeedTable : public testing::TestWithParam<SeedCase> {};

TEST_P(SeedTable, DecidesOnFullWindow) {
    const SeedCase& c = GetParam();
    SeedPolicy p(config(PolicyKind::seed, c.start));
    auto sizes = feed(p, 16, c.start, c.wait);
    for (int i = 0; i < 15; ++i) {
        EXPECT_EQ(sizes[i], c.start)
            << "no decision before the window is full (sample " << i << ")";
    }
    EXPECT_EQ(sizes[15], c.after_16);
}

INSTANTIATE_TEST_SUITE_P(
    Policy, SeedTable,
    testing::Values(SeedCase{"grow", 32 * MiB, milliseconds(300), 64 * MiB},
                    SeedCase{"shrink", 32 * MiB, milliseconds(5), 16 * MiB},
                    SeedCase{"hold_between", 32 * MiB, milliseconds(100), 32 * MiB},
                    SeedCase{"at_grow_threshold", 32 * MiB, milliseconds(200), 32 * MiB},
                    SeedCase{"at_shrink_threshold", 32 * MiB, milliseconds(20), 32 * MiB},
                    SeedCase{"clamp_max", 256 * MiB, milliseconds(900), 256 * MiB},
                    SeedCase{"clamp_to_max", 200 * MiB, milliseconds(900), 256 * MiB},
                    SeedCase{"clamp_min", 4 * MiB, milliseconds(0), 4 * MiB},
                    SeedCase{"clamp_to_min", 6 * MiB, milliseconds(0), 4 * MiB}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(SeedPolicy, KeepsWindowAcrossResizesLikeTheSeed) {
    SeedPolicy p(config(PolicyKind::seed));
    feed(p, 16, 32 * MiB, milliseconds(300));
    ASSERT_EQ(p.chunk_bytes(), 64 * MiB);
    // The seed does not clear the window: the very next slow sample doubles again.
    p.record(64 * MiB, milliseconds(300));
    EXPECT_EQ(p.chunk_bytes(), 128 * MiB);
}

TEST(SeedPolicy, WindowRollingChangesTheDecision) {
    SeedPolicy p(config(PolicyKind::seed, 4 * MiB));
    feed(p, 16, 4 * MiB, milliseconds(100));  // between the thresholds: no change
    ASSERT_EQ(p.chunk_bytes(), 4 * MiB);
    // Fast samples replace the slow ones; once at most one slow one is left, p95 < 20 ms, but
    // the chunk is already at the minimum: it must stay there.
    feed(p, 16, 4 * MiB, milliseconds(1));
    EXPECT_EQ(p.chunk_bytes(), 4 * MiB);
    // Now slow samples roll in; the decision flips only when two are in the window.
    p.record(4 * MiB, milliseconds(500));
    EXPECT_EQ(p.chunk_bytes(), 4 * MiB);
    p.record(4 * MiB, milliseconds(500));
    EXPECT_EQ(p.chunk_bytes(), 8 * MiB);
}

TEST(SeedPolicy, ThresholdsAreConfigurable) {
    PolicyConfig c = config(PolicyKind::seed);
    c.grow_above = milliseconds(50);
    c.shrink_below = milliseconds(10);
    SeedPolicy p(c);
    feed(p, 16, 32 * MiB, milliseconds(60));
    EXPECT_EQ(p.chunk_bytes(), 64 * MiB);
}

TEST(SeedPolicy, RunsAwayWhenWaitGrowsWithChunk) {
    // Bandwidth-limited storage: the wait is proportional to the chunk (10 ns per byte).
    SeedPolicy p(config(PolicyKind::seed));
    for (int i = 0; i < 64; ++i) {
        std::uint64_t len = p.chunk_bytes();
        p.record(len, Nanos(len * 10));
    }
    EXPECT_EQ(p.chunk_bytes(), 256 * MiB) << "the pathology the balanced policy fixes";
}

TEST(BalancedPolicy, DoesNotRunAwayOnBandwidthLimitedStorage) {
    BalancedPolicy p(config(PolicyKind::balanced));
    std::uint64_t largest = 0;
    for (int i = 0; i < 16 * 200; ++i) {
        std::uint64_t len = p.chunk_bytes();
        p.record(len, Nanos(len * 10));
        largest = std::max(largest, p.chunk_bytes());
    }
    EXPECT_EQ(p.chunk_bytes(), 32 * MiB);
    EXPECT_EQ(largest, 64 * MiB) << "only one probe step above the start";
}

TEST(BalancedPolicy, ProbesLessOftenAfterEachFailedProbe) {
    BalancedPolicy p(config(PolicyKind::balanced));
    std::vector<int> probe_windows;
    for (int window = 0; window < 60; ++window) {
        for (int i = 0; i < 16; ++i) {
            std::uint64_t len = p.chunk_bytes();
            p.record(len, Nanos(len * 10));
        }
        if (p.chunk_bytes() == 64 * MiB) {
            probe_windows.push_back(window);
        }
    }
    // Probe, revert, hold 4, probe, revert, hold 8, ...
    ASSERT_GE(probe_windows.size(), 3u);
    EXPECT_EQ(probe_windows[0], 0);
    EXPECT_EQ(probe_windows[1] - probe_windows[0], 2 + 4);
    EXPECT_EQ(probe_windows[2] - probe_windows[1], 2 + 8);
}

TEST(BalancedPolicy, GrowsWhereEachFlushHasAFixedCost) {
    // Per-flush latency: the wait does not depend on the chunk, so bigger chunks pay off.
    BalancedPolicy p(config(PolicyKind::balanced));
    for (int i = 0; i < 16 * 8; ++i) {
        p.record(p.chunk_bytes(), milliseconds(300));
    }
    EXPECT_EQ(p.chunk_bytes(), 256 * MiB);
}

TEST(BalancedPolicy, ShrinksOnFastStorageToTheMinimum) {
    BalancedPolicy p(config(PolicyKind::balanced));
    auto sizes = feed(p, 16 * 4, 32 * MiB, milliseconds(2));
    EXPECT_EQ(sizes[15], 16 * MiB);
    EXPECT_EQ(sizes[16 + 14], 16 * MiB) << "a fresh window is needed after each resize";
    EXPECT_EQ(sizes[31], 8 * MiB);
    EXPECT_EQ(p.chunk_bytes(), 4 * MiB);
}

TEST(BalancedPolicy, NoDecisionBeforeTheWindowIsFull) {
    BalancedPolicy p(config(PolicyKind::balanced));
    auto sizes = feed(p, 15, 32 * MiB, milliseconds(900));
    EXPECT_EQ(sizes.back(), 32 * MiB);
}

TEST(FixedPolicy, NeverResizes) {
    FixedPolicy p(config(PolicyKind::fixed));
    feed(p, 64, 32 * MiB, milliseconds(900));
    EXPECT_EQ(p.chunk_bytes(), 32 * MiB);
}

TEST(PolicyConfig, RejectsBadBounds) {
    PolicyConfig c;
    c.min_bytes = 64 * MiB;
    c.max_bytes = 32 * MiB;
    EXPECT_THROW(validate(c), std::invalid_argument);
    c = PolicyConfig{};
    c.start_bytes = 1 * MiB;
    EXPECT_THROW(make_policy(c), std::invalid_argument);
    c = PolicyConfig{};
    c.shrink_below = milliseconds(300);
    EXPECT_THROW(validate(c), std::invalid_argument);
}

TEST(PolicyKind, NamesRoundTrip) {
    for (auto kind : {PolicyKind::fixed, PolicyKind::seed, PolicyKind::balanced}) {
        EXPECT_EQ(parse_policy_kind(to_string(kind)), kind);
    }
    EXPECT_EQ(parse_policy_kind("adaptive"), std::nullopt);
}

}  // namespace
}  // namespace freemkv
