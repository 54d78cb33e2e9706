// CSS detection: the scrambling bits of a pack, the generated disc and its copy with scrambled
// packets (tests/fixtures/make-css-dvd), libdvdcss's presence and the refusal's words.

#include "css.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <fstream>

#include "support/dvd_images.hpp"
#include "support/without_reopen_rights.hpp"

namespace freemkv {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A DVD pack: pack header (MPEG-2, no stuffing), then a PES packet of `stream_id` whose flags
// byte is `flags` ('10' and the scrambling bits among them).
std::array<std::byte, 2048> pack(std::uint8_t stream_id, std::uint8_t flags,
                                 bool system_header = false) {
    std::array<std::byte, 2048> s{};
    auto put = [&](std::size_t at, std::initializer_list<int> bytes) {
        for (int b : bytes) {
            s[at++] = static_cast<std::byte>(b);
        }
    };
    put(0, {0, 0, 1, 0xba, 0x44, 0, 4, 0, 4, 1, 1, 0x89, 0xc3, 0xf8});
    std::size_t pos = 14;
    if (system_header) {
        put(pos, {0, 0, 1, 0xbb, 0, 12});
        pos += 6 + 12;
    }
    put(pos, {0, 0, 1, stream_id, 0x07, 0xec, flags, 0x80, 5});
    return s;
}

TEST(Css, PackScrambledReadsPesScramblingControl) {
    EXPECT_FALSE(pack_scrambled(pack(0xe0, 0x81)));  // video, '10' 00: clear
    EXPECT_TRUE(pack_scrambled(pack(0xe0, 0x91)));   // 01
    EXPECT_TRUE(pack_scrambled(pack(0xe0, 0xa1)));   // 10
    EXPECT_TRUE(pack_scrambled(pack(0xe0, 0xb1)));   // 11
    EXPECT_TRUE(pack_scrambled(pack(0xbd, 0x91)));   // private stream 1 (AC-3, subpictures)
    EXPECT_TRUE(pack_scrambled(pack(0xc0, 0x91)));   // MPEG audio
    EXPECT_TRUE(pack_scrambled(pack(0xe0, 0x91, true))) << "after a system header";
    EXPECT_FALSE(pack_scrambled(pack(0xe0, 0x89))) << "the copyright bit is not scrambling";
}

TEST(Css, PacketsWithoutTheFieldAreNeverScrambled) {
    EXPECT_FALSE(pack_scrambled(pack(0xbf, 0x91))) << "private stream 2: the NAV packets";
    EXPECT_FALSE(pack_scrambled(pack(0xbe, 0x91))) << "padding";
    EXPECT_FALSE(pack_scrambled(pack(0xe0, 0x51))) << "no '10' marker: not an MPEG-2 PES header";
    auto mpeg1 = pack(0xe0, 0x91);
    mpeg1[4] = std::byte{0x21};
    EXPECT_FALSE(pack_scrambled(mpeg1)) << "an MPEG-1 pack";
    auto not_a_pack = pack(0xe0, 0x91);
    not_a_pack[3] = std::byte{0xb9};
    EXPECT_FALSE(pack_scrambled(not_a_pack));
    auto whole = pack(0xe0, 0x91);
    EXPECT_FALSE(pack_scrambled(std::span<const std::byte>(whole).first(1024))) << "short";
}

Protection detect(const std::filesystem::path& image) {
    int fd = ::open(image.c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_GE(fd, 0) << image;
    Protection p = detect_css(fd, image);
    ::close(fd);
    return p;
}

// StartRipImage's check reads the caller's descriptor, which the daemon may not open itself.
TEST(Css, AHandedOverCssImageIsFoundWithoutOpeningItAgain) {
    REQUIRE_DVD_IMAGES();
    test::TempDir dir;
    auto image = dir / "handed-over.iso";
    std::filesystem::copy_file(test::dvd_css_image(), image);
    int fd = ::open(image.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    std::string failed =
        test::without_reopen_rights(image, [&] { return detect_css(fd, image).css; });
    ::close(fd);
    EXPECT_EQ(failed, "");
}

TEST(Css, TheGeneratedDiscIsClear) {
    REQUIRE_DVD_IMAGES();
    Protection p = detect(test::dvd_video_image());
    EXPECT_FALSE(p.css) << p.evidence;
    EXPECT_THAT(p.evidence, HasSubstr("VTS_01_1.VOB: none of its first 32 packs is scrambled"));
    EXPECT_THAT(p.evidence, HasSubstr("VTS_02_1.VOB: none of"));
}

TEST(Css, ItsCopyWithScrambledPacketsIsCss) {
    REQUIRE_DVD_IMAGES();
    Protection p = detect(test::dvd_css_image());
    EXPECT_TRUE(p.css);
    EXPECT_THAT(p.evidence, HasSubstr("VTS_01_1.VOB: "));
    EXPECT_THAT(p.evidence, HasSubstr("of its first 32 packs are scrambled"));
    EXPECT_THAT(p.evidence, Not(HasSubstr("none")));
    EXPECT_THAT(p.evidence, Not(HasSubstr("VTS_02_1.VOB"))) << "one scrambled titleset tells";
}

TEST(Css, NotADvdIsNotCss) {
    test::TempDir dir;
    auto image = dir / "data.iso";
    std::ofstream(image) << std::string(1 << 20, '\0');
    Protection p = detect(image);
    EXPECT_FALSE(p.css);
    EXPECT_THAT(p.evidence, HasSubstr("no DVD-Video title VOBs"));
}

TEST(Css, DvdcssAvailableLoadsTheLibrary) {
    EXPECT_TRUE(dvdcss_available("libc.so.6"));
    EXPECT_FALSE(dvdcss_available("libfreemkv-no-such-library.so.9"));
}

TEST(Css, RefusalNamesThePackageOnlyWithoutLibdvdcss) {
    Protection css{.css = true, .evidence = "VTS_01_1.VOB: 30 of its first 32 packs are scrambled"};
    std::string reason = css_refusal(css, false);
    EXPECT_THAT(reason, HasSubstr("this DVD is CSS-protected; install libdvdcss2 (Debian contrib: "
                                  "apt install libdvd-pkg && dpkg-reconfigure libdvd-pkg)"));
    EXPECT_THAT(reason, HasSubstr(css.evidence));
    EXPECT_EQ(css_refusal(css, true), "");
    EXPECT_EQ(css_refusal(Protection{.css = false, .evidence = "x"}, false), "");
}

}  // namespace
}  // namespace freemkv
