#include "vobsub.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>

namespace freemkv {
namespace {

// The PGC palette is BT.601 studio range: Y 16..235, Cr and Cb centred on 128.
TEST(Vobsub, ConvertsStudioRangeYCrCbToRgb) {
    EXPECT_EQ(ycrcb_to_rgb(0x00eb8080), 0xffffffu);  // white
    EXPECT_EQ(ycrcb_to_rgb(0x00108080), 0x000000u);  // black
    EXPECT_EQ(ycrcb_to_rgb(0x007e8080), 0x808080u);  // grey
    // Red as dvdauthor writes it (Y 81, Cr 240, Cb 90): within one step per channel.
    std::uint32_t red = ycrcb_to_rgb(0x0051f05a);
    EXPECT_GE(red >> 16, 0xfeu);
    EXPECT_LE((red >> 8) & 0xff, 1u);
    EXPECT_LE(red & 0xff, 1u);
}

TEST(Vobsub, CodecPrivateHasSizeAndSixteenColours) {
    std::array<std::uint32_t, 16> palette{};
    palette.fill(0x00108080);
    palette[0] = 0x00eb8080;
    EXPECT_EQ(vobsub_private(720, 576, palette),
              "size: 720x576\npalette: ffffff, 000000, 000000, 000000, 000000, 000000, 000000, "
              "000000, 000000, 000000, 000000, 000000, 000000, 000000, 000000, 000000\n");
}

}  // namespace
}  // namespace freemkv
