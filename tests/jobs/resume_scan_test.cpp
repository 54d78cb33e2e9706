// Finding unfinished rips in the library from their mapfiles.

#include "resume_scan.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "mapfile.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using test::TempDir;

constexpr std::uint64_t kSize = 1000 * 2048;

// An unfinished rip at "<dir>/<name>.iso": its .part and a mapfile with `done` bytes rescued.
std::filesystem::path unfinished(const std::filesystem::path& dir, const std::string& name,
                                 const std::string& identity, std::uint64_t done,
                                 std::uint64_t size = kSize) {
    std::filesystem::create_directories(dir);
    auto final_path = dir / (name + ".iso");
    test::write_file(final_path.string() + ".part", {});
    Mapfile map(size);
    map.identity = identity;
    map.set(0, done, BlockStatus::finished);
    map.save(dir / (name + ".map"));
    return final_path;
}

TEST(ResumeScan, FindsTheRipOfTheSameDisc) {
    TempDir dir;
    auto lib = dir / "lib";
    unfinished(lib, "Other", "1111111111111111", 4096);
    auto mine = unfinished(lib, "Mine", "2222222222222222", 4096);
    EXPECT_EQ(find_resumable_rip(lib, 1, "2222222222222222", kSize), mine);
    EXPECT_EQ(find_resumable_rip(lib, 1, "3333333333333333", kSize), std::nullopt);
    EXPECT_EQ(find_resumable_rip(lib, 1, "2222222222222222", kSize + 2048), std::nullopt)
        << "same identity, another size";
    EXPECT_EQ(find_resumable_rip(lib, 1, "", kSize), std::nullopt);
}

TEST(ResumeScan, PrefersTheRipWithMostBytesRescued) {
    TempDir dir;
    auto lib = dir / "lib";
    unfinished(lib, "A", "2222222222222222", 4096);
    auto most = unfinished(lib, "B", "2222222222222222", 8192);
    unfinished(lib, "C", "2222222222222222", 2048);
    EXPECT_EQ(find_resumable_rip(lib, 1, "2222222222222222", kSize), most);
}

TEST(ResumeScan, IgnoresAMapfileWithoutItsPart) {
    TempDir dir;
    auto lib = dir / "lib";
    auto final_path = unfinished(lib, "Done", "2222222222222222", 4096);
    std::filesystem::remove(final_path.string() + ".part");
    EXPECT_EQ(find_resumable_rip(lib, 1, "2222222222222222", kSize), std::nullopt);
}

TEST(ResumeScan, LooksOnlyAsDeepAsTheNamingPatternWrites) {
    TempDir dir;
    auto lib = dir / "lib";
    auto two_deep = unfinished(lib / "bd", "Movie", "2222222222222222", 4096);
    EXPECT_EQ(find_resumable_rip(lib, 1, "2222222222222222", kSize), std::nullopt);
    EXPECT_EQ(find_resumable_rip(lib, 2, "2222222222222222", kSize), two_deep);
    unfinished(lib / "a" / "b", "Deep", "4444444444444444", 4096);
    EXPECT_EQ(find_resumable_rip(lib, 2, "4444444444444444", kSize), std::nullopt);
    EXPECT_EQ(find_resumable_rip(lib, 0, "2222222222222222", kSize), std::nullopt);
}

TEST(ResumeScan, DoesNotFollowSymlinkedDirectories) {
    TempDir dir;
    auto outside = unfinished(dir / "outside", "Movie", "2222222222222222", 4096);
    std::filesystem::create_directories(dir / "lib");
    std::filesystem::create_directory_symlink(dir / "outside", dir / "lib" / "link");
    EXPECT_EQ(find_resumable_rip(dir / "lib", 3, "2222222222222222", kSize), std::nullopt);
}

TEST(ResumeScan, SkipsUnreadableAndForeignFiles) {
    TempDir dir;
    auto lib = dir / "lib";
    std::filesystem::create_directories(lib);
    // Not a mapfile at all.
    test::write_file(lib / "Garbage.iso.part", {});
    {
        std::vector<std::byte> junk(100, std::byte{'x'});
        test::write_file(lib / "Garbage.map", junk);
    }
    // A FIFO named like a mapfile must not hang the scan.
    test::write_file(lib / "Fifo.iso.part", {});
    ASSERT_EQ(::mkfifo((lib / "Fifo.map").c_str(), 0644), 0);
    // ddrescue's own mapfile, without freemkvd's identity line.
    test::write_file(lib / "Ddrescue.iso.part", {});
    Mapfile foreign(kSize);
    foreign.save(lib / "Ddrescue.map");
    // A mapfile nobody may read (root reads anything, so also a dangling symlink).
    std::filesystem::create_symlink(lib / "nowhere", lib / "Dangling.map");
    test::write_file(lib / "Dangling.iso.part", {});

    auto mine = unfinished(lib, "Mine", "2222222222222222", 4096);
    EXPECT_EQ(find_resumable_rip(lib, 1, "2222222222222222", kSize), mine);
    EXPECT_EQ(find_resumable_rip(dir / "missing", 1, "2222222222222222", kSize), std::nullopt);
}

}  // namespace
}  // namespace freemkv
