#include "ripper.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <set>

#include "disc_reader.hpp"
#include "eta.hpp"
#include "io_error.hpp"
#include "mapfile.hpp"
#include "output_file.hpp"

namespace freemkv {

std::filesystem::path mapfile_path(const std::filesystem::path& final_path) {
    auto map = final_path;
    map.replace_extension(".map");
    return map;
}

namespace {

using Clock = std::chrono::steady_clock;

struct Cancelled {};

struct MediumRemoved : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Refuses to start: the reason is for a person, nothing was written.
struct CannotStart : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Rip final : public WritebackObserver {
  public:
    Rip(const std::filesystem::path& source, const std::filesystem::path& final_path,
        const RipOptions& options, RipObserver* observer, std::stop_token stop)
        : source_(source),
          final_(final_path),
          map_path_(mapfile_path(final_path)),
          o_(options),
          fs_(*options.file_system),
          observer_(observer),
          stop_(std::move(stop)),
          block_(std::uint64_t{options.block_sectors} * options.sector_size),
          read_size_(std::max(
              block_, std::uint64_t{options.read_sectors} * options.sector_size / block_ * block_)),
          map_(0) {}

    RipResult run();

    void on_chunk(const ChunkEvent& e) override {
        std::lock_guard lock(telemetry_mutex_);
        chunk_bytes_ = e.chunk_bytes;
        if (e.wait.count() > 0) {  // the first chunk after a start or seek has nothing to wait for
            last_wait_ = e.wait;
            waits_.push(e.wait);
        }
    }
    void on_resize(const Resize& r) override {
        if (observer_) {
            observer_->on_resize(r);
        }
    }

  private:
    void open();
    void sweep();
    void repair();
    void finish();
    void interrupt();
    // Reads [pos, pos + n) and queues it for writing; marks the map.
    ReadStatus read_range(std::uint64_t pos, std::uint64_t n);
    // After many failed reads in a row: throws MediumRemoved if a sector read well before fails
    // now too.
    void probe_medium();
    void checkpoint_durable();
    void checkpoint();
    void tick();  // progress and checkpoints, when due; cancellation
    void report(bool force);
    std::uint64_t unreadable_sectors() const;
    std::uint64_t failed_sectors() const;

    std::filesystem::path source_;
    std::filesystem::path final_;
    std::filesystem::path map_path_;
    RipOptions o_;
    FileSystem& fs_;
    RipObserver* observer_;
    std::stop_token stop_;
    std::uint64_t block_;      // ECC block: alignment, repair unit
    std::uint64_t read_size_;  // sweep read size, a multiple of block_

    std::unique_ptr<DiscReader> reader_;
    Mapfile map_;
    std::unique_ptr<OutputFile> file_;
    std::unique_ptr<AsyncWriter> writer_;
    RipResult result_;
    std::string phase_ = "sweep";
    PassReport* pass_ = nullptr;
    unsigned failures_in_a_row_ = 0;

    Clock::time_point last_checkpoint_ = Clock::now();
    Clock::time_point last_report_ = Clock::now();
    std::uint64_t last_report_bytes_ = 0;
    double rate_ = 0;

    std::mutex telemetry_mutex_;
    std::uint64_t chunk_bytes_ = 0;
    Nanos last_wait_{0};
    WaitWindow waits_;
};

void Rip::open() {
    try {
        reader_ = o_.source_fd >= 0
                      ? std::make_unique<DiscReader>(o_.source_fd, source_, read_size_)
                      : std::make_unique<DiscReader>(source_, read_size_, o_.source_file);
    } catch (const IoError& e) {
        throw CannotStart(std::string("cannot read the disc: ") + e.what() + ": " +
                          e.code().message());
    }
    if (o_.descrambler) {
        reader_->set_descrambler(o_.descrambler);
    }
    std::uint64_t size = reader_->size();
    if (size == 0 || size % o_.sector_size != 0) {
        throw CannotStart(source_.string() + " has size " + std::to_string(size) +
                          ", not a whole number of " + std::to_string(o_.sector_size) +
                          "-byte sectors");
    }
    auto part = std::filesystem::path(final_.string() + ".part");
    bool has_part = std::filesystem::exists(part);
    if (has_part && !std::filesystem::exists(map_path_) && std::filesystem::is_regular_file(part) &&
        std::filesystem::file_size(part) == 0) {
        has_part = false;  // a crash before its first mapfile: nothing to resume, taken over
    }
    if (has_part && std::filesystem::exists(map_path_)) {
        Mapfile earlier = Mapfile::load(map_path_);
        if (earlier.identity != o_.identity || earlier.device_size() != size) {
            throw CannotStart("the unfinished rip at " + part.string() +
                              " belongs to another disc");
        }
        map_ = std::move(earlier);
        result_.resumed = true;
        file_ =
            std::make_unique<OutputFile>(final_, o_.writeback, OutputFile::Mode::resume, this, fs_);
        if (file_->position() != size) {
            file_->set_size(size);  // a crash may have lost the first run's set_size
        }
        spdlog::info("resuming {} from {}: {} of {} bytes already rescued", source_.string(),
                     part.string(), map_.bytes_with(BlockStatus::finished), size);
    } else if (has_part) {
        throw CannotStart("an unfinished file without a mapfile is in the way: " + part.string());
    } else if (std::filesystem::exists(final_) || std::filesystem::exists(map_path_)) {
        throw CannotStart("the output " + final_.string() + " or its mapfile already exists");
    } else {
        // The .part first, so a failed create leaves no mapfile to block the name; it gets its
        // size only once the mapfile exists, so a .part without one is empty.
        file_ = std::make_unique<OutputFile>(final_, o_.writeback, OutputFile::Mode::truncate, this,
                                             fs_);
        map_ = Mapfile(size);
        map_.identity = o_.identity;
        try {
            map_.save(map_path_, fs_);
        } catch (const std::exception&) {
            std::error_code ignored;
            std::filesystem::remove(part, ignored);
            throw;
        }
        file_->set_size(size);
    }
    result_.output = part;
    result_.mapfile = map_path_;
    writer_ = std::make_unique<AsyncWriter>(*file_, o_.buffer);
}

ReadStatus Rip::read_range(std::uint64_t pos, std::uint64_t n) {
    ReadStatus status = reader_->read(pos, n);
    map_.current_pos = status == ReadStatus::ok ? pos + n : pos;
    if (status == ReadStatus::ok) {
        writer_->write_at(pos, reader_->data());
        map_.set(pos, n, BlockStatus::finished);
        pass_->bytes_read += n;
        failures_in_a_row_ = 0;
    } else if (status == ReadStatus::bad) {
        ++pass_->failed_reads;
        if (++failures_in_a_row_ >= o_.probe_after_failures) {
            probe_medium();
        }
    } else {
        throw MediumRemoved("the medium was removed (" +
                            std::generic_category().message(reader_->last_error()) + ")");
    }
    return status;
}

void Rip::probe_medium() {
    failures_in_a_row_ = 0;
    // The first good sector: read longest ago, so the drive's cache is least likely to serve it.
    auto finished = map_.ranges_with(BlockStatus::finished);
    if (finished.empty()) {
        return;  // nothing was ever read: a damaged start cannot be told from a dead medium
    }
    std::uint64_t good = finished.front().pos;
    ReadStatus status = reader_->probe(good, o_.sector_size);
    if (status == ReadStatus::ok) {
        return;  // a damaged zone: the medium still reads
    }
    if (status == ReadStatus::removed) {
        throw MediumRemoved("the medium was removed (" +
                            std::generic_category().message(reader_->last_error()) + ")");
    }
    throw MediumRemoved("the medium stopped reading: sector " +
                        std::to_string(good / o_.sector_size) + ", read before, fails now too (" +
                        std::generic_category().message(reader_->last_error()) +
                        "); the drive or disc failed, so the rip stopped and can be resumed");
}

void Rip::sweep() {
    std::uint64_t max_skip = std::max(block_, reader_->size() / 100 / block_ * block_);
    for (const MapRange& r : map_.ranges_with(BlockStatus::non_tried)) {
        std::uint64_t end = r.pos + r.size;
        std::uint64_t skip = block_;
        for (std::uint64_t pos = r.pos; pos < end;) {
            tick();
            std::uint64_t n = std::min(read_size_ - pos % read_size_, end - pos);
            if (read_range(pos, n) == ReadStatus::ok) {
                skip = block_;
                pos += n;
                continue;
            }
            map_.set(pos, n, BlockStatus::non_trimmed);
            pos += n;
            if (o_.skip_on_error) {
                // Leave the next `skip` bytes for the repair pass; jump further while it fails.
                pos = std::min(end, (pos + skip + block_ - 1) / block_ * block_);
                skip = std::min(skip * 2, max_skip);
            }
        }
    }
}

void Rip::repair() {
    struct Piece {
        std::uint64_t pos, size;
        unsigned attempts;
        bool operator<(const Piece& o) const {
            if (size != o.size) {
                return size > o.size;  // largest first
            }
            if (attempts != o.attempts) {
                return attempts < o.attempts;
            }
            return pos < o.pos;
        }
    };
    std::set<Piece> work;
    for (BlockStatus s :
         {BlockStatus::non_tried, BlockStatus::non_trimmed, BlockStatus::non_scraped}) {
        for (const MapRange& r : map_.ranges_with(s)) {
            for (std::uint64_t pos = r.pos; pos < r.pos + r.size;) {
                std::uint64_t n = std::min(block_ - pos % block_, r.pos + r.size - pos);
                work.insert({pos, n, 0});
                pos += n;
            }
        }
    }
    auto deadline = Clock::now() + o_.repair_budget;
    while (!work.empty()) {
        tick();
        if (Clock::now() >= deadline) {
            spdlog::warn("{}: repair time budget used up, {} ranges left unread", source_.string(),
                         work.size());
            break;
        }
        Piece p = *work.begin();
        work.erase(work.begin());
        if (read_range(p.pos, p.size) == ReadStatus::ok) {
            continue;
        }
        if (p.size > o_.sector_size) {
            std::uint64_t half = p.size / o_.sector_size / 2 * o_.sector_size;
            map_.set(p.pos, p.size, BlockStatus::non_scraped);
            work.insert({p.pos, half, 0});
            work.insert({p.pos + half, p.size - half, 0});
        } else if (p.attempts < o_.retries) {
            work.insert({p.pos, p.size, p.attempts + 1});
        } else {
            map_.set(p.pos, p.size, BlockStatus::bad_sector);
        }
    }
}

std::uint64_t Rip::unreadable_sectors() const {
    return (map_.device_size() - map_.bytes_with(BlockStatus::finished)) / o_.sector_size;
}

std::uint64_t Rip::failed_sectors() const {
    return (map_.bytes_with(BlockStatus::non_trimmed) + map_.bytes_with(BlockStatus::non_scraped) +
            map_.bytes_with(BlockStatus::bad_sector)) /
           o_.sector_size;
}

void Rip::checkpoint() {
    writer_->post([this, snapshot = map_] {
        file_->sync();
        snapshot.save(map_path_, fs_);
    });
    last_checkpoint_ = Clock::now();
}

void Rip::tick() {
    if (stop_.stop_requested()) {
        throw Cancelled{};
    }
    if (Clock::now() - last_checkpoint_ >= o_.checkpoint_interval) {
        checkpoint();
    }
    report(false);
}

void Rip::report(bool force) {
    auto now = Clock::now();
    if (!observer_ || !reader_ || (!force && now - last_report_ < o_.progress_interval)) {
        return;
    }
    RipProgress p;
    p.phase = phase_;
    p.bytes_total = map_.device_size();
    p.bytes_done = map_.bytes_with(BlockStatus::finished);
    p.bytes_read = reader_->bytes_read();
    p.unreadable_sectors = failed_sectors();
    double dt = std::chrono::duration<double>(now - last_report_).count();
    if (dt > 0) {
        double instant = static_cast<double>(p.bytes_read - last_report_bytes_) / dt;
        rate_ = rate_ == 0 ? instant : 0.7 * rate_ + 0.3 * instant;
    }
    last_report_ = now;
    last_report_bytes_ = p.bytes_read;
    p.rate = rate_;
    p.eta = eta_for(p.bytes_total - p.bytes_done, rate_);
    {
        std::lock_guard lock(telemetry_mutex_);
        p.chunk_bytes = chunk_bytes_ ? chunk_bytes_ : o_.writeback.start_bytes;
        p.last_wait = last_wait_;
        p.p95_wait = waits_.size() ? waits_.p95() : Nanos{0};
    }
    p.dirty_bound = 2 * p.chunk_bytes;
    observer_->on_progress(p);
}

void Rip::finish() {
    phase_ = "finishing";
    map_.phase = Phase::finished;
    map_.current_pos = map_.device_size();
    checkpoint();
    writer_->close();
    result_.unreadable_sectors = unreadable_sectors();
    file_->publish();
    result_.output = final_;
    result_.outcome = result_.unreadable_sectors == 0 ? RipOutcome::ok : RipOutcome::ok_with_errors;
    if (result_.unreadable_sectors == 0) {
        // The image is published and durable; a leftover mapfile is only untidy.
        result_.mapfile.clear();
        try {
            std::filesystem::remove(map_path_);
            fs_.sync_directory(parent_directory(map_path_));
        } catch (const std::exception& e) {
            spdlog::warn("{} is published, but removing {} failed: {}", final_.string(),
                         map_path_.string(), e.what());
        }
    }
}

// Stops cleanly after a cancel or a lost medium: what was read is made durable and recorded.
// Sectors never read are not unreadable: only those that failed count.
void Rip::interrupt() {
    checkpoint();
    writer_->close();
    result_.unreadable_sectors = failed_sectors();
    result_.resumable = true;
}

// After a failed write (disk full): the bytes written before it are made durable and the map
// claims exactly those, so a resume after freeing space does not read them again. A failure of
// the write-back itself (EIO) is different: its error may already have been reported to this
// file, so an fdatasync now could succeed without the data, and the last checkpoint stays.
//
// On a full disk the new map needs a block of its own: the space of what the map does not claim
// (the failed write's partial bytes) is given back first, then, if that is not enough, that of
// the last MiB it claims.
void Rip::checkpoint_durable() {
    Mapfile durable = map_;
    auto lost = writer_->unwritten();
    for (const AsyncWriter::Extent& e : lost) {
        durable.set(e.offset, e.size, BlockStatus::non_tried);
    }
    auto give_back_the_last_mib = [&] {
        auto finished = durable.ranges_with(BlockStatus::finished);
        if (finished.empty()) {
            return;
        }
        std::uint64_t n = std::min<std::uint64_t>(finished.back().size, 1 * MiB);
        std::uint64_t pos = finished.back().end() - n;
        durable.set(pos, n, BlockStatus::non_tried);
        file_->discard(pos, n);
    };
    for (int attempt = 0;; ++attempt) {
        try {
            file_->sync();
            durable.save(map_path_, fs_);
            return;
        } catch (const IoError& e) {
            if (attempt < 2 && e.code() == std::errc::no_space_on_device) {
                try {
                    if (attempt == 0) {
                        for (const AsyncWriter::Extent& x : lost) {
                            file_->discard(x.offset, x.size);
                        }
                    } else {
                        give_back_the_last_mib();
                    }
                    continue;
                } catch (const std::exception& again) {
                    spdlog::warn("{}: cannot make room: {}", file_->part_path().string(),
                                 again.what());
                }
            }
            spdlog::warn(
                "{}: cannot record what was written before the failure, the last "
                "checkpoint stays: {}",
                map_path_.string(), e.what());
            return;
        }
    }
}

RipResult Rip::run() {
    auto timed_pass = [&](const char* name, auto&& body) {
        phase_ = name;
        result_.passes.push_back(PassReport{name});
        pass_ = &result_.passes.back();
        auto t0 = Clock::now();
        body();
        pass_->elapsed = Clock::now() - t0;
        spdlog::info("{}: {} pass took {:.1f} s, {} failed reads", source_.string(), name,
                     std::chrono::duration<double>(pass_->elapsed).count(), pass_->failed_reads);
    };
    auto stop_resumable = [&](const std::exception& e) {
        interrupt();
        result_.outcome = RipOutcome::failed;
        result_.reason = e.what();
    };
    try {
        try {
            open();
            result_.passes.reserve(2);
            timed_pass("sweep", [&] { sweep(); });
            timed_pass("repair", [&] { repair(); });
            finish();
        } catch (const Cancelled&) {
            interrupt();
            result_.outcome = RipOutcome::cancelled;
            result_.reason = "cancelled";
        } catch (const MediumRemoved& e) {
            stop_resumable(e);
        } catch (const DescrambleError& e) {
            stop_resumable(e);
        }
    } catch (const CannotStart& e) {
        result_.outcome = RipOutcome::failed;
        result_.reason = e.what();
        result_.output.clear();
        result_.mapfile.clear();
    } catch (const IoError& e) {
        // The destination failed (disk full, I/O error). The last checkpoint is on disk.
        result_.outcome = RipOutcome::failed;
        result_.reason = std::string(e.what()) + ": " + e.code().message();
        if (writer_) {
            try {
                writer_->close();
            } catch (const std::exception&) {
                // Same failure, already reported above.
            }
            if (e.op() == "write" && e.path() == file_->part_path()) {
                checkpoint_durable();
            }
        }
        result_.resumable = std::filesystem::exists(map_path_);
        result_.unreadable_sectors = failed_sectors();
    } catch (const std::exception& e) {
        result_.outcome = RipOutcome::failed;
        result_.reason = e.what();
    }
    if (reader_) {
        result_.bytes_read = reader_->bytes_read();
    }
    report(true);
    return result_;
}

}  // namespace

RipResult rip(const std::filesystem::path& source, const std::filesystem::path& final_path,
              const RipOptions& options, RipObserver* observer, std::stop_token stop) {
    return Rip(source, final_path, options, observer, std::move(stop)).run();
}

}  // namespace freemkv
