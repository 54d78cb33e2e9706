#include "dvd_titles.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "main_feature.hpp"
#include "support/dvd_images.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// Durations come from the IFO, which rounds to whole frames (40 ms in PAL).
void expect_duration(std::chrono::milliseconds actual, std::chrono::milliseconds expected) {
    EXPECT_LE(std::chrono::abs(actual - expected), 100ms)
        << actual.count() << " ms, expected " << expected.count() << " ms";
}

std::vector<std::string> languages(const TitleInfo& title) {
    std::vector<std::string> result;
    for (const auto& audio : title.audio) {
        result.push_back(audio.language);
    }
    return result;
}

TEST(DvdTitles, ListsTheGeneratedDiscsThreeTitles) {
    REQUIRE_DVD_VIDEO_IMAGE();
    auto titles = list_titles(test::dvd_video_image());
    ASSERT_EQ(titles.size(), 3u);

    const TitleInfo& movie = titles[0];
    EXPECT_EQ(movie.number, 1);
    EXPECT_EQ(movie.titleset, 1);
    expect_duration(movie.duration, 60s);
    EXPECT_EQ(movie.chapters, 3);
    EXPECT_EQ(movie.angles, 1);
    EXPECT_EQ(languages(movie), (std::vector<std::string>{"en", "fr"}));
    for (const auto& audio : movie.audio) {
        EXPECT_EQ(audio.codec, "ac3");
        EXPECT_EQ(audio.channels, 2);
    }
    ASSERT_EQ(movie.subpictures.size(), 1u);
    EXPECT_EQ(movie.subpictures[0].language, "en");
    EXPECT_EQ(movie.cells.size(), 3u);  // dvdauthor starts a cell at each chapter

    const TitleInfo& short_title = titles[1];
    EXPECT_EQ(short_title.number, 2);
    EXPECT_EQ(short_title.titleset, 2);
    expect_duration(short_title.duration, 10s);
    EXPECT_EQ(short_title.chapters, 1);
    EXPECT_EQ(languages(short_title), (std::vector<std::string>{"en"}));
    EXPECT_TRUE(short_title.subpictures.empty());

    // One 4 s cell played twice: the same sectors, counted twice.
    const TitleInfo& repeat = titles[2];
    EXPECT_EQ(repeat.number, 3);
    EXPECT_EQ(repeat.titleset, 2);
    expect_duration(repeat.duration, 8s);
    ASSERT_EQ(repeat.cells.size(), 2u);
    EXPECT_EQ(repeat.cells[0], repeat.cells[1]);
    EXPECT_EQ(repeat.sectors,
              2u * (repeat.cells[0].last_sector - repeat.cells[0].first_sector + 1));

    for (const TitleInfo& title : titles) {
        std::uint64_t sectors = 0;
        for (const Cell& cell : title.cells) {
            EXPECT_LE(cell.first_sector, cell.last_sector);
            sectors += cell.last_sector - cell.first_sector + 1;
        }
        EXPECT_EQ(title.sectors, sectors) << "title " << title.number;
    }
    EXPECT_EQ(choose_main_feature(titles), 1);
}

// What the remux takes from the IFO: stream ids, chapter entry cells, the video format and the
// subtitle palette.
TEST(DvdTitles, CarriesWhatTheRemuxNeeds) {
    REQUIRE_DVD_VIDEO_IMAGE();
    auto titles = list_titles(test::dvd_video_image());
    ASSERT_EQ(titles.size(), 3u);

    const TitleInfo& movie = titles[0];
    ASSERT_EQ(movie.audio.size(), 2u);
    EXPECT_EQ(movie.audio[0].stream_id, 0x80);
    EXPECT_EQ(movie.audio[1].stream_id, 0x81);
    ASSERT_EQ(movie.subpictures.size(), 1u);
    EXPECT_EQ(movie.subpictures[0].stream_id, 0x20);
    EXPECT_EQ(movie.chapter_cells, (std::vector<std::size_t>{0, 1, 2}));
    EXPECT_EQ(movie.video, (VideoFormat{.width = 720,
                                        .height = 576,
                                        .frame_rate_num = 25,
                                        .frame_rate_den = 1,
                                        .wide = false}));
    // make-dvd's palette starts white, black: studio-range Y, neutral chroma.
    EXPECT_EQ(movie.palette[0], 0x00eb8080u);
    EXPECT_EQ(movie.palette[1], 0x00108080u);
    for (const TitleInfo& title : titles) {
        for (const Cell& cell : title.cells) {
            EXPECT_GE(cell.last_vobu_start_sector, cell.first_sector);
            EXPECT_LE(cell.last_vobu_start_sector, cell.last_sector);
        }
        ASSERT_FALSE(title.chapter_cells.empty()) << "title " << title.number;
        EXPECT_EQ(title.chapter_cells[0], 0u);
        EXPECT_EQ(static_cast<int>(title.chapter_cells.size()), title.chapters);
    }
    EXPECT_EQ(titles[1].audio.at(0).stream_id, 0x80);
}

// Without a logger, libdvdread prints a banner about the missing libdvdcss on every open (to
// stdout), and its errors to stderr.
TEST(DvdTitles, WritesNothingToStdoutOrStderr) {
    REQUIRE_DVD_VIDEO_IMAGE();
    test::TempDir dir;
    auto not_a_dvd = dir / "data.iso";
    std::ofstream(not_a_dvd) << std::string(1 << 20, '\0');
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    auto titles = list_titles(test::dvd_video_image());
    EXPECT_THROW(list_titles(not_a_dvd), DvdError);
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
    EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");
    EXPECT_EQ(titles.size(), 3u);
}

TEST(DvdTitles, AnImageThatIsNotADvdIsAClearError) {
    test::TempDir dir;
    auto image = dir / "data.iso";
    std::ofstream(image) << std::string(1 << 20, '\0');
    try {
        list_titles(image);
        FAIL() << "no error";
    } catch (const DvdError& error) {
        EXPECT_THAT(error.what(), HasSubstr(image.string() + ": not a DVD-Video image"));
    }
}

void expect_same_titles(const std::vector<TitleInfo>& a, const std::vector<TitleInfo>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        SCOPED_TRACE("title " + std::to_string(a[i].number));
        EXPECT_EQ(a[i].number, b[i].number);
        EXPECT_EQ(a[i].titleset, b[i].titleset);
        EXPECT_EQ(a[i].duration, b[i].duration);
        EXPECT_EQ(a[i].chapters, b[i].chapters);
        EXPECT_EQ(a[i].angles, b[i].angles);
        EXPECT_EQ(a[i].audio, b[i].audio);
        EXPECT_EQ(a[i].subpictures, b[i].subpictures);
        EXPECT_EQ(a[i].cells, b[i].cells);
        EXPECT_EQ(a[i].sectors, b[i].sectors);
    }
}

// A descriptor closed at the end of the scope.
struct Fd {
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&&) = delete;
    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }

  private:
    int fd_;
};

Fd open_read_only(const std::filesystem::path& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        throw std::system_error(errno, std::generic_category(), path.string());
    }
    return fd;
}

// An image handed over open is read through its descriptor only: the path is gone by then, and
// the descriptor's own offset is left where it was.
TEST(DvdTitlesThroughADescriptor, SameTitlesAsByPath) {
    REQUIRE_DVD_VIDEO_IMAGE();
    test::TempDir dir;
    auto copy = dir / "disc.iso";
    std::filesystem::copy_file(test::dvd_video_image(), copy);
    auto fd = open_read_only(copy);
    ASSERT_EQ(::lseek(fd.get(), 123, SEEK_SET), 123);
    std::filesystem::remove(copy);

    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    auto titles = list_titles(fd.get(), "disc.iso");
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
    EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");
    expect_same_titles(titles, list_titles(test::dvd_video_image()));
    EXPECT_EQ(::lseek(fd.get(), 0, SEEK_CUR), 123);
}

TEST(DvdTitlesThroughADescriptor, NotADvdIsAClearError) {
    test::TempDir dir;
    auto image = dir / "data.iso";
    std::ofstream(image) << std::string(1 << 20, '\0');
    auto fd = open_read_only(image);
    try {
        list_titles(fd.get(), "data.iso");
        FAIL() << "no error";
    } catch (const DvdError& error) {
        EXPECT_THAT(error.what(), HasSubstr("data.iso: "));
    }
}

TEST(DvdTitlesThroughADescriptor, AnUnreadableDescriptorIsAClearError) {
    test::TempDir dir;
    auto image = dir / "data.iso";
    std::ofstream(image) << std::string(1 << 20, 'x');
    Fd fd(::open(image.c_str(), O_WRONLY | O_CLOEXEC));
    ASSERT_TRUE(fd);
    EXPECT_THROW(list_titles(fd.get(), "data.iso"), DvdError);
}

TEST(DvdTitles, AMissingImageIsAClearError) {
    test::TempDir dir;
    auto image = dir / "missing.iso";
    try {
        list_titles(image);
        FAIL() << "no error";
    } catch (const DvdError& error) {
        EXPECT_THAT(error.what(), HasSubstr(image.string() + ": "));
        EXPECT_THAT(error.what(), HasSubstr("No such file"));
    }
}

}  // namespace
}  // namespace freemkv
