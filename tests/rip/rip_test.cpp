// The rip engine on image files: no root needed.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "mapfile.hpp"
#include "ripper.hpp"
#include "support/test_support.hpp"
#include "unique_fd.hpp"

namespace freemkv {
namespace {

using test::random_bytes;
using test::read_file;
using test::TempDir;
using test::write_file;

RipOptions small_options(std::string identity = "test-disc") {
    RipOptions o;
    o.block_sectors = 32;
    o.writeback.min_bytes = 1 * MiB;
    o.writeback.start_bytes = 4 * MiB;
    o.buffer = BufferConfig{.buffer_bytes = 8 * MiB, .block_bytes = 1 * MiB};
    o.checkpoint_interval = std::chrono::milliseconds(50);
    o.progress_interval = std::chrono::milliseconds(10);
    o.identity = std::move(identity);
    return o;
}

// Every range the mapfile calls finished must already hold the source's bytes.
void expect_map_only_claims_durable_data(const std::filesystem::path& map,
                                         const std::filesystem::path& part,
                                         const std::vector<std::byte>& source) {
    Mapfile m = Mapfile::load(map);
    auto data = read_file(part);
    ASSERT_EQ(data.size(), source.size());
    for (const MapRange& r : m.ranges_with(BlockStatus::finished)) {
        ASSERT_TRUE(std::equal(data.begin() + static_cast<std::ptrdiff_t>(r.pos),
                               data.begin() + static_cast<std::ptrdiff_t>(r.end()),
                               source.begin() + static_cast<std::ptrdiff_t>(r.pos)))
            << "the mapfile claims [" << r.pos << ", " << r.end() << ") but the data differs";
    }
}

// An image handed over open is identified and read through that descriptor only: its path
// replaced by a FIFO afterwards (which a re-open would hang on) changes nothing.
TEST(Rip, AnImageHandedOverOpenIsReadOnlyThroughItsDescriptor) {
    TempDir dir;
    auto source = random_bytes(8 * MiB, 37);
    write_file(dir / "disc.img", source);
    UniqueFd fd(::open((dir / "disc.img").c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd);
    std::filesystem::remove(dir / "disc.img");
    ASSERT_EQ(::mkfifo((dir / "disc.img").c_str(), 0600), 0);

    DiscInfo info = identify_disc(fd.get(), dir / "disc.img");
    EXPECT_EQ(info.size_bytes, source.size());
    EXPECT_FALSE(info.is_block_device);
    std::filesystem::create_directory(dir / "lib");
    RipOptions o = small_options(info.identity);
    o.source_fd = fd.get();
    RipResult r = rip(dir / "disc.img", dir / "lib" / "Disc.iso", o);
    ASSERT_EQ(r.outcome, RipOutcome::ok) << r.reason;
    EXPECT_EQ(read_file(dir / "lib" / "Disc.iso"), source);
}

TEST(Rip, ImageIsByteIdenticalAndTheMapfileGoes) {
    TempDir dir;
    auto source = random_bytes(300 * MiB, 31);
    write_file(dir / "disc.img", source);
    std::filesystem::create_directory(dir / "lib");
    RipResult r = rip(dir / "disc.img", dir / "lib" / "Disc.iso", small_options());
    ASSERT_EQ(r.outcome, RipOutcome::ok) << r.reason;
    EXPECT_EQ(r.output, dir / "lib" / "Disc.iso");
    EXPECT_TRUE(r.mapfile.empty());
    EXPECT_FALSE(std::filesystem::exists(dir / "lib" / "Disc.map"));
    EXPECT_FALSE(std::filesystem::exists(dir / "lib" / "Disc.iso.part"));
    EXPECT_EQ(r.bytes_read, source.size());
    EXPECT_EQ(r.unreadable_sectors, 0u);
    ASSERT_EQ(r.passes.size(), 2u);
    EXPECT_EQ(r.passes[0].name, "sweep");
    EXPECT_EQ(r.passes[0].bytes_read, source.size());
    EXPECT_EQ(read_file(dir / "lib" / "Disc.iso"), source);
}

// Cancels the rip once `after` bytes are done, from the ripping thread.
struct CancelAfter : RipObserver {
    std::stop_source& stop;
    std::uint64_t after;
    std::uint64_t last_done = 0;
    CancelAfter(std::stop_source& s, std::uint64_t bytes) : stop(s), after(bytes) {}
    void on_progress(const RipProgress& p) override {
        last_done = p.bytes_done;
        if (p.bytes_done >= after) {
            stop.request_stop();
        }
    }
};

TEST(Rip, CancelledRipResumesWithoutRereading) {
    TempDir dir;
    auto source = random_bytes(128 * MiB, 32);
    write_file(dir / "disc.img", source);
    std::stop_source stop;
    CancelAfter cancel(stop, 48 * MiB);
    RipResult first =
        rip(dir / "disc.img", dir / "Disc.iso", small_options(), &cancel, stop.get_token());
    ASSERT_EQ(first.outcome, RipOutcome::cancelled) << first.reason;
    EXPECT_TRUE(first.resumable);
    EXPECT_EQ(first.output, dir / "Disc.iso.part");
    EXPECT_EQ(first.unreadable_sectors, 0u) << "no read failed: the rest was never read";
    EXPECT_FALSE(std::filesystem::exists(dir / "Disc.iso"));
    expect_map_only_claims_durable_data(dir / "Disc.map", dir / "Disc.iso.part", source);
    std::uint64_t rescued = Mapfile::load(dir / "Disc.map").bytes_with(BlockStatus::finished);
    EXPECT_GE(rescued, 48 * MiB);
    EXPECT_LT(rescued, source.size());

    RipResult second = rip(dir / "disc.img", dir / "Disc.iso", small_options());
    ASSERT_EQ(second.outcome, RipOutcome::ok) << second.reason;
    EXPECT_TRUE(second.resumed);
    EXPECT_EQ(second.bytes_read, source.size() - rescued) << "only the rest is read again";
    EXPECT_EQ(read_file(dir / "Disc.iso"), source);
}

TEST(Rip, NeverResumesAnotherDiscsPart) {
    TempDir dir;
    auto source = random_bytes(16 * MiB, 33);
    write_file(dir / "disc.img", source);
    std::stop_source stop;
    CancelAfter cancel(stop, 4 * MiB);
    rip(dir / "disc.img", dir / "Disc.iso", small_options("disc-a"), &cancel, stop.get_token());
    auto part_before = read_file(dir / "Disc.iso.part");

    RipResult other = rip(dir / "disc.img", dir / "Disc.iso", small_options("disc-b"));
    EXPECT_EQ(other.outcome, RipOutcome::failed);
    EXPECT_NE(other.reason.find("belongs to another disc"), std::string::npos) << other.reason;
    EXPECT_EQ(read_file(dir / "Disc.iso.part"), part_before) << "the other disc's rip is intact";
}

TEST(Rip, NeverOverwritesAFinishedRipOrItsMapfile) {
    TempDir dir;
    auto source = random_bytes(4 * MiB, 36);
    write_file(dir / "disc.img", source);
    ASSERT_EQ(rip(dir / "disc.img", dir / "Disc.iso", small_options()).outcome, RipOutcome::ok);
    write_file(dir / "Disc.map", random_bytes(100, 37));
    auto map_before = read_file(dir / "Disc.map");
    write_file(dir / "other.img", random_bytes(4 * MiB, 38));
    RipResult again = rip(dir / "other.img", dir / "Disc.iso", small_options("other"));
    EXPECT_EQ(again.outcome, RipOutcome::failed);
    EXPECT_NE(again.reason.find("already exists"), std::string::npos) << again.reason;
    EXPECT_EQ(read_file(dir / "Disc.iso"), source);
    EXPECT_EQ(read_file(dir / "Disc.map"), map_before);
}

// The .part cannot be created (a dangling link into a missing directory has its name): nothing
// is left behind that would block the name for the next try.
TEST(Rip, AFailedCreateLeavesNoMapfileBehind) {
    TempDir dir;
    write_file(dir / "disc.img", random_bytes(4 * MiB, 39));
    std::filesystem::create_symlink(dir / "missing" / "x", dir / "Disc.iso.part");
    RipResult r = rip(dir / "disc.img", dir / "Disc.iso", small_options());
    EXPECT_EQ(r.outcome, RipOutcome::failed);
    EXPECT_NE(r.reason.find("No such file"), std::string::npos) << r.reason;
    EXPECT_FALSE(r.resumable);
    EXPECT_FALSE(std::filesystem::exists(dir / "Disc.map"));
}

// A crash between creating the .part and saving its first mapfile leaves an empty .part: there
// is nothing in it to resume, and it does not block the name.
TEST(Rip, AnEmptyPartWithoutAMapfileIsTakenOver) {
    TempDir dir;
    auto source = random_bytes(4 * MiB, 40);
    write_file(dir / "disc.img", source);
    write_file(dir / "Disc.iso.part", {});
    RipResult r = rip(dir / "disc.img", dir / "Disc.iso", small_options());
    ASSERT_EQ(r.outcome, RipOutcome::ok) << r.reason;
    EXPECT_EQ(read_file(dir / "Disc.iso"), source);
}

TEST(Rip, BadSourcesFailWithAReason) {
    TempDir dir;
    write_file(dir / "odd.img", random_bytes(2048 * 10 + 5, 34));
    write_file(dir / "empty.img", {});
    struct Case {
        std::filesystem::path source;
        std::string reason_part;
    } cases[] = {
        {dir / "odd.img", "not a whole number of 2048-byte sectors"},
        {dir / "empty.img", "has size 0"},
        {dir / "missing.img", "missing.img"},
        {dir.path(), "not a block device or regular file"},
    };
    for (const Case& c : cases) {
        RipResult r = rip(c.source, dir / "out.iso", small_options());
        EXPECT_EQ(r.outcome, RipOutcome::failed) << c.source;
        EXPECT_NE(r.reason.find(c.reason_part), std::string::npos) << r.reason;
        EXPECT_FALSE(std::filesystem::exists(dir / "out.iso.part"));
        EXPECT_FALSE(std::filesystem::exists(dir / "out.iso"));
    }
}

struct Recorder : RipObserver {
    std::vector<RipProgress> seen;
    void on_progress(const RipProgress& p) override { seen.push_back(p); }
};

TEST(Rip, ReportsProgressAndTelemetry) {
    TempDir dir;
    auto source = random_bytes(64 * MiB, 35);
    write_file(dir / "disc.img", source);
    Recorder rec;
    RipResult r = rip(dir / "disc.img", dir / "Disc.iso", small_options(), &rec);
    ASSERT_EQ(r.outcome, RipOutcome::ok) << r.reason;
    ASSERT_FALSE(rec.seen.empty());
    const RipProgress& last = rec.seen.back();
    EXPECT_EQ(last.bytes_total, source.size());
    EXPECT_EQ(last.bytes_done, source.size());
    EXPECT_EQ(last.unreadable_sectors, 0u);
    EXPECT_GE(last.chunk_bytes, 1 * MiB);
    EXPECT_EQ(last.dirty_bound, 2 * last.chunk_bytes);
    for (std::size_t i = 1; i < rec.seen.size(); ++i) {
        EXPECT_GE(rec.seen[i].bytes_done, rec.seen[i - 1].bytes_done);
    }
}

}  // namespace
}  // namespace freemkv
