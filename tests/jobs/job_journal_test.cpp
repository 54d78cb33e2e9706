// The job journal's saves, seen through a recording FileSystem: a restart must find either the
// old journal or the new one, which reading the file back cannot show.

#include "job_journal.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/recording_file_system.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using test::RecordingFileSystem;
using test::TempDir;

using Calls = std::vector<std::string>;

JobInfo job(std::uint64_t id, JobState state) {
    JobInfo j;
    j.id = id;
    j.state = state;
    j.request.drive = "sr0";
    j.request.source = "/dev/sr0";
    j.label = "DISC_" + std::to_string(id);
    return j;
}

TEST(JobJournal, SaveSyncsTheTemporaryThenRenamesItThenSyncsTheDirectory) {
    TempDir dir;
    std::filesystem::create_directory(dir / "state");
    RecordingFileSystem fs(dir.path());
    JobJournal journal(dir / "state" / "jobs.toml", fs);
    JobInfo first = job(1, JobState::running);
    journal.save({&first});
    EXPECT_EQ(fs.calls(),
              (Calls{"sync_file state/jobs.toml.tmp",
                     "rename state/jobs.toml.tmp -> state/jobs.toml", "sync_directory state"}));

    fs.clear();
    JobInfo second = job(2, JobState::queued);
    journal.save({&first, &second});
    EXPECT_EQ(fs.calls(),
              (Calls{"sync_file state/jobs.toml.tmp",
                     "rename state/jobs.toml.tmp -> state/jobs.toml", "sync_directory state"}));

    auto jobs = journal.load();
    ASSERT_EQ(jobs.size(), 2u);
    EXPECT_EQ(jobs[0].label, "DISC_1");
    EXPECT_EQ(jobs[1].state, JobState::queued);
    EXPECT_EQ(fs.calls().size(), 3u) << "loading makes nothing durable";
}

}  // namespace
}  // namespace freemkv
