#include "eta.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace freemkv {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t GiB = 1024ull * 1024 * 1024;
constexpr std::uint64_t bd50 = 50'050'629'632;  // a dual-layer BD

TEST(EtaFor, FromTheBytesLeftAndTheRate) {
    EXPECT_EQ(eta_for(GiB, 32.0 * 1024 * 1024), std::optional<Nanos>(32s));
    EXPECT_EQ(eta_for(100 * 1024, min_eta_rate), std::optional<Nanos>(100s));
    EXPECT_EQ(eta_for(0, 1e6), std::optional<Nanos>(0s));
}

TEST(EtaFor, NoRateNoEta) {
    EXPECT_EQ(eta_for(GiB, 0), std::nullopt);
    EXPECT_EQ(eta_for(GiB, -1), std::nullopt);
    EXPECT_EQ(eta_for(GiB, std::nan("")), std::nullopt);
}

TEST(EtaFor, RatesBelowTheMinimumHaveNoEta) {
    for (double rate : {1e-300, 1e-9, 0.36, 1.0, 1023.9}) {
        EXPECT_EQ(eta_for(bd50, rate), std::nullopt) << rate;
        EXPECT_EQ(eta_for(1, rate), std::nullopt) << rate;
    }
}

TEST(EtaFor, NoEtaBeyondTheCap) {
    EXPECT_EQ(eta_for(std::numeric_limits<std::uint64_t>::max(), 1e6), std::nullopt);
    EXPECT_EQ(eta_for(std::numeric_limits<std::uint64_t>::max(), min_eta_rate), std::nullopt);
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(max_eta).count();
    auto at_cap = static_cast<std::uint64_t>(seconds) * 1024;
    EXPECT_EQ(eta_for(at_cap, min_eta_rate), std::optional<Nanos>(max_eta));
    EXPECT_EQ(eta_for(at_cap + 1024, min_eta_rate), std::nullopt);
}

TEST(EtaFor, InfiniteRateIsDone) {
    EXPECT_EQ(eta_for(bd50, std::numeric_limits<double>::infinity()), std::optional<Nanos>(0s));
}

// The ripper's smoothed rate while no bytes arrive: 0.7 of itself at every report (4 Hz). Long
// before it reaches zero the remaining time overflowed a nanosecond count (about 12 s into a
// stall for a BD read at 30 MB/s); every ETA on the way must be unknown or within the cap.
TEST(EtaFor, RateDecayingThroughAStall) {
    double rate = 30e6;
    for (int report = 0; report < 4 * 3600 && rate > 0; ++report, rate *= 0.7) {
        auto eta = eta_for(bd50, rate);
        if (eta) {
            EXPECT_GE(*eta, 0s) << "report " << report << ", rate " << rate;
            EXPECT_LE(*eta, max_eta) << "report " << report << ", rate " << rate;
        }
        if (rate < min_eta_rate) {
            EXPECT_EQ(eta, std::nullopt) << "report " << report << ", rate " << rate;
        }
    }
}

}  // namespace
}  // namespace freemkv
