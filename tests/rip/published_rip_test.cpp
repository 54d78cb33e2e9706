// Finishing a rip again after a restart: what counts as the disc's published rip.

#include "published_rip.hpp"

#include <gtest/gtest.h>

#include "mapfile.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using test::TempDir;

constexpr std::uint64_t kSize = 64 * 2048;
constexpr const char* kDisc = "0123456789abcdef";

struct Published {
    TempDir dir;
    std::filesystem::path final_path = dir / "Disc.iso";
    Published() { test::write_file(final_path, test::random_bytes(kSize, 1)); }
    void map(const std::string& identity, Phase phase, std::uint64_t bad_sectors = 0) {
        Mapfile m(kSize);
        m.identity = identity;
        m.set(0, kSize, BlockStatus::finished);
        m.set(0, bad_sectors * 2048, BlockStatus::bad_sector);
        m.phase = phase;
        m.save(mapfile_path(final_path));
    }
};

TEST(PublishedRip, TheFileAloneWhenTheMapfileIsGone) {
    Published p;
    auto r = published_rip(p.final_path, kDisc, kSize, 2048);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->outcome, RipOutcome::ok);
    EXPECT_EQ(r->output, p.final_path);
    EXPECT_EQ(published_rip(p.final_path, kDisc, kSize + 2048, 2048), std::nullopt)
        << "another size is another file";
    EXPECT_EQ(published_rip(p.final_path, "", kSize, 2048), std::nullopt);
    EXPECT_EQ(published_rip(p.dir / "missing.iso", kDisc, kSize, 2048), std::nullopt);
}

TEST(PublishedRip, NotWhileAPartIsThere) {
    Published p;
    test::write_file(p.final_path.string() + ".part", {});
    EXPECT_EQ(published_rip(p.final_path, kDisc, kSize, 2048), std::nullopt);
}

TEST(PublishedRip, TheMapfileMustBeFinishedAndNameTheDisc) {
    Published p;
    p.map("ffffffffffffffff", Phase::finished);
    EXPECT_EQ(published_rip(p.final_path, kDisc, kSize, 2048), std::nullopt);
    p.map(kDisc, Phase::copying);
    EXPECT_EQ(published_rip(p.final_path, kDisc, kSize, 2048), std::nullopt);
    p.map(kDisc, Phase::finished, 5);
    auto r = published_rip(p.final_path, kDisc, kSize, 2048);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->outcome, RipOutcome::ok_with_errors);
    EXPECT_EQ(r->unreadable_sectors, 5u);
    EXPECT_EQ(r->mapfile, mapfile_path(p.final_path));
}

}  // namespace
}  // namespace freemkv
