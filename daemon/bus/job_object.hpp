#pragma once

// /org/freemkv/Rip1/job/N: a job's properties (Job, Telemetry) from the queue's JobInfo. Changes
// are collected and sent by flush(), which the service calls a few times per second, so a fast
// rip does not flood the bus. Every string is passed through safe_text(): a label or path that
// is not valid UTF-8 would make sd-bus refuse the whole message (every GetAll,
// GetManagedObjects and PropertiesChanged that holds it).

#include <sdbus-c++/sdbus-c++.h>

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "job.hpp"
#include "job_adaptor.h"
#include "telemetry_adaptor.h"
#include "utf8.hpp"

namespace freemkv::bus {

// State and Result of a job that freemkvd's stop interrupted (it resumes at the next start).
inline constexpr std::string_view interrupted_name = "interrupted";

class JobObject final
    : public sdbus::AdaptorInterfaces<org::freemkv::Rip1::Job_adaptor,
                                      org::freemkv::Rip1::Telemetry_adaptor,
                                      sdbus::ManagedObject_adaptor, sdbus::Properties_adaptor> {
  public:
    // `cancel` is the queue's cancel (false: already ended).
    JobObject(sdbus::IConnection& connection, const JobInfo& info,
              std::function<bool(std::uint64_t)> cancel);
    ~JobObject();

    static std::string path_for(std::uint64_t id);
    // ExpectedEndTime: microseconds since the epoch, 0 when the ETA is unknown. In microseconds
    // throughout, so no ETA a Nanos holds can overflow it; one below zero counts as zero.
    static std::uint64_t expected_end_usec(std::chrono::system_clock::time_point now,
                                           const std::optional<Nanos>& eta);

    void update(const JobInfo& info);
    void add_resize(const Resize& resize);
    // Emits PropertiesChanged for what changed since the last flush, and batched Resized.
    void flush();
    // After the final update: flush, then Completed.
    void complete();
    // freemkvd is stopping under this running job, which resumes at the next start: State and
    // Result say "interrupted"; flushed, then Completed(false).
    void interrupt();

    const JobInfo& info() const { return info_; }
    // The published file, or while the job runs the file it will publish; "" once it ended
    // without publishing.
    std::string output_path() const;

  private:
    void Cancel(const std::map<std::string, sdbus::Variant>& options) override;

    uint64_t Id() override { return info_.id; }
    std::string State() override;
    std::string Phase() override;
    std::string Source() override { return safe_text(info_.request.source.string()); }
    std::string Drive() override { return safe_text(info_.request.drive); }
    std::string DiscLabel() override { return safe_text(info_.label); }
    std::string OutputPath() override { return output_path(); }
    std::string PartialPath() override;
    std::string MapfilePath() override;
    uint64_t BytesTotal() override { return info_.progress.bytes_total; }
    uint64_t BytesDone() override { return info_.progress.bytes_done; }
    double Progress() override;
    double Rate() override;
    double Speed() override { return info_.ended() ? 0.0 : info_.progress.speed; }
    uint32_t Track() override;
    uint32_t TrackCount() override { return static_cast<uint32_t>(info_.progress.tracks); }
    double TrackProgress() override;
    uint64_t ExpectedEndTime() override;
    uint64_t UnreadableSectors() override;
    uint32_t StartedByUid() override { return info_.request.uid; }
    bool Cancelable() override { return !info_.ended() && !interrupted_; }
    std::string Result() override;
    std::string ResultReason() override;
    bool Resumable() override { return interrupted_ || (info_.result && info_.result->resumable); }
    std::vector<sdbus::Struct<std::string, std::string, std::string, std::string, uint64_t,
                              uint64_t, int32_t, double>>
    Artifacts() override;

    uint64_t ChunkBytes() override { return info_.progress.chunk_bytes; }
    uint64_t LastWaitUsec() override;
    uint64_t P95WaitUsec() override;
    uint64_t DirtyBoundBytes() override { return info_.progress.dirty_bound; }

    JobInfo info_;
    bool interrupted_ = false;
    std::function<bool(std::uint64_t)> cancel_;
    std::set<std::string> changed_job_;
    std::set<std::string> changed_telemetry_;
    std::vector<sdbus::Struct<uint64_t, uint64_t, uint64_t>> resizes_;
};

}  // namespace freemkv::bus
