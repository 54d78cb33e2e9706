// The CSS DVD read in the clear through libdvdcss: here its test double
// (tests/fixtures/fake_dvdcss.cpp), which undoes make-css-dvd's reversible scrambling only after a
// key seek to the right VOB set, as libdvdcss does with real CSS. So an image read through the
// descrambler equal to the clear original proves the reads, the key seeks and the runs.

#include "css_descrambler.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include "dvd_titles.hpp"
#include "support/dvd_images.hpp"
#include "support/test_support.hpp"
#include "title_sectors.hpp"
#include "unique_fd.hpp"

namespace freemkv {
namespace {

using ::testing::HasSubstr;

constexpr std::size_t kSector = 2048;

std::vector<std::byte> sectors(int fd, std::uint64_t first, std::uint64_t count) {
    std::vector<std::byte> out(count * kSector);
    EXPECT_EQ(::pread(fd, out.data(), out.size(), static_cast<off_t>(first * kSector)),
              static_cast<ssize_t>(out.size()));
    return out;
}

// Reads the whole image the way a DiscReader with this descrambler does: its runs through it,
// the rest directly; returns how many sectors differ from the clear image.
std::uint64_t sectors_unlike_clear(CssDescrambler& css, int scrambled_fd) {
    UniqueFd clear(::open(test::dvd_video_image().c_str(), O_RDONLY | O_CLOEXEC));
    EXPECT_TRUE(clear);
    std::uint64_t total = std::filesystem::file_size(test::dvd_video_image()) / kSector;
    std::uint64_t differing = 0;
    auto compare = [&](std::uint64_t first, const std::vector<std::byte>& got) {
        auto want = sectors(clear.get(), first, got.size() / kSector);
        for (std::size_t i = 0; i < got.size() / kSector; ++i) {
            differing +=
                std::memcmp(got.data() + i * kSector, want.data() + i * kSector, kSector) != 0;
        }
    };
    std::uint64_t at = 0;
    for (const SectorRun& run : css.runs()) {
        compare(at, sectors(scrambled_fd, at, run.first - at));
        // In reads of up to 64 sectors, as a sweep would.
        for (std::uint64_t s = run.first; s < run.end; s += 64) {
            std::vector<std::byte> got(std::min<std::uint64_t>(64, run.end - s) * kSector);
            EXPECT_EQ(css.read(s, got), 0) << "sector " << s;
            compare(s, got);
        }
        at = run.end;
    }
    compare(at, sectors(scrambled_fd, at, total - at));
    return differing;
}

std::string text_of(const std::filesystem::path& path) {
    auto bytes = test::read_file(path);
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::uint64_t scrambled_sectors() {
    UniqueFd clear(::open(test::dvd_video_image().c_str(), O_RDONLY | O_CLOEXEC));
    UniqueFd css(::open(test::dvd_css_image().c_str(), O_RDONLY | O_CLOEXEC));
    std::uint64_t total = std::filesystem::file_size(test::dvd_video_image()) / kSector;
    auto a = sectors(clear.get(), 0, total);
    auto b = sectors(css.get(), 0, total);
    std::uint64_t differing = 0;
    for (std::uint64_t i = 0; i < total; ++i) {
        differing += std::memcmp(a.data() + i * kSector, b.data() + i * kSector, kSector) != 0;
    }
    return differing;
}

TEST(CssDescrambler, ReadsTheScrambledImageBackToTheClearOneByPath) {
    REQUIRE_DVD_IMAGES();
    ASSERT_GT(scrambled_sectors(), 1000u) << "the fixture scrambles the title VOBs";
    CssDescrambler css(test::dvd_css_image(), -1, FREEMKV_FAKE_DVDCSS);
    UniqueFd fd(::open(test::dvd_css_image().c_str(), O_RDONLY | O_CLOEXEC));
    EXPECT_EQ(sectors_unlike_clear(css, fd.get()), 0u);
}

TEST(CssDescrambler, ReadsAHandedOverImageOnlyThroughItsDescriptor) {
    REQUIRE_DVD_IMAGES();
    test::TempDir dir;
    auto copy = dir / "handed-over.iso";
    std::filesystem::copy_file(test::dvd_css_image(), copy);
    UniqueFd fd(::open(copy.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd);
    std::filesystem::remove(copy);  // nothing can open it by path now
    auto log = dir / "dvdcss.log";
    ASSERT_EQ(::setenv("FAKE_DVDCSS_LOG", log.c_str(), 1), 0);
    CssDescrambler css(copy, fd.get(), FREEMKV_FAKE_DVDCSS);
    EXPECT_EQ(sectors_unlike_clear(css, fd.get()), 0u);
    ASSERT_EQ(::unsetenv("FAKE_DVDCSS_LOG"), 0);
    std::string calls = text_of(log);
    EXPECT_THAT(calls, HasSubstr("open_stream"));
    // (libdvdread may open its private copy of the IFO sectors through the library too.)
    EXPECT_THAT(calls, ::testing::Not(HasSubstr(copy.string())));
    EXPECT_EQ(::lseek(fd.get(), 0, SEEK_CUR), 0) << "the caller's offset is left alone";
}

TEST(CssDescrambler, EachVobSetIsReadWithItsOwnKey) {
    REQUIRE_DVD_IMAGES();
    test::TempDir dir;
    auto log = dir / "dvdcss.log";
    CssDescrambler css(test::dvd_css_image(), -1, FREEMKV_FAKE_DVDCSS);
    auto map = title_sector_map(test::dvd_css_image());
    ASSERT_EQ(map.size(), 2u);
    const TitleVobs& first = map.at(1);
    const TitleVobs& second = map.at(2);
    EXPECT_EQ(css.set_name(first.first_sector), "VTS_01_1.VOB");
    EXPECT_EQ(css.set_name(second.first_sector + 1), "VTS_02_1.VOB");
    EXPECT_EQ(css.set_name(0), "");

    ASSERT_EQ(::setenv("FAKE_DVDCSS_LOG", log.c_str(), 1), 0);
    std::vector<std::byte> buffer(4 * kSector);
    EXPECT_EQ(css.read(second.first_sector + 8, buffer), 0);
    EXPECT_EQ(css.read(second.first_sector + 12, buffer), 0);  // same key: no seek
    EXPECT_EQ(css.read(first.first_sector + 8, buffer), 0);
    ASSERT_EQ(::unsetenv("FAKE_DVDCSS_LOG"), 0);
    EXPECT_EQ(text_of(log), "key " + std::to_string(second.first_sector) + "\nkey " +
                                std::to_string(first.first_sector) + "\n");
}

TEST(CssDescrambler, NoKeyStopsTheRipNamingTheVob) {
    REQUIRE_DVD_IMAGES();
    CssDescrambler css(test::dvd_css_image(), -1, FREEMKV_FAKE_DVDCSS);
    auto first = title_sector_map(test::dvd_css_image()).at(1).first_sector;
    std::vector<std::byte> buffer(kSector);
    ASSERT_EQ(::setenv("FAKE_DVDCSS_NO_KEY", "1", 1), 0);
    try {
        (void)css.read(first, buffer);
        ADD_FAILURE() << "read without a key";
    } catch (const DescrambleError& e) {
        EXPECT_THAT(e.what(), HasSubstr("libdvdcss found no key for VTS_01_1.VOB"));
        EXPECT_THAT(e.what(), HasSubstr("FAKE_DVDCSS_NO_KEY"));
    }
    ASSERT_EQ(::unsetenv("FAKE_DVDCSS_NO_KEY"), 0);
}

TEST(CssDescrambler, AMissingLibraryOrANonDvdIsAClearError) {
    REQUIRE_DVD_IMAGES();
    try {
        CssDescrambler css(test::dvd_css_image(), -1, "/nonexistent/libdvdcss.so.2");
        ADD_FAILURE() << "opened";
    } catch (const DescrambleError& e) {
        EXPECT_THAT(e.what(), HasSubstr("cannot load /nonexistent/libdvdcss.so.2"));
    }
    test::TempDir dir;
    auto junk = dir / "not-a-dvd.iso";
    std::ofstream(junk) << std::string(1 << 20, 'x');
    EXPECT_THROW(CssDescrambler(junk, -1, FREEMKV_FAKE_DVDCSS), DvdError);
}

}  // namespace
}  // namespace freemkv
