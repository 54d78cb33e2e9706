// The order of syncs and renames that makes a file durable, seen through a recording FileSystem.
// Reading the files back cannot check it: the page cache holds the bytes whether or not they
// ever reached the disk.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "atomic_file.hpp"
#include "io_error.hpp"
#include "output_file.hpp"
#include "support/recording_file_system.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using test::random_bytes;
using test::read_file;
using test::RecordingFileSystem;
using test::TempDir;

using Calls = std::vector<std::string>;

PolicyConfig small_chunks() {
    PolicyConfig c;
    c.kind = PolicyKind::fixed;
    c.min_bytes = 1 * MiB;
    c.start_bytes = 1 * MiB;
    return c;
}

std::string read_text(const std::filesystem::path& path) {
    auto bytes = read_file(path);
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

TEST(Durability, PublishSyncsThePartThenRenamesThenSyncsTheDirectory) {
    TempDir dir;
    RecordingFileSystem fs(dir.path());
    auto data = random_bytes(3 * MiB + 17, 1);
    OutputFile out(dir / "a.iso", small_chunks(), OutputFile::Mode::truncate, nullptr, fs);
    out.write(data);
    EXPECT_EQ(fs.calls(), Calls{}) << "writing alone makes nothing durable";
    out.publish();
    EXPECT_EQ(fs.calls(), (Calls{"sync_data a.iso.part", "rename_noreplace a.iso.part -> a.iso",
                                 "sync_directory ."}));
    out.publish();
    EXPECT_EQ(fs.calls().size(), 3u) << "a second publish does nothing";
    EXPECT_EQ(read_file(dir / "a.iso"), data);
}

TEST(Durability, PublishSyncsTheDirectoryHoldingTheFile) {
    TempDir dir;
    std::filesystem::create_directories(dir / "lib" / "dvd");
    RecordingFileSystem fs(dir.path());
    OutputFile out(dir / "lib" / "dvd" / "b.iso", small_chunks(), OutputFile::Mode::truncate,
                   nullptr, fs);
    out.write(random_bytes(1000, 2));
    out.publish();
    EXPECT_EQ(fs.calls(), (Calls{"sync_data lib/dvd/b.iso.part",
                                 "rename_noreplace lib/dvd/b.iso.part -> lib/dvd/b.iso",
                                 "sync_directory lib/dvd"}));
}

TEST(Durability, APublishThatCannotRenameSyncsNoDirectoryAndStaysAPart) {
    TempDir dir;
    test::write_file(dir / "c.iso", random_bytes(10, 3));
    RecordingFileSystem fs(dir.path());
    OutputFile out(dir / "c.iso", small_chunks(), OutputFile::Mode::truncate, nullptr, fs);
    out.write(random_bytes(2000, 4));
    EXPECT_THROW(out.publish(), IoError);
    EXPECT_EQ(fs.calls(), (Calls{"sync_data c.iso.part", "rename_noreplace c.iso.part -> c.iso"}));
    EXPECT_FALSE(out.published());
    EXPECT_TRUE(std::filesystem::exists(dir / "c.iso.part"));
}

TEST(Durability, SyncIsAnFdatasyncOfThePart) {
    TempDir dir;
    RecordingFileSystem fs(dir.path());
    OutputFile out(dir / "d.iso", small_chunks(), OutputFile::Mode::truncate, nullptr, fs);
    out.write(random_bytes(5000, 5));
    out.sync();
    out.finalize();
    EXPECT_EQ(fs.calls(), Calls{"sync_data d.iso.part"});
}

// Checks, at each sync, that the file holds all of `expected`: the write comes before the sync.
class SyncsWhatWasWritten : public RecordingFileSystem {
  public:
    SyncsWhatWasWritten(const std::filesystem::path& base, std::string expected)
        : RecordingFileSystem(base), expected_(std::move(expected)) {}
    void sync_file(int fd, const std::filesystem::path& path, std::uint64_t written) override {
        EXPECT_EQ(read_text(path), expected_) << "synced before the whole content was written";
        EXPECT_EQ(written, expected_.size());
        RecordingFileSystem::sync_file(fd, path, written);
    }

  private:
    std::string expected_;
};

TEST(Durability, AtomicWriteSyncsTheTemporaryThenRenamesThenSyncsTheDirectory) {
    TempDir dir;
    const std::string content = "state = 1\n";
    SyncsWhatWasWritten fs(dir.path(), content);
    write_file_atomically(dir / "f.toml", content, fs);
    EXPECT_EQ(fs.calls(),
              (Calls{"sync_file f.toml.tmp", "rename f.toml.tmp -> f.toml", "sync_directory ."}));
    EXPECT_EQ(read_text(dir / "f.toml"), content);

    // Replacing a file goes the same way.
    fs.clear();
    write_file_atomically(dir / "f.toml", content, fs);
    EXPECT_EQ(fs.calls(),
              (Calls{"sync_file f.toml.tmp", "rename f.toml.tmp -> f.toml", "sync_directory ."}));
}

TEST(Durability, AFailedAtomicWriteSyncsNoDirectory) {
    TempDir dir;
    RecordingFileSystem fs(dir.path());
    EXPECT_THROW(write_file_atomically(dir / "missing" / "f.toml", "x", fs), IoError);
    EXPECT_EQ(fs.calls(), Calls{}) << "the temporary could not even be created";

    std::filesystem::create_directories(dir / "taken" / "child");  // a directory in the way
    EXPECT_THROW(write_file_atomically(dir / "taken", "x", fs), IoError);
    EXPECT_EQ(fs.calls(), (Calls{"sync_file taken.tmp", "rename taken.tmp -> taken"}));
    EXPECT_FALSE(std::filesystem::exists(dir / "taken.tmp"));
}

// The real FileSystem's errors name the file and the offset the caller gave.
TEST(Durability, RealFileSystemErrorsNameThePath) {
    TempDir dir;
    FileSystem& fs = real_file_system();
    try {
        fs.sync_directory(dir / "absent");
        FAIL() << "synced a missing directory";
    } catch (const IoError& e) {
        EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
        EXPECT_EQ(e.path(), dir / "absent");
        EXPECT_EQ(e.op(), "open directory");
    }
    try {
        fs.sync_data(-1, dir / "x.part", 4096);
        FAIL() << "synced a closed descriptor";
    } catch (const IoError& e) {
        EXPECT_EQ(e.code(), std::errc::bad_file_descriptor);
        EXPECT_EQ(std::string(e.what()),
                  "sync " + (dir / "x.part").string() + " at offset 4096: Bad file descriptor");
    }
    test::write_file(dir / "old", random_bytes(1, 6));
    test::write_file(dir / "new", random_bytes(1, 7));
    try {
        fs.rename_noreplace(dir / "new", dir / "old", 1);
        FAIL() << "replaced a file";
    } catch (const IoError& e) {
        EXPECT_EQ(e.code(), std::errc::file_exists);
        EXPECT_EQ(e.path(), dir / "new");
        EXPECT_EQ(e.op(), "rename to " + (dir / "old").string() + " from");
    }
    EXPECT_EQ(parent_directory("x.iso"), ".");
    EXPECT_EQ(parent_directory("/srv/lib/x.iso"), "/srv/lib");
}

}  // namespace
}  // namespace freemkv
