// The rip engine on real block devices with real faults: loop devices, and loop devices over the
// faultfs FUSE fixture for unreadable and slow sectors. Needs root; runs serially.

#include <gtest/gtest.h>

#include "eta.hpp"
#include "mapfile.hpp"
#include "ripper.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using test::FaultFs;
using test::LoopDevice;
using test::LoopExt4;
using test::random_bytes;
using test::read_file;
using test::run;
using test::TempDir;
using test::write_file;

RipOptions options() {
    RipOptions o;
    o.block_sectors = 32;
    o.read_sectors = 32;  // one ECC block per read, so failed reads count blocks
    o.retries = 1;
    o.writeback.min_bytes = 1 * MiB;
    o.writeback.start_bytes = 4 * MiB;
    o.buffer = BufferConfig{.buffer_bytes = 8 * MiB, .block_bytes = 1 * MiB};
    o.checkpoint_interval = std::chrono::milliseconds(50);
    o.progress_interval = std::chrono::milliseconds(10);
    o.identity = "device-test";
    return o;
}

TEST(RipDevice, ReadOnlyLoopDeviceIsByteIdentical) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    auto source = random_bytes(256 * MiB, 41);
    write_file(dir / "disc.img", source);
    LoopDevice loop(dir / "disc.img");
    RipResult r = rip(loop.device(), dir / "Disc.iso", options());
    ASSERT_EQ(r.outcome, RipOutcome::ok) << r.reason;
    EXPECT_EQ(read_file(dir / "Disc.iso"), source);
}

struct Bad {
    std::uint64_t pos, size;
};

class UnreadableSectors : public testing::TestWithParam<std::uint32_t> {};

// With reads of one ECC block and with the default large reads (split in the repair pass).
INSTANTIATE_TEST_SUITE_P(RipDevice, UnreadableSectors, testing::Values(32u, 512u));

TEST_P(UnreadableSectors, AreZeroedAndListedInTheMapfile) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    auto source = random_bytes(96 * MiB, 42);
    write_file(dir / "disc.img", source);
    // A loop device reads its backing file in 4 KiB pages, so ranges are page aligned.
    std::vector<Bad> bad = {{10 * MiB, 64 * 1024}, {50 * MiB + 8192, 4096}, {80 * MiB, 200 * 1024}};
    std::string args;
    for (const Bad& b : bad) {
        args += " --eio " + std::to_string(b.pos) + ":" + std::to_string(b.size);
    }
    FaultFs fs(dir / "disc.img", args + " --read-only");
    LoopDevice loop(fs.disk());
    RipOptions o = options();
    o.read_sectors = GetParam();
    RipResult r = rip(loop.device(), dir / "Disc.iso", o);

    ASSERT_EQ(r.outcome, RipOutcome::ok_with_errors) << r.reason;
    std::uint64_t bad_bytes = 0;
    auto expected = source;
    for (const Bad& b : bad) {
        bad_bytes += b.size;
        std::fill_n(expected.begin() + static_cast<std::ptrdiff_t>(b.pos), b.size, std::byte{0});
    }
    EXPECT_EQ(r.unreadable_sectors, bad_bytes / 2048);
    EXPECT_EQ(read_file(dir / "Disc.iso"), expected) << "equal but for zeroed bad ranges";

    ASSERT_EQ(r.mapfile, dir / "Disc.map");
    Mapfile map = Mapfile::load(r.mapfile);
    auto listed = map.ranges_with(BlockStatus::bad_sector);
    ASSERT_EQ(listed.size(), bad.size());
    for (std::size_t i = 0; i < bad.size(); ++i) {
        EXPECT_EQ(listed[i].pos, bad[i].pos);
        EXPECT_EQ(listed[i].size, bad[i].size);
    }
    EXPECT_EQ(map.bytes_with(BlockStatus::finished), source.size() - bad_bytes);
    // GNU ddrescue's own tool accepts it and counts the same bad sectors.
    std::string listing = run("ddrescuelog -b 2048 --list-blocks=- " + r.mapfile.string());
    std::size_t lines = std::count(listing.begin(), listing.end(), '\n');
    EXPECT_EQ(lines, bad_bytes / 2048);
}

TEST(RipDevice, SweepSkipsDamagedZonesQuickly) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    auto source = random_bytes(48 * MiB, 43);
    write_file(dir / "disc.img", source);
    // A 4 MiB damaged zone where every failing read takes 20 ms, like a scratched disc.
    FaultFs fs(dir / "disc.img", "--eio 16777216:4194304 --eio-delay-ms 20 --read-only");
    LoopDevice loop(fs.disk());
    RipOptions o = options();
    o.repair_budget = Nanos{0};  // sweep only

    o.skip_on_error = true;
    RipResult skipping = rip(loop.device(), dir / "A.iso", o);
    o.skip_on_error = false;
    RipResult plodding = rip(loop.device(), dir / "B.iso", o);

    ASSERT_EQ(skipping.passes.size(), 2u);
    ASSERT_EQ(plodding.passes.size(), 2u);
    const PassReport& s = skipping.passes[0];
    const PassReport& p = plodding.passes[0];
    std::printf(
        "sweep over a 4 MiB damaged zone: with skipping %.2f s (%llu failed reads), "
        "without %.2f s (%llu failed reads)\n",
        std::chrono::duration<double>(s.elapsed).count(),
        static_cast<unsigned long long>(s.failed_reads),
        std::chrono::duration<double>(p.elapsed).count(),
        static_cast<unsigned long long>(p.failed_reads));
    EXPECT_EQ(p.failed_reads, 4 * MiB / (64 * 1024)) << "every block of the zone fails";
    // The jump doubles up to 1 % of the disc (448 KiB here): 10 failed reads cross the zone.
    EXPECT_LE(s.failed_reads, 10u) << "the growing jump crosses the zone in a few reads";
    EXPECT_LT(s.elapsed, p.elapsed);
    // Without repair, what the sweep skipped counts as unreadable, and it is resumable data.
    EXPECT_GE(skipping.unreadable_sectors, 4 * MiB / 2048);
}

struct Recorder : RipObserver {
    std::vector<RipProgress> seen;
    void on_progress(const RipProgress& p) override { seen.push_back(p); }
};

// While reads stall (every read of a damaged zone fails after 20 ms) the smoothed rate decays at
// each report towards zero. The ETA must turn unknown, not grow to years and then overflow.
TEST(RipDevice, StalledReadsLeaveTheEtaUnknown) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    write_file(dir / "disc.img", random_bytes(48 * MiB, 44));
    FaultFs fs(dir / "disc.img", "--eio 16777216:4194304 --eio-delay-ms 20 --read-only");
    RipOptions o = options();
    o.repair_budget = Nanos{0};  // sweep only
    o.skip_on_error = false;     // 64 failed reads in a row, a report after each
    Recorder recorder;
    RipResult r = rip(fs.disk(), dir / "Disc.iso", o, &recorder);
    EXPECT_NE(r.outcome, RipOutcome::failed) << r.reason;

    std::size_t stalled = 0;
    for (std::size_t i = 0; i < recorder.seen.size(); ++i) {
        const RipProgress& p = recorder.seen[i];
        if (p.eta) {
            EXPECT_GE(*p.eta, Nanos{0}) << "report " << i << ", rate " << p.rate;
            EXPECT_LE(*p.eta, max_eta) << "report " << i << ", rate " << p.rate;
        }
        if (p.rate > 0 && p.rate < min_eta_rate) {
            ++stalled;
            EXPECT_EQ(p.eta, std::nullopt) << "report " << i << ", rate " << p.rate;
        }
    }
    EXPECT_GT(stalled, 0u) << "the stall decays the rate below min_eta_rate";
}

// Pulls the medium when the rip is a third done: the loop device's capacity drops to zero, as
// a drive's does when the tray opens.
struct PullMedium : RipObserver {
    std::filesystem::path backing;
    std::string device;
    bool pulled = false;
    void on_progress(const RipProgress& p) override {
        if (!pulled && p.bytes_done * 3 >= p.bytes_total) {
            pulled = true;
            std::filesystem::resize_file(backing, 0);
            run("losetup -c " + device);
        }
    }
};

TEST(RipDevice, PulledMediumFailsCleanlyAndResumes) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    auto source = random_bytes(96 * MiB, 44);
    write_file(dir / "disc.img", source);
    LoopDevice loop(dir / "disc.img");
    PullMedium pull;
    pull.backing = dir / "disc.img";
    pull.device = loop.device();
    RipResult first = rip(loop.device(), dir / "Disc.iso", options(), &pull);
    ASSERT_TRUE(pull.pulled);
    EXPECT_EQ(first.outcome, RipOutcome::failed);
    EXPECT_NE(first.reason.find("medium was removed"), std::string::npos) << first.reason;
    EXPECT_TRUE(first.resumable);
    EXPECT_TRUE(std::filesystem::exists(dir / "Disc.iso.part"));
    std::uint64_t rescued = Mapfile::load(dir / "Disc.map").bytes_with(BlockStatus::finished);
    EXPECT_GE(rescued, source.size() / 3);

    // The disc goes back in.
    write_file(dir / "disc.img", source);
    run("losetup -c " + loop.device());
    RipResult second = rip(loop.device(), dir / "Disc.iso", options());
    ASSERT_EQ(second.outcome, RipOutcome::ok) << second.reason;
    EXPECT_TRUE(second.resumed);
    EXPECT_EQ(second.bytes_read, source.size() - rescued);
    EXPECT_EQ(read_file(dir / "Disc.iso"), source);
}

// The medium dies in place a third into the rip: every read fails from then on, but the size
// stays (a drive that stopped delivering, not an opened tray).
struct KillMedium : RipObserver {
    std::filesystem::path dead_file;
    bool killed = false;
    void on_progress(const RipProgress& p) override {
        if (!killed && p.bytes_done * 3 >= p.bytes_total) {
            killed = true;
            write_file(dead_file, {});
        }
    }
};

TEST(RipDevice, MediumDeadInPlaceFailsWithoutPublishingAndResumes) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    auto source = random_bytes(96 * MiB, 47);
    write_file(dir / "disc.img", source);
    FaultFs fs(dir / "disc.img", "--read-only --dead-file " + (dir / "dead").string());
    LoopDevice loop(fs.disk());
    KillMedium kill;
    kill.dead_file = dir / "dead";
    RipOptions o = options();
    o.repair_budget = std::chrono::seconds(60);  // bounds the test before the fix
    RipResult first = rip(loop.device(), dir / "Disc.iso", o, &kill);
    ASSERT_TRUE(kill.killed);
    EXPECT_EQ(first.outcome, RipOutcome::failed) << first.reason;
    EXPECT_NE(first.reason.find("medium"), std::string::npos) << first.reason;
    EXPECT_TRUE(first.resumable);
    EXPECT_FALSE(std::filesystem::exists(dir / "Disc.iso")) << "nothing is published";
    EXPECT_EQ(first.output, dir / "Disc.iso.part");
    ASSERT_TRUE(std::filesystem::exists(dir / "Disc.iso.part"));
    ASSERT_TRUE(std::filesystem::exists(dir / "Disc.map"));
    std::uint64_t failed_reads = 0;
    for (const PassReport& pass : first.passes) {
        failed_reads += pass.failed_reads;
    }
    EXPECT_LE(failed_reads, 2 * o.probe_after_failures) << "it stops, it does not grind";
    Mapfile map = Mapfile::load(dir / "Disc.map");
    std::uint64_t rescued = map.bytes_with(BlockStatus::finished);
    EXPECT_GE(rescued, source.size() / 3) << "everything read before it died is checkpointed";
    auto part = read_file(dir / "Disc.iso.part");
    for (const MapRange& range : map.ranges_with(BlockStatus::finished)) {
        ASSERT_TRUE(std::equal(part.begin() + static_cast<std::ptrdiff_t>(range.pos),
                               part.begin() + static_cast<std::ptrdiff_t>(range.end()),
                               source.begin() + static_cast<std::ptrdiff_t>(range.pos)));
    }

    // The drive works again: the rip continues from the map.
    std::filesystem::remove(dir / "dead");
    RipResult second = rip(loop.device(), dir / "Disc.iso", options());
    ASSERT_EQ(second.outcome, RipOutcome::ok) << second.reason;
    EXPECT_TRUE(second.resumed);
    EXPECT_EQ(second.bytes_read, source.size() - rescued);
    EXPECT_EQ(read_file(dir / "Disc.iso"), source);
}

TEST(RipDevice, FullDiskFailsWithTheReasonAndKeepsWhatIsDurable) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    auto source = random_bytes(64 * MiB, 45);
    write_file(dir / "disc.img", source);
    LoopExt4 lib(32 * MiB);
    auto out = lib.mount_point() / "Disc.iso";
    RipResult r = rip(dir / "disc.img", out, options());
    EXPECT_EQ(r.outcome, RipOutcome::failed);
    EXPECT_NE(r.reason.find("No space left on device"), std::string::npos) << r.reason;
    EXPECT_NE(r.reason.find("Disc.iso.part"), std::string::npos) << r.reason;
    EXPECT_TRUE(r.resumable);
    EXPECT_FALSE(std::filesystem::exists(out));
    ASSERT_TRUE(std::filesystem::exists(out.string() + ".part"));
    ASSERT_TRUE(std::filesystem::exists(lib.mount_point() / "Disc.map"));
    // What the mapfile claims is really there.
    Mapfile map = Mapfile::load(lib.mount_point() / "Disc.map");
    auto part = read_file(out.string() + ".part");
    for (const MapRange& range : map.ranges_with(BlockStatus::finished)) {
        ASSERT_TRUE(std::equal(part.begin() + static_cast<std::ptrdiff_t>(range.pos),
                               part.begin() + static_cast<std::ptrdiff_t>(range.end()),
                               source.begin() + static_cast<std::ptrdiff_t>(range.pos)));
    }
    // The process carries on: another rip elsewhere works.
    auto small = random_bytes(2 * MiB, 46);
    write_file(dir / "small.img", small);
    RipResult ok = rip(dir / "small.img", dir / "Small.iso", options());
    EXPECT_EQ(ok.outcome, RipOutcome::ok) << ok.reason;
}

// A rip that fills the disk between two checkpoints: what reached the .part before the failed
// write is made durable and claimed by the map, so freeing space and ripping again continues
// from there instead of from the last periodic checkpoint (here: none at all).
TEST(RipDevice, FullDiskCheckpointsWhatWasWrittenAndResumesAfterFreeingSpace) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    auto source = random_bytes(64 * MiB, 48);
    write_file(dir / "disc.img", source);
    LoopExt4 lib(96 * MiB);
    write_file(lib.mount_point() / "filler", random_bytes(56 * MiB, 49));
    auto out = lib.mount_point() / "Disc.iso";
    RipOptions o = options();
    o.checkpoint_interval = std::chrono::hours(1);
    RipResult first = rip(dir / "disc.img", out, o);
    ASSERT_EQ(first.outcome, RipOutcome::failed) << first.reason;
    EXPECT_NE(first.reason.find("No space left on device"), std::string::npos) << first.reason;
    EXPECT_TRUE(first.resumable);
    EXPECT_FALSE(std::filesystem::exists(out));
    Mapfile map = Mapfile::load(lib.mount_point() / "Disc.map");
    std::uint64_t rescued = map.bytes_with(BlockStatus::finished);
    EXPECT_GT(rescued, 0u) << "what was written before the disk filled is claimed";
    auto part = read_file(out.string() + ".part");
    for (const MapRange& range : map.ranges_with(BlockStatus::finished)) {
        ASSERT_TRUE(std::equal(part.begin() + static_cast<std::ptrdiff_t>(range.pos),
                               part.begin() + static_cast<std::ptrdiff_t>(range.end()),
                               source.begin() + static_cast<std::ptrdiff_t>(range.pos)));
    }

    std::filesystem::remove(lib.mount_point() / "filler");
    RipResult second = rip(dir / "disc.img", out, options());
    ASSERT_EQ(second.outcome, RipOutcome::ok) << second.reason;
    EXPECT_TRUE(second.resumed);
    EXPECT_EQ(second.bytes_read, source.size() - rescued) << "what was claimed is not read again";
    EXPECT_EQ(read_file(out), source);
}

}  // namespace
}  // namespace freemkv
