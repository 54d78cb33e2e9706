// A CSS-protected DVD with libdvdcss installed is ripped decrypted: the image is clear and its
// titles remux. libdvdcss is the test double in tests/fixtures/fake_dvdcss.cpp, which meson puts
// on this suite's LD_LIBRARY_PATH, so the daemon's dlopen("libdvdcss.so.2") finds it (and so does
// libdvdread); it undoes make-css-dvd's reversible scrambling only after the right key seeks.

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "css.hpp"
#include "job_queue.hpp"
#include "mkv_extractor.hpp"
#include "support/dvd_images.hpp"
#include "support/process.hpp"
#include "support/test_support.hpp"
#include "test_queue_options.hpp"

namespace freemkv {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

using test::test_options;

bool same_bytes(const std::filesystem::path& a, const std::filesystem::path& b) {
    return test::read_file(a) == test::read_file(b);
}

class CssDecrypt : public ::testing::Test {
  protected:
    void SetUp() override {
        REQUIRE_DVD_IMAGES();
        ASSERT_TRUE(dvdcss_available()) << "the test double is not on LD_LIBRARY_PATH";
        ASSERT_FALSE(same_bytes(test::dvd_css_image(), test::dvd_video_image()));
    }
    test::TempDir dir;
};

TEST_F(CssDecrypt, TheImageOfACssDvdIsClear) {
    JobQueue q(test_options(dir));
    auto id = q.submit(JobRequest{.drive = "", .source = test::dvd_css_image()});
    q.wait_idle();
    auto job = q.job(id);
    ASSERT_EQ(job->state, JobState::done) << job->result->reason;
    EXPECT_EQ(job->result->outcome, RipOutcome::ok);
    EXPECT_TRUE(same_bytes(job->result->output, test::dvd_video_image()))
        << job->result->output << " is not the clear disc";
}

TEST_F(CssDecrypt, AnImageHandedOverOpenIsDecryptedThroughItsDescriptor) {
    JobQueue q(test_options(dir));
    auto image =
        std::make_shared<UniqueFd>(::open(test::dvd_css_image().c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(*image);
    auto id = q.submit(JobRequest{.source = "handed-over.iso", .image = image});
    q.wait_idle();
    auto job = q.job(id);
    ASSERT_EQ(job->state, JobState::done) << job->result->reason;
    EXPECT_TRUE(same_bytes(job->result->output, test::dvd_video_image()));
}

TEST_F(CssDecrypt, TheMovieIsRemuxedFromTheClearImageAndDecodesCleanly) {
    JobQueue q(test_options(dir), nullptr, JobQueue::Interrupted::requeue, real_file_system(),
               mkv_extractor());
    auto id = q.submit(JobRequest{.drive = "", .source = test::dvd_css_image()});
    q.wait_idle();
    auto job = q.job(id);
    ASSERT_EQ(job->state, JobState::done) << job->result->reason;
    auto mkv = job->result->output;
    ASSERT_EQ(mkv.extension(), ".mkv") << mkv;
    test::Process decode("ffmpeg", {"-v", "error", "-i", mkv.string(), "-f", "null", "-"},
                         dir / "ffmpeg.out", dir / "ffmpeg.err");
    EXPECT_EQ(decode.exit_code(120s), 0) << decode.output();
    EXPECT_EQ(decode.err(), "") << "scrambled video does not decode cleanly";
}

TEST_F(CssDecrypt, NoTitleKeyStopsTheRipResumablyAndTheNextRunFinishesIt) {
    {
        ASSERT_EQ(::setenv("FAKE_DVDCSS_NO_KEY", "1", 1), 0);
        JobQueue q(test_options(dir));
        auto id = q.submit(JobRequest{.drive = "", .source = test::dvd_css_image()});
        q.wait_idle();
        auto job = q.job(id);
        EXPECT_EQ(job->state, JobState::failed);
        EXPECT_THAT(job->result->reason, HasSubstr("libdvdcss found no key for VTS_01_1.VOB"));
        EXPECT_TRUE(job->result->resumable);
    }
    ASSERT_EQ(::unsetenv("FAKE_DVDCSS_NO_KEY"), 0);
    JobQueue q(test_options(dir));
    auto id = q.submit(JobRequest{.drive = "", .source = test::dvd_css_image()});
    q.wait_idle();
    auto job = q.job(id);
    ASSERT_EQ(job->state, JobState::done) << job->result->reason;
    EXPECT_TRUE(job->result->resumed);
    EXPECT_TRUE(same_bytes(job->result->output, test::dvd_video_image()));
}

}  // namespace
}  // namespace freemkv
