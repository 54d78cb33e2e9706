// A job in its extract stage on a real private bus: the queue (with a test extractor, on the
// generated DVD-Video image) stops inside the extraction, and the JobInfo it reports there is what
// the job's object serves to busctl: Phase "extract", the Artifacts, OutputPath the main title.

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "job_object.hpp"
#include "job_queue.hpp"
#include "support/bus_fixture.hpp"
#include "support/dvd_images.hpp"

namespace freemkv::bus {
namespace {

using test::BusDaemon;
using test::quote;
using test::sh;
using test::TempDir;
namespace fs = std::filesystem;

// Holds every title at the gate until released; remembers the last JobInfo reported.
struct Gate : JobListener {
    std::mutex m;
    std::condition_variable_any cv;
    bool inside = false;
    bool open = false;
    JobInfo last;
    void on_progress(const JobInfo& j) override {
        std::lock_guard l(m);
        last = j;
    }
    TitleExtractor extractor() {
        return [this](const fs::path&, const TitleInfo&, OutputFile& out,
                      const TitleProgress& progress, std::stop_token stop) {
            std::string text = "a title\n";
            out.write(std::as_bytes(std::span(text)));
            progress(text.size());
            std::unique_lock l(m);
            inside = true;
            cv.notify_all();
            cv.wait(l, stop, [&] { return open; });
        };
    }
};

TEST(JobArtifacts, AnExtractingJobShowsPhaseExtractAndItsArtifactsOnTheBus) {
    REQUIRE_DVD_VIDEO_IMAGE();
    TempDir dir;
    QueueOptions options;
    options.library = dir / "library";
    options.state_dir = dir / "state";
    fs::create_directories(options.library);
    fs::create_directories(options.state_dir);
    Gate gate;
    JobQueue queue(options, &gate, JobQueue::Interrupted::requeue, real_file_system(),
                   gate.extractor());
    auto id = queue.submit(JobRequest{.drive = "sr0", .source = test::dvd_video_image()});
    JobInfo extracting;
    {
        std::unique_lock l(gate.m);
        ASSERT_TRUE(gate.cv.wait_for(l, std::chrono::minutes(2), [&] { return gate.inside; }));
        extracting = gate.last;
    }

    BusDaemon daemon("--session");
    auto connection = sdbus::createSessionBusConnectionWithAddress(daemon.address());
    connection->requestName("org.freemkv.Rip1.Test");
    // The daemon's Manager object is the ObjectManager the job's InterfacesAdded goes through.
    auto root = sdbus::createObject(*connection, "/org/freemkv/Rip1");
    root->addObjectManager();
    JobObject object(*connection, extracting, [](std::uint64_t) { return true; });
    connection->enterEventLoopAsync();
    auto get = [&](const std::string& property) {
        auto r = sh("busctl --address=" + quote(daemon.address()) +
                    " get-property org.freemkv.Rip1.Test " + JobObject::path_for(id) +
                    " org.freemkv.Rip1.Job " + property);
        EXPECT_TRUE(r.ok()) << r.output;
        return r.output;
    };
    std::string lib = options.library.string();
    // The folder is the image's name made readable.
    std::string main = lib + "/Freemkv Test Dvd/Freemkv Test Dvd.mkv";
    EXPECT_EQ(get("Phase"), "s \"extract\"\n");
    EXPECT_EQ(get("State"), "s \"running\"\n");
    EXPECT_EQ(get("OutputPath"), "s \"" + main + "\"\n");
    std::string image_bytes = std::to_string(fs::file_size(test::dvd_video_image()));
    std::string artifacts = get("Artifacts");
    EXPECT_TRUE(artifacts.starts_with(
        "a(ssssttid) 2 \"image\" \"" + lib + "/FREEMKV_TEST_DVD.iso\" \"published\" \"\" " +
        image_bytes + " " + image_bytes + " 0 0 \"title\" \"" + main + "\" \"writing\" \"\" "))
        << artifacts;
    EXPECT_TRUE(artifacts.ends_with(" 8 1 0\n")) << "8 bytes written of title 1: " << artifacts;
    connection->leaveEventLoop();

    {
        std::lock_guard l(gate.m);
        gate.open = true;
    }
    gate.cv.notify_all();
    queue.wait_idle();
    EXPECT_EQ(queue.job(id)->state, JobState::done);
}

// A title that lost video to unreadable sectors carries its seconds in the Artifacts tuple (its
// last member), with the kept image beside it.
TEST(JobArtifacts, ATitleThatLostVideoShowsItsSecondsOnTheBus) {
    JobInfo job;
    job.id = 7;
    job.state = JobState::done;
    job.released = true;
    Artifact image;
    image.kind = ArtifactKind::image;
    image.path = "/lib/MOVIE.iso";
    image.state = ArtifactState::kept;
    image.bytes_total = image.bytes_done = 4096;
    Artifact title;
    title.kind = ArtifactKind::title;
    title.path = "/lib/Movie/Movie.mkv";
    title.state = ArtifactState::published;
    title.bytes_total = title.bytes_done = 2048;
    title.title = 1;
    title.seconds_lost = 2.5;
    job.artifacts = {image, title};
    job.output = title.path;

    BusDaemon daemon("--session");
    auto connection = sdbus::createSessionBusConnectionWithAddress(daemon.address());
    connection->requestName("org.freemkv.Rip1.Test");
    auto root = sdbus::createObject(*connection, "/org/freemkv/Rip1");
    root->addObjectManager();
    JobObject object(*connection, job, [](std::uint64_t) { return true; });
    connection->enterEventLoopAsync();
    auto r =
        sh("busctl --address=" + quote(daemon.address()) + " get-property org.freemkv.Rip1.Test " +
           JobObject::path_for(job.id) + " org.freemkv.Rip1.Job Artifacts");
    EXPECT_TRUE(r.ok()) << r.output;
    EXPECT_EQ(r.output,
              "a(ssssttid) 2 \"image\" \"/lib/MOVIE.iso\" \"kept\" \"\" 4096 4096 0 0 "
              "\"title\" \"/lib/Movie/Movie.mkv\" \"published\" \"\" 2048 2048 1 2.5\n");
    connection->leaveEventLoop();
}

}  // namespace
}  // namespace freemkv::bus
