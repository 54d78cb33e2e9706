// The rip's seam for a decryption library (descrambler.hpp): its runs are read through it, the
// rest from the source, a read is cut at the runs' edges, its failed reads are bad sectors like
// any other, and a failure to decrypt stops the rip resumably.

#include "descrambler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "mapfile.hpp"
#include "ripper.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using test::random_bytes;
using test::read_file;
using test::TempDir;
using test::write_file;

constexpr std::uint64_t kSector = 2048;

// "Decrypts" by inverting every byte of the source, so the output shows who read each sector.
class Inverter final : public Descrambler {
  public:
    Inverter(std::vector<std::byte> source, std::vector<SectorRun> runs)
        : source_(std::move(source)), runs_(std::move(runs)) {}
    const std::vector<SectorRun>& runs() const override { return runs_; }
    int read(std::uint64_t sector, std::span<std::byte> out) override {
        std::uint64_t count = out.size() / kSector;
        auto run = std::find_if(runs_.begin(), runs_.end(), [&](const SectorRun& r) {
            return r.first <= sector && sector + count <= r.end;
        });
        EXPECT_NE(run, runs_.end()) << "a read across a run's edge at sector " << sector;
        if (no_key) {
            throw DescrambleError("no key for the run at sector " + std::to_string(run->first));
        }
        for (std::uint64_t s = sector; s < sector + count; ++s) {
            if (bad.contains(s)) {
                return EIO;
            }
        }
        for (std::size_t i = 0; i < out.size(); ++i) {
            out[i] = ~source_[sector * kSector + i];
        }
        return 0;
    }
    std::set<std::uint64_t> bad;
    bool no_key = false;

  private:
    std::vector<std::byte> source_;
    std::vector<SectorRun> runs_;
};

RipOptions options_with(std::shared_ptr<Descrambler> descrambler) {
    RipOptions o;
    o.block_sectors = 16;
    o.read_sectors = 512;  // 1 MiB reads: each crosses a run edge below
    o.writeback.min_bytes = 1 * MiB;
    o.writeback.start_bytes = 1 * MiB;
    o.buffer = BufferConfig{.buffer_bytes = 8 * MiB, .block_bytes = 1 * MiB};
    o.identity = "css-disc";
    o.retries = 0;
    o.descrambler = std::move(descrambler);
    return o;
}

TEST(Descrambler, ItsRunsAreReadThroughItAndTheRestFromTheSource) {
    TempDir dir;
    auto source = random_bytes(4 * MiB, 5);
    write_file(dir / "disc.img", source);
    std::vector<SectorRun> runs{{100, 700}, {700, 701}, {1500, 1900}};
    auto inverter = std::make_shared<Inverter>(source, runs);
    inverter->bad = {1600};
    RipResult r = rip(dir / "disc.img", dir / "out.iso", options_with(inverter));
    ASSERT_EQ(r.outcome, RipOutcome::ok_with_errors) << r.reason;
    EXPECT_EQ(r.unreadable_sectors, 1u);
    auto out = read_file(r.output);
    ASSERT_EQ(out.size(), source.size());
    for (std::uint64_t s = 0; s < source.size() / kSector; ++s) {
        bool in_run = std::any_of(runs.begin(), runs.end(), [&](const SectorRun& run) {
            return run.first <= s && s < run.end;
        });
        for (std::uint64_t i = s * kSector; i < (s + 1) * kSector; ++i) {
            std::byte want = s == 1600 ? std::byte{0} : in_run ? ~source[i] : source[i];
            ASSERT_EQ(out[i], want) << "sector " << s << (in_run ? " (in a run)" : "");
        }
    }
    Mapfile map = Mapfile::load(r.mapfile);
    auto bad = map.ranges_with(BlockStatus::bad_sector);
    ASSERT_EQ(bad.size(), 1u);
    EXPECT_EQ(bad[0].pos, 1600 * kSector);
    EXPECT_EQ(bad[0].size, kSector);
}

TEST(Descrambler, AFailureToDecryptStopsTheRipResumably) {
    TempDir dir;
    auto source = random_bytes(4 * MiB, 6);
    write_file(dir / "disc.img", source);
    auto inverter = std::make_shared<Inverter>(source, std::vector<SectorRun>{{1024, 1100}});
    inverter->no_key = true;
    RipResult r = rip(dir / "disc.img", dir / "out.iso", options_with(inverter));
    EXPECT_EQ(r.outcome, RipOutcome::failed);
    EXPECT_EQ(r.reason, "no key for the run at sector 1024");
    EXPECT_TRUE(r.resumable);
    EXPECT_TRUE(std::filesystem::exists(r.mapfile));

    inverter->no_key = false;
    RipResult again = rip(dir / "disc.img", dir / "out.iso", options_with(inverter));
    ASSERT_EQ(again.outcome, RipOutcome::ok) << again.reason;
    EXPECT_TRUE(again.resumed);
    auto out = read_file(again.output);
    EXPECT_EQ(out[1024 * kSector], ~source[1024 * kSector]);
    EXPECT_EQ(out[0], source[0]);
}

}  // namespace
}  // namespace freemkv
