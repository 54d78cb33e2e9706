// A CSS-protected DVD without libdvdcss ends at once, failed, naming the package to install,
// before anything is read past identification or written; a clear DVD is ripped. (This machine
// has no libdvdcss, as Debian ships none; where it is installed the refusal test cannot run.)

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "css.hpp"
#include "job_queue.hpp"
#include "support/dvd_images.hpp"
#include "support/test_support.hpp"
#include "test_queue_options.hpp"

namespace freemkv {
namespace {

using ::testing::HasSubstr;

using test::test_options;

struct Progress : JobListener {
    std::mutex m;
    std::uint64_t max_bytes_read = 0;
    void on_progress(const JobInfo& job) override {
        std::lock_guard lock(m);
        max_bytes_read = std::max(max_bytes_read, job.progress.bytes_read);
    }
};

TEST(CssRefusal, ACssDvdWithoutLibdvdcssFailsAtOnceNamingThePackage) {
    REQUIRE_DVD_IMAGES();
    if (dvdcss_available()) {
        GTEST_SKIP() << "SKIPPED LOUDLY: libdvdcss is installed here, so the disc is not refused";
    }
    test::TempDir dir;
    Progress progress;
    JobQueue q(test_options(dir), &progress);
    auto id = q.submit(JobRequest{.drive = "", .source = test::dvd_css_image()});
    q.wait_idle();
    auto job = q.job(id);
    ASSERT_EQ(job->state, JobState::failed);
    const std::string& reason = job->result->reason;
    EXPECT_THAT(reason, HasSubstr(test::dvd_css_image().string() +
                                  ": this DVD is CSS-protected; install libdvdcss2 (Debian "
                                  "contrib: apt install libdvd-pkg && dpkg-reconfigure "
                                  "libdvd-pkg)"));
    EXPECT_THAT(reason, HasSubstr("packs are scrambled"));
    EXPECT_FALSE(job->result->resumable);
    EXPECT_EQ(job->result->bytes_read, 0u);
    EXPECT_EQ(progress.max_bytes_read, 0u);
    EXPECT_TRUE(job->output.empty()) << "no name was chosen: " << job->output;
    EXPECT_TRUE(std::filesystem::is_empty(dir / "library")) << "nothing written";
}

// An image handed over open (StartRipImage) is checked through its descriptor.
TEST(CssRefusal, ACssImageHandedOverOpenIsRefusedToo) {
    REQUIRE_DVD_IMAGES();
    if (dvdcss_available()) {
        GTEST_SKIP() << "SKIPPED LOUDLY: libdvdcss is installed here, so the disc is not refused";
    }
    test::TempDir dir;
    JobQueue q(test_options(dir));
    auto image =
        std::make_shared<UniqueFd>(::open(test::dvd_css_image().c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(*image);
    auto id = q.submit(JobRequest{.source = "handed-over.iso", .image = image});
    q.wait_idle();
    auto job = q.job(id);
    ASSERT_EQ(job->state, JobState::failed);
    EXPECT_THAT(job->result->reason, HasSubstr("handed-over.iso: this DVD is CSS-protected"));
    EXPECT_TRUE(std::filesystem::is_empty(dir / "library"));
}

TEST(CssRefusal, AClearDvdIsRipped) {
    REQUIRE_DVD_IMAGES();
    test::TempDir dir;
    JobQueue q(test_options(dir));
    auto id = q.submit(JobRequest{.drive = "", .source = test::dvd_video_image()});
    q.wait_idle();
    auto job = q.job(id);
    ASSERT_EQ(job->state, JobState::done) << job->result->reason;
    EXPECT_EQ(job->result->output, dir / "library" / "FREEMKV_TEST_DVD.iso");
    EXPECT_EQ(std::filesystem::file_size(job->result->output),
              std::filesystem::file_size(test::dvd_video_image()));
}

}  // namespace
}  // namespace freemkv
