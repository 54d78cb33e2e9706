#pragma once

// Rips one disc into one file, the way ddrescue and the best rippers do, because on a scratched
// disc a failing read can take seconds and per-sector retries across a damaged zone can stall a
// rip for hours:
//
//  1. Sweep: read the disc front to back in large reads (1 MiB by default: a drive streams best
//     with few, large requests) aligned to its ECC block. A read that fails is marked
//     non-trimmed and the sweep jumps ahead (a jump that doubles while reads keep failing and
//     resets after a good one), so one damaged zone costs a few failed reads.
//  2. Repair: everything still pending (skipped zones, failed blocks) is read again, largest
//     range first, halving failed ranges down to single sectors, each retried up to `retries`
//     times, all within `repair_budget`. What stays unreadable stays zero in the output and is
//     listed in a GNU ddrescue mapfile beside it, so `ddrescue` on another drive can retry it.
//
// Durability: data goes through an AsyncWriter (the reader never waits for the disk unless the
// buffer is full). Checkpoints are posted to the writer thread behind the data they describe:
// fdatasync the .part, then save a snapshot of the mapfile atomically. So the mapfile never claims
// a range whose bytes are not on disk. An interrupted rip (killed, medium pulled, disk full,
// cancelled) leaves "<name>.iso.part" and "<name>.map" and the next rip of the same disc (same
// identity) continues from them. Success is reported only after the file is synced and renamed.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "async_writer.hpp"
#include "chunk_policy.hpp"
#include "descrambler.hpp"
#include "disc_info.hpp"
#include "enum_names.hpp"
#include "file_system.hpp"

namespace freemkv {

struct RipOptions {
    std::uint32_t sector_size = 2048;
    std::uint32_t block_sectors = 32;  // the ECC block: 16 sectors on DVD, 32 on BD
    std::uint32_t read_sectors = 512;  // sweep read size, a multiple of block_sectors
    unsigned retries = 3;              // extra attempts per single sector
    Nanos repair_budget = std::chrono::minutes(10);
    Nanos checkpoint_interval = std::chrono::seconds(5);
    Nanos progress_interval = std::chrono::milliseconds(250);
    bool skip_on_error = true;  // sweep jumps over damaged zones (off only to measure it)
    // After this many failed reads in a row, a sector read well before is read again: if it
    // fails too, the medium is dead (not damaged here) and the rip stops, resumable.
    unsigned probe_after_failures = 8;
    PolicyConfig writeback;
    BufferConfig buffer;
    std::string identity;  // the disc's fingerprint; a .part is resumed only by the same disc
    FileId source_file;    // the image file a caller's access was checked on (DiscReader)
    // An image a caller handed over open (the job keeps it open for the rip's life): read through
    // it, never by path. -1: open the source path.
    int source_fd = -1;
    // Reads its runs in the clear (a CSS DVD's VOBs through libdvdcss); none: every sector as the
    // source delivers it.
    std::shared_ptr<Descrambler> descrambler;
    FileSystem* file_system = &real_file_system();  // syncs and renames of .part and .map
};

enum class RipOutcome { ok, ok_with_errors, failed, cancelled };

inline constexpr EnumNames<RipOutcome, 4> rip_outcome_names{{
    {RipOutcome::ok, "ok"},
    {RipOutcome::ok_with_errors, "ok-with-errors"},
    {RipOutcome::failed, "failed"},
    {RipOutcome::cancelled, "cancelled"},
}};
inline std::string_view to_string(RipOutcome outcome) {
    return name_of(rip_outcome_names, outcome);
}
inline std::optional<RipOutcome> parse_rip_outcome(std::string_view name) {
    return value_of(rip_outcome_names, name);
}

struct PassReport {
    std::string name;  // "sweep", "repair"
    Nanos elapsed{0};
    std::uint64_t bytes_read = 0;
    std::uint64_t failed_reads = 0;
};

struct RipResult {
    RipOutcome outcome = RipOutcome::failed;
    std::string reason;  // why it failed, for a person
    bool resumable = false;
    bool resumed = false;           // continued from an earlier .part
    std::filesystem::path output;   // the published file, or the .part left behind
    std::filesystem::path mapfile;  // empty once removed after a clean rip
    // Sectors that were read and failed; on a published image also those never read (zeros).
    std::uint64_t unreadable_sectors = 0;
    std::uint64_t bytes_read = 0;  // read from the medium by this run
    std::vector<PassReport> passes;

    // The result of a job that ended without this run ripping anything.
    static RipResult without_rip(RipOutcome outcome, std::string reason, bool resumable) {
        RipResult r;
        r.outcome = outcome;
        r.reason = std::move(reason);
        r.resumable = resumable;
        return r;
    }
};

struct RipProgress {
    std::string phase;  // "sweep", "repair", "finishing"; "extract" and "audio" (jobs/)
    std::uint64_t bytes_total = 0;
    std::uint64_t bytes_done = 0;          // rescued so far, including an earlier run's
    std::uint64_t bytes_read = 0;          // by this run
    std::uint64_t unreadable_sectors = 0;  // failed so far (final after repair)
    double rate = 0;                       // bytes/s, smoothed
    std::optional<Nanos> eta;
    // An audio CD's rip: `rate` as a multiple of the CD's 1x (176,400 B/s of PCM), the track being
    // read (0 between tracks) of how many, and that track's PCM bytes. 0 for other rips.
    double speed = 0;
    int track = 0;
    int tracks = 0;
    std::uint64_t track_bytes_total = 0;
    std::uint64_t track_bytes_done = 0;
    // Writeback telemetry
    std::uint64_t chunk_bytes = 0;
    Nanos last_wait{0};
    Nanos p95_wait{0};
    std::uint64_t dirty_bound = 0;  // 2 x chunk: the page cache this rip may keep dirty
};

// Called from the ripping thread (progress) and the writer thread (resize): must be thread-safe
// and quick.
class RipObserver {
  public:
    virtual ~RipObserver() = default;
    virtual void on_progress(const RipProgress&) {}
    virtual void on_resize(const Resize&) {}
};

// The mapfile that goes with an output: "<dir>/<name>.map" for "<dir>/<name>.iso".
std::filesystem::path mapfile_path(const std::filesystem::path& final_path);

// Rips `source` (device or image) to `final_path`. Never throws for I/O trouble: failures are
// in the result. `stop` cancels (resumable).
RipResult rip(const std::filesystem::path& source, const std::filesystem::path& final_path,
              const RipOptions& options, RipObserver* observer = nullptr,
              std::stop_token stop = {});

}  // namespace freemkv
