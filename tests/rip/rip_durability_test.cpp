// A rip's checkpoints and its publish, seen through a recording FileSystem: the mapfile never
// claims a range whose bytes were not synced first. rip_test cannot check this by reading the
// files back, since the page cache holds the bytes whether or not they were ever synced.

#include <gtest/gtest.h>

#include <algorithm>
#include <stop_token>
#include <string>
#include <vector>

#include "mapfile.hpp"
#include "ripper.hpp"
#include "support/recording_file_system.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using test::random_bytes;
using test::read_file;
using test::RecordingFileSystem;
using test::TempDir;
using test::write_file;

using Calls = std::vector<std::string>;

constexpr std::uint64_t sector = 2048;

// Checkpoints at every read (1 MiB), so a small disc gives many of them.
RipOptions checkpoint_every_read(FileSystem& fs) {
    RipOptions o;
    o.read_sectors = 512;
    o.writeback.min_bytes = 1 * MiB;
    o.writeback.start_bytes = 4 * MiB;
    o.buffer = BufferConfig{.buffer_bytes = 8 * MiB, .block_bytes = 1 * MiB};
    o.checkpoint_interval = Nanos{0};
    o.identity = "durable-disc";
    o.file_system = &fs;
    return o;
}

// Records the calls, and checks the rip's promise against the bytes themselves: at each sync of
// the .part it notes which sectors then hold the source's bytes (durable from then on); at each
// rename of a mapfile into place, every sector the new mapfile calls finished must be durable.
class MapfileClaimsOnlySyncedData : public RecordingFileSystem {
  public:
    MapfileClaimsOnlySyncedData(const std::filesystem::path& base, std::filesystem::path final,
                                const std::vector<std::byte>& source)
        : RecordingFileSystem(base),
          part_(final.string() + ".part"),
          map_(mapfile_path(final)),
          source_(source),
          durable_(source.size() / sector, false) {}

    void sync_data(int fd, const std::filesystem::path& path, std::uint64_t written) override {
        RecordingFileSystem::sync_data(fd, path, written);
        if (path != part_) {
            return;
        }
        auto data = read_file(part_);
        for (std::size_t i = 0; i < durable_.size() && (i + 1) * sector <= data.size(); ++i) {
            auto at = static_cast<std::ptrdiff_t>(i * sector);
            durable_[i] = durable_[i] || std::equal(data.begin() + at, data.begin() + at + sector,
                                                    source_.begin() + at);
        }
    }

    void rename(const std::filesystem::path& from, const std::filesystem::path& to) override {
        if (to == map_) {
            ++map_renames_;
            for (const MapRange& r : Mapfile::load(from).ranges_with(BlockStatus::finished)) {
                for (std::uint64_t s = r.pos / sector; s < r.end() / sector; ++s) {
                    if (!durable_[s]) {
                        ++unsynced_claims_;
                        ADD_FAILURE() << "mapfile save #" << map_renames_ << " claims sector " << s
                                      << " (range " << r.pos << "+" << r.size
                                      << ") finished before its bytes were synced";
                        break;
                    }
                }
            }
        }
        RecordingFileSystem::rename(from, to);
    }

    int map_renames() const { return map_renames_; }
    int unsynced_claims() const { return unsynced_claims_; }

  private:
    std::filesystem::path part_;
    std::filesystem::path map_;
    const std::vector<std::byte>& source_;
    std::vector<bool> durable_;
    int map_renames_ = 0;
    int unsynced_claims_ = 0;
};

// Every save of the mapfile after the first (which claims nothing) follows a sync of the .part
// since the save before it. Returns how many saves there were.
int expect_a_data_sync_before_each_mapfile_save(const Calls& calls, const std::string& part,
                                                const std::string& map) {
    const std::string sync = "sync_data " + part;
    const std::string save = "rename " + map + ".tmp -> " + map;
    int saves = 0;
    bool synced = false;
    for (std::size_t i = 0; i < calls.size(); ++i) {
        if (calls[i] == sync) {
            synced = true;
        } else if (calls[i] == save) {
            if (saves > 0) {
                EXPECT_TRUE(synced) << "mapfile save #" << saves + 1 << " (call " << i
                                    << ") without a sync of " << part << " since the last save";
            }
            ++saves;
            synced = false;
        }
    }
    return saves;
}

TEST(RipDurability, EveryCheckpointSyncsTheDataBeforeTheMapfileAndPublishesLast) {
    TempDir dir;
    auto source = random_bytes(16 * MiB, 51);
    write_file(dir / "disc.img", source);
    std::filesystem::create_directory(dir / "lib");
    MapfileClaimsOnlySyncedData fs(dir.path(), dir / "lib" / "Disc.iso", source);
    RipResult r = rip(dir / "disc.img", dir / "lib" / "Disc.iso", checkpoint_every_read(fs));
    ASSERT_EQ(r.outcome, RipOutcome::ok) << r.reason;
    EXPECT_EQ(read_file(dir / "lib" / "Disc.iso"), source);

    const Calls calls = fs.calls();
    // The mapfile exists before the .part, so a .part never exists without one.
    const Calls first_save{"sync_file lib/Disc.map.tmp", "rename lib/Disc.map.tmp -> lib/Disc.map",
                           "sync_directory lib"};
    ASSERT_GE(calls.size(), first_save.size());
    EXPECT_EQ(Calls(calls.begin(), calls.begin() + 3), first_save);

    int saves =
        expect_a_data_sync_before_each_mapfile_save(calls, "lib/Disc.iso.part", "lib/Disc.map");
    EXPECT_GE(saves, 16) << "one checkpoint per 1 MiB read";
    EXPECT_EQ(fs.map_renames(), saves);
    EXPECT_EQ(fs.unsynced_claims(), 0);

    // The end: a last checkpoint, then the publish, then the clean rip's mapfile goes.
    const Calls end{
        "sync_data lib/Disc.iso.part",
        "sync_file lib/Disc.map.tmp",
        "rename lib/Disc.map.tmp -> lib/Disc.map",
        "sync_directory lib",
        "sync_data lib/Disc.iso.part",
        "rename_noreplace lib/Disc.iso.part -> lib/Disc.iso",
        "sync_directory lib",
        "sync_directory lib",
    };
    ASSERT_GE(calls.size(), end.size());
    EXPECT_EQ(Calls(calls.end() - static_cast<std::ptrdiff_t>(end.size()), calls.end()), end);
    EXPECT_EQ(std::count(calls.begin(), calls.end(),
                         "rename_noreplace lib/Disc.iso.part -> lib/Disc.iso"),
              1);
}

// Cancels the rip once `after` bytes are done.
struct CancelAfter : RipObserver {
    std::stop_source& stop;
    std::uint64_t after;
    CancelAfter(std::stop_source& s, std::uint64_t bytes) : stop(s), after(bytes) {}
    void on_progress(const RipProgress& p) override {
        if (p.bytes_done >= after) {
            stop.request_stop();
        }
    }
};

TEST(RipDurability, AnInterruptedRipCheckpointsAndTheResumeKeepsTheOrder) {
    TempDir dir;
    auto source = random_bytes(24 * MiB, 52);
    write_file(dir / "disc.img", source);
    std::stop_source stop;
    CancelAfter cancel(stop, 8 * MiB);
    Calls interrupted;
    {
        MapfileClaimsOnlySyncedData fs(dir.path(), dir / "Disc.iso", source);
        RipOptions o = checkpoint_every_read(fs);
        o.progress_interval = Nanos{0};
        RipResult first = rip(dir / "disc.img", dir / "Disc.iso", o, &cancel, stop.get_token());
        ASSERT_EQ(first.outcome, RipOutcome::cancelled) << first.reason;
        interrupted = fs.calls();
        expect_a_data_sync_before_each_mapfile_save(interrupted, "Disc.iso.part", "Disc.map");
        EXPECT_EQ(fs.unsynced_claims(), 0);
    }
    // It stops on a checkpoint and publishes nothing.
    const Calls last_checkpoint{"sync_data Disc.iso.part", "sync_file Disc.map.tmp",
                                "rename Disc.map.tmp -> Disc.map", "sync_directory ."};
    ASSERT_GE(interrupted.size(), last_checkpoint.size());
    EXPECT_EQ(Calls(interrupted.end() - 4, interrupted.end()), last_checkpoint);
    EXPECT_EQ(std::count_if(interrupted.begin(), interrupted.end(),
                            [](const std::string& c) { return c.starts_with("rename_noreplace"); }),
              0);

    MapfileClaimsOnlySyncedData fs(dir.path(), dir / "Disc.iso", source);
    RipResult second = rip(dir / "disc.img", dir / "Disc.iso", checkpoint_every_read(fs));
    ASSERT_EQ(second.outcome, RipOutcome::ok) << second.reason;
    EXPECT_TRUE(second.resumed);
    const Calls resumed = fs.calls();
    ASSERT_FALSE(resumed.empty());
    EXPECT_EQ(resumed.front(), "sync_data Disc.iso.part")
        << "a resumed rip does not save the mapfile before it synced the data";
    expect_a_data_sync_before_each_mapfile_save(resumed, "Disc.iso.part", "Disc.map");
    EXPECT_EQ(fs.unsynced_claims(), 0);
    EXPECT_EQ(read_file(dir / "Disc.iso"), source);
}

}  // namespace
}  // namespace freemkv
