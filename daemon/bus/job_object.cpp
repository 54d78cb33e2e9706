#include "job_object.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "caller_uid.hpp"
#include "cancel_access.hpp"
#include "errors.hpp"

namespace freemkv::bus {

namespace {

constexpr const char* job_iface = org::freemkv::Rip1::Job_adaptor::INTERFACE_NAME;
constexpr const char* telemetry_iface = org::freemkv::Rip1::Telemetry_adaptor::INTERFACE_NAME;

std::uint64_t usec(Nanos d) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

}  // namespace

std::string JobObject::path_for(std::uint64_t id) {
    return api::job_path_prefix + std::to_string(id);
}

JobObject::JobObject(sdbus::IConnection& connection, const JobInfo& info,
                     std::function<bool(std::uint64_t)> cancel)
    : AdaptorInterfaces(connection, path_for(info.id)), info_(info), cancel_(std::move(cancel)) {
    registerAdaptor();
    emitInterfacesAddedSignal({job_iface, telemetry_iface});
}

JobObject::~JobObject() {
    try {
        emitInterfacesRemovedSignal({job_iface, telemetry_iface});
    } catch (const sdbus::Error& e) {
        // The connection is gone (the daemon is on its way out); a destructor must not throw.
        spdlog::warn("InterfacesRemoved for {}: {}", getObject().getObjectPath(), e.what());
    }
    unregisterAdaptor();
}

void JobObject::update(const JobInfo& next) {
    const JobInfo& prev = info_;
    const RipProgress& a = prev.progress;
    const RipProgress& b = next.progress;
    auto job = [&](bool changed, const char* name) {
        if (changed) {
            changed_job_.insert(name);
        }
    };
    auto telemetry = [&](bool changed, const char* name) {
        if (changed) {
            changed_telemetry_.insert(name);
        }
    };
    bool result_changed = prev.result.has_value() != next.result.has_value();
    // Ending changes what Progress, Rate and Phase say, whatever the last report held.
    bool ending = prev.ended() != next.ended();
    job(prev.state != next.state, "State");
    job(prev.state != next.state, "Cancelable");
    job(a.phase != b.phase || ending, "Phase");
    job(prev.label != next.label, "DiscLabel");
    job(prev.output != next.output || result_changed, "OutputPath");
    job(result_changed, "PartialPath");
    job(result_changed, "MapfilePath");
    job(a.bytes_total != b.bytes_total, "BytesTotal");
    job(a.bytes_done != b.bytes_done, "BytesDone");
    job(a.bytes_done != b.bytes_done || a.bytes_total != b.bytes_total || ending, "Progress");
    job(a.rate != b.rate || ending, "Rate");
    job(a.speed != b.speed || ending, "Speed");
    job(a.track != b.track || ending, "Track");
    job(a.tracks != b.tracks, "TrackCount");
    job(a.track_bytes_done != b.track_bytes_done || a.track_bytes_total != b.track_bytes_total ||
            a.track != b.track || ending,
        "TrackProgress");
    job(a.eta != b.eta || a.rate != b.rate, "ExpectedEndTime");
    job(a.unreadable_sectors != b.unreadable_sectors || result_changed, "UnreadableSectors");
    job(result_changed, "Result");
    job(result_changed, "ResultReason");
    job(result_changed, "Resumable");
    job(prev.artifacts != next.artifacts, "Artifacts");
    telemetry(a.chunk_bytes != b.chunk_bytes, "ChunkBytes");
    telemetry(a.last_wait != b.last_wait, "LastWaitUsec");
    telemetry(a.p95_wait != b.p95_wait, "P95WaitUsec");
    telemetry(a.dirty_bound != b.dirty_bound, "DirtyBoundBytes");
    info_ = next;
}

void JobObject::add_resize(const Resize& r) {
    resizes_.emplace_back(r.old_bytes, r.new_bytes, usec(r.p95));
}

void JobObject::flush() {
    if (!changed_job_.empty()) {
        emitPropertiesChangedSignal(job_iface, {changed_job_.begin(), changed_job_.end()});
        changed_job_.clear();
    }
    if (!changed_telemetry_.empty()) {
        emitPropertiesChangedSignal(telemetry_iface,
                                    {changed_telemetry_.begin(), changed_telemetry_.end()});
        changed_telemetry_.clear();
    }
    if (!resizes_.empty()) {
        emitResized(resizes_);
        resizes_.clear();
    }
}

void JobObject::complete() {
    flush();
    bool ok = info_.state == JobState::done;
    emitCompleted(ok, Result() + (ResultReason().empty() ? "" : ": " + ResultReason()));
}

void JobObject::interrupt() {
    interrupted_ = true;
    for (const char* name : {"State", "Cancelable", "Result", "ResultReason", "Resumable"}) {
        changed_job_.insert(name);
    }
    flush();
    emitCompleted(false, std::string(interrupted_name) + ": " + ResultReason());
}

void JobObject::Cancel(const std::map<std::string, sdbus::Variant>& options) {
    if (!options.empty()) {
        fail(api::error_invalid_args,
             "Cancel takes no options, got '" + options.begin()->first + "'");
    }
    Caller caller =
        caller_of(getObject().getConnection(), *getObject().getCurrentlyProcessedMessage());
    if (!may_cancel(caller.uid, caller.groups, info_.request.uid)) {
        fail(api::error_not_authorized, "job " + std::to_string(info_.id) + " was started by uid " +
                                            std::to_string(info_.request.uid) +
                                            "; only they, root or a member of group '" +
                                            admin_group + "' may cancel it");
    }
    if (!cancel_(info_.id)) {
        fail(api::error_failed, "job " + std::to_string(info_.id) + " has already ended (" +
                                    std::string(to_string(info_.state)) + ")");
    }
}

std::string JobObject::State() {
    if (interrupted_) {
        return std::string(interrupted_name);
    }
    return std::string(to_string(info_.state));
}

std::string JobObject::output_path() const {
    if (info_.ended() && info_.state != JobState::done) {
        return "";  // nothing was published; a kept .part is PartialPath
    }
    return safe_text(
        (info_.result && !info_.result->output.empty() ? info_.result->output : info_.output)
            .string());
}

std::string JobObject::PartialPath() {
    if (!info_.result || info_.state == JobState::done || !info_.result->resumable) {
        return "";
    }
    return safe_text(info_.result->output.string());
}

std::string JobObject::Phase() {
    return info_.ended() ? std::string() : safe_text(info_.progress.phase);
}

double JobObject::Rate() {
    return info_.ended() ? 0.0 : info_.progress.rate;
}

uint32_t JobObject::Track() {
    return info_.ended() ? 0 : static_cast<uint32_t>(info_.progress.track);
}

double JobObject::TrackProgress() {
    const RipProgress& p = info_.progress;
    if (info_.ended() || p.track_bytes_total == 0) {
        return 0.0;
    }
    return static_cast<double>(p.track_bytes_done) / static_cast<double>(p.track_bytes_total);
}

std::string JobObject::MapfilePath() {
    return info_.result ? safe_text(info_.result->mapfile.string()) : std::string();
}

double JobObject::Progress() {
    if (info_.state == JobState::done) {
        return 1.0;  // ok or ok-with-errors: every sector was read or given up on
    }
    const RipProgress& p = info_.progress;
    return p.bytes_total ? static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total)
                         : 0.0;
}

std::uint64_t JobObject::expected_end_usec(std::chrono::system_clock::time_point now,
                                           const std::optional<Nanos>& eta) {
    if (!eta) {
        return 0;
    }
    return usec(now.time_since_epoch()) + usec(std::max(*eta, Nanos{0}));
}

uint64_t JobObject::ExpectedEndTime() {
    if (info_.ended()) {
        return 0;
    }
    return expected_end_usec(std::chrono::system_clock::now(), info_.progress.eta);
}

uint64_t JobObject::UnreadableSectors() {
    return info_.result ? info_.result->unreadable_sectors : info_.progress.unreadable_sectors;
}

std::string JobObject::Result() {
    if (interrupted_) {
        return std::string(interrupted_name);
    }
    return info_.result ? std::string(to_string(info_.result->outcome)) : std::string();
}

std::string JobObject::ResultReason() {
    if (interrupted_) {
        return "freemkvd stopped; the rip resumes at the next start";
    }
    return info_.result ? safe_text(info_.result->reason) : std::string();
}

std::vector<sdbus::Struct<std::string, std::string, std::string, std::string, uint64_t, uint64_t,
                          int32_t, double>>
JobObject::Artifacts() {
    std::vector<sdbus::Struct<std::string, std::string, std::string, std::string, uint64_t,
                              uint64_t, int32_t, double>>
        all;
    for (const Artifact& a : info_.artifacts) {
        all.emplace_back(std::string(to_string(a.kind)), safe_text(a.path.string()),
                         std::string(to_string(a.state)), safe_text(a.error), a.bytes_total,
                         a.bytes_done, a.title, a.seconds_lost);
    }
    return all;
}

uint64_t JobObject::LastWaitUsec() {
    return usec(info_.progress.last_wait);
}
uint64_t JobObject::P95WaitUsec() {
    return usec(info_.progress.p95_wait);
}

}  // namespace freemkv::bus
