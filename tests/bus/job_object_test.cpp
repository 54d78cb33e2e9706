#include "job_object.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace freemkv::bus {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;

constexpr std::uint64_t now_usec = 1'800'000'000'000'000;  // 2027
const system_clock::time_point now{std::chrono::microseconds(now_usec)};

TEST(ExpectedEndTime, NowPlusTheEta) {
    EXPECT_EQ(JobObject::expected_end_usec(now, 90s), now_usec + 90'000'000);
    EXPECT_EQ(JobObject::expected_end_usec(now, 0s), now_usec);
}

TEST(ExpectedEndTime, ZeroWhenUnknown) {
    EXPECT_EQ(JobObject::expected_end_usec(now, std::nullopt), 0u);
}

// Whatever the ETA, no overflow (UBSan) and no wrap-around into a time in the past.
TEST(ExpectedEndTime, ExtremeEtas) {
    EXPECT_EQ(JobObject::expected_end_usec(now, Nanos::max()),
              now_usec + static_cast<std::uint64_t>(Nanos::max().count() / 1000));
    EXPECT_EQ(JobObject::expected_end_usec(now, Nanos::min()), now_usec);
    EXPECT_EQ(JobObject::expected_end_usec(now, -1s), now_usec);
}

}  // namespace
}  // namespace freemkv::bus
