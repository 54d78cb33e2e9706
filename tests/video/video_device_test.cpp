// The generated DVD on block devices: ripped through a loop device over faultfs with bad sectors
// in title 1's cells (the resulting mapfile's loss matches the bad sectors' share of the title),
// and CSS detection on a loop device. Needs root (loop devices, FUSE); runs serially.

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>

#include "css.hpp"
#include "dvd_titles.hpp"
#include "mapfile.hpp"
#include "ripper.hpp"
#include "support/dvd_images.hpp"
#include "video_lost.hpp"

namespace freemkv {
namespace {

TEST(VideoLostRip, ADamagedTitleReportsItsShareOfLostSeconds) {
    FREEMKV_REQUIRE_ROOT();
    REQUIRE_DVD_IMAGES();
    auto image = test::dvd_video_image();
    auto titles = list_titles(image);
    auto vobs = title_sector_map(image);
    ASSERT_EQ(titles.size(), 3u);
    const TitleInfo& movie = titles[0];
    ASSERT_GE(movie.cells.size(), 2u);

    // 64 KiB (32 sectors) in the middle of its second cell, page aligned (a loop device reads
    // its backing file in 4 KiB pages).
    const Cell& cell = movie.cells[1];
    std::uint64_t middle =
        std::uint64_t{vobs.at(1).first_sector} + (cell.first_sector + cell.last_sector) / 2;
    std::uint64_t bad_pos = middle * 2048 / 4096 * 4096;
    std::uint64_t bad_size = 64 * 1024;
    ASSERT_LE(bad_pos + bad_size, (vobs.at(1).first_sector + cell.last_sector + 1) * 2048ull);

    test::TempDir dir;
    test::FaultFs fs(image, "--eio " + std::to_string(bad_pos) + ":" + std::to_string(bad_size) +
                                " --read-only");
    test::LoopDevice loop(fs.disk());
    RipOptions options;
    options.block_sectors = 16;
    options.read_sectors = 16;
    options.retries = 1;
    options.checkpoint_interval = std::chrono::milliseconds(50);
    options.identity = "video-lost";
    RipResult rip_result = rip(loop.device(), dir / "Disc.iso", options);
    ASSERT_EQ(rip_result.outcome, RipOutcome::ok_with_errors) << rip_result.reason;
    ASSERT_FALSE(rip_result.mapfile.empty());

    Mapfile map = Mapfile::load(rip_result.mapfile);
    auto loss = video_lost(movie, vobs.at(1), map);
    double expected = std::chrono::duration<double>(movie.duration).count() *
                      static_cast<double>(bad_size / 2048) / static_cast<double>(movie.sectors);
    EXPECT_GT(loss.seconds, 0);
    EXPECT_NEAR(loss.seconds, expected, expected * 0.05 + 0.01);
    EXPECT_EQ(loss.ranges, (std::vector<SectorRange>{{bad_pos / 2048, bad_size / 2048}}));
    for (std::size_t t = 1; t < titles.size(); ++t) {
        EXPECT_EQ(seconds_lost(titles[t], vobs.at(titles[t].titleset), map), 0)
            << "title " << titles[t].number;
    }
}

// A loop device has no DVD copyright info to give (the ioctl fails): the packs decide, read
// from the device.
TEST(CssOnADevice, TheScrambledCopyIsCssAndTheGeneratedDiscIsNot) {
    FREEMKV_REQUIRE_ROOT();
    REQUIRE_DVD_IMAGES();
    for (bool css : {true, false}) {
        test::LoopDevice loop(css ? test::dvd_css_image() : test::dvd_video_image());
        int fd = ::open(loop.device().c_str(), O_RDONLY | O_CLOEXEC);
        ASSERT_GE(fd, 0) << loop.device();
        Protection p = detect_css(fd, loop.device());
        ::close(fd);
        EXPECT_EQ(p.css, css) << p.evidence;
        EXPECT_THAT(p.evidence, ::testing::HasSubstr("VTS_01_1.VOB: "));
        EXPECT_THAT(p.evidence, ::testing::Not(::testing::HasSubstr("copy protection system")));
    }
}

}  // namespace
}  // namespace freemkv
