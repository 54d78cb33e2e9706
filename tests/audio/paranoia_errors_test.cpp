// ParanoiaReader on a scratched disc: the generated BIN served through faultfs with a few frames
// of track 2 failing with EIO. The read must end after a bounded number of attempts, skip those
// frames (counted, with their positions) and stay bit-exact everywhere else.

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audio/audio_cd_fixture.hpp"
#include "cd_source.hpp"
#include "paranoia_reader.hpp"
#include "support/test_support.hpp"
#include "unique_fd.hpp"

namespace freemkv {
namespace {

using test::AudioCd;

constexpr std::int64_t kFrame = kCdSamplesPerFrame;
constexpr std::uint32_t kBadFrom = 150;  // frames into track 2
constexpr std::uint32_t kBadFrames = 4;

// Ends the process when a read grinds on: a hang must fail the test, not time out the suite. It
// detaches the faultfs mount first, which the skipped destructors would leave behind.
class Watchdog {
  public:
    Watchdog(std::chrono::seconds limit, const test::FaultFs& mount)
        : thread_([this, limit, mnt = mount.disk().parent_path().string()] {
              std::unique_lock lock(mutex_);
              if (!done_cv_.wait_for(lock, limit, [this] { return done_; })) {
                  std::fprintf(stderr, "FAILED: the read still runs after %lld s\n",
                               static_cast<long long>(limit.count()));
                  if (std::system(("fusermount3 -u -z '" + mnt + "'").c_str()) != 0) {
                      std::fprintf(stderr, "cannot detach %s\n", mnt.c_str());
                  }
                  std::_Exit(1);
              }
          }) {}
    ~Watchdog() {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        done_cv_.notify_all();
        thread_.join();
    }
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

  private:
    std::mutex mutex_;
    std::condition_variable done_cv_;
    bool done_ = false;
    std::thread thread_;
};

std::vector<std::int16_t> read_track(ParanoiaReader& reader, int number, TrackReadStats& stats) {
    std::vector<std::int16_t> out;
    stats = reader.read_track(number, [&](std::span<const std::int16_t> block) {
        out.insert(out.end(), block.begin(), block.end());
    });
    return out;
}

// The first sample where `got` and `want` differ outside [skip_from, skip_to) (stereo samples).
::testing::AssertionResult same_outside(const std::vector<std::int16_t>& got,
                                        const std::vector<std::int16_t>& want,
                                        std::size_t skip_from = 0, std::size_t skip_to = 0) {
    if (got.size() != want.size()) {
        return ::testing::AssertionFailure()
               << got.size() / 2 << " samples, expected " << want.size() / 2;
    }
    for (std::size_t i = 0; i < got.size(); ++i) {
        if (i / 2 >= skip_from && i / 2 < skip_to) {
            continue;
        }
        if (got[i] != want[i]) {
            return ::testing::AssertionFailure()
                   << "sample " << i / 2 << ": " << got[i] << ", expected " << want[i];
        }
    }
    return ::testing::AssertionSuccess();
}

class ScratchedDisc : public ::testing::TestWithParam<ParanoiaMode> {};

TEST_P(ScratchedDisc, BadFramesAreSkippedAfterTheRetriesAndTheRestIsBitExact) {
    FREEMKV_NEED_AUDIO_CD();
    FREEMKV_REQUIRE_ROOT();
    AudioCd cd;
    const auto& two = cd.truth["tracks"][1];
    const std::uint64_t bad_lba = two["start"].get<std::uint64_t>() + kBadFrom;
    test::FaultFs scratched(cd.bin, fmt::format("--read-only --eio {}:{}", bad_lba * kCdFrameBytes,
                                                kBadFrames * kCdFrameBytes));
    UniqueFd cue(::open(cd.cue.c_str(), O_RDONLY | O_CLOEXEC));
    UniqueFd bin(::open(scratched.disk().c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(cue && bin);
    auto source = CdSource::open_cue_fds(cue.get(), bin.get(), "scratched.cue");
    ParanoiaOptions options;
    options.mode = GetParam();
    options.retries = 3;
    ParanoiaReader reader(*source, options);

    const auto started = std::chrono::steady_clock::now();
    Watchdog watchdog(std::chrono::seconds(60), scratched);
    for (const auto& t : cd.truth["tracks"]) {
        const int number = t["number"].get<int>();
        SCOPED_TRACE("track " + std::to_string(number));
        TrackReadStats stats;
        auto got = read_track(reader, number, stats);
        auto want = cd.samples(t["start"].get<std::int64_t>() * kFrame,
                               t["frames"].get<std::int64_t>() * kFrame);
        if (number != 2) {
            EXPECT_TRUE(same_outside(got, want));
            EXPECT_EQ(stats.skips, 0u);
            EXPECT_EQ(stats.read_errors, 0u);
            continue;
        }
        EXPECT_TRUE(same_outside(got, want, kBadFrom * kFrame, (kBadFrom + kBadFrames) * kFrame));
        ASSERT_EQ(got.size(), want.size());
        for (std::size_t i = kBadFrom * kFrame * 2; i < (kBadFrom + kBadFrames) * kFrame * 2; ++i) {
            ASSERT_EQ(got[i], 0) << "sample " << i / 2 << " of a skipped frame";
        }
        // Each bad frame read three times (the retries), then skipped.
        EXPECT_EQ(stats.read_errors, 3u * kBadFrames);
        EXPECT_EQ(stats.skips, kBadFrames);
        std::vector<std::uint64_t> where;
        for (std::uint64_t f = bad_lba; f < bad_lba + kBadFrames; ++f) {
            where.push_back(f * kFrame);
        }
        EXPECT_EQ(stats.skip_positions, where);
    }
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_LT(took, std::chrono::seconds(45));
}

// Once a track's errors took `error_time`, each further bad frame gets a single read.
TEST(ParanoiaReader, SpentErrorTimeLeavesOneReadPerBadFrame) {
    FREEMKV_NEED_AUDIO_CD();
    FREEMKV_REQUIRE_ROOT();
    AudioCd cd;
    const auto& two = cd.truth["tracks"][1];
    const std::uint64_t bad_lba = two["start"].get<std::uint64_t>() + kBadFrom;
    test::FaultFs scratched(cd.bin, fmt::format("--read-only --eio {}:{}", bad_lba * kCdFrameBytes,
                                                kBadFrames * kCdFrameBytes));
    UniqueFd cue(::open(cd.cue.c_str(), O_RDONLY | O_CLOEXEC));
    UniqueFd bin(::open(scratched.disk().c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(cue && bin);
    auto source = CdSource::open_cue_fds(cue.get(), bin.get(), "scratched.cue");
    ParanoiaOptions options;
    options.retries = 20;
    options.error_time = std::chrono::steady_clock::duration::zero();
    ParanoiaReader reader(*source, options);
    Watchdog watchdog(std::chrono::seconds(60), scratched);
    TrackReadStats stats;
    auto got = read_track(reader, 2, stats);
    EXPECT_TRUE(same_outside(got,
                             cd.samples(two["start"].get<std::int64_t>() * kFrame,
                                        two["frames"].get<std::int64_t>() * kFrame),
                             kBadFrom * kFrame, (kBadFrom + kBadFrames) * kFrame));
    EXPECT_EQ(stats.read_errors, kBadFrames);
    EXPECT_EQ(stats.skips, kBadFrames);
}

INSTANTIATE_TEST_SUITE_P(ParanoiaReader, ScratchedDisc,
                         ::testing::Values(ParanoiaMode::full, ParanoiaMode::overlap,
                                           ParanoiaMode::off),
                         [](const auto& info) {
                             return std::string(paranoia_mode_name(info.param));
                         });

}  // namespace
}  // namespace freemkv
