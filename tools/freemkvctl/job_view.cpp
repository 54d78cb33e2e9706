#include "job_view.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace freemkv::ctl {

void JobView::apply_job(const Props& props) {
    read_prop(props, "Id", id);
    read_prop(props, "State", state);
    read_prop(props, "Phase", phase);
    read_prop(props, "Source", source);
    read_prop(props, "Drive", drive);
    read_prop(props, "DiscLabel", label);
    read_prop(props, "OutputPath", output);
    read_prop(props, "BytesTotal", bytes_total);
    read_prop(props, "BytesDone", bytes_done);
    read_prop(props, "Progress", progress);
    read_prop(props, "Rate", rate);
    read_prop(props, "Speed", speed);
    read_prop(props, "Track", track);
    read_prop(props, "TrackCount", track_count);
    read_prop(props, "TrackProgress", track_progress);
    read_prop(props, "ExpectedEndTime", expected_end_usec);
    read_prop(props, "UnreadableSectors", unreadable_sectors);
    read_prop(props, "Result", result);
    read_prop(props, "ResultReason", reason);
    read_prop(props, "Resumable", resumable);
    using Entry = sdbus::Struct<std::string, std::string, std::string, std::string, std::uint64_t,
                                std::uint64_t, std::int32_t, double>;
    auto it = props.find("Artifacts");
    if (it != props.end() && it->second.containsValueOfType<std::vector<Entry>>()) {
        artifacts.clear();
        for (const Entry& e : it->second.get<std::vector<Entry>>()) {
            artifacts.push_back(ArtifactView{safe_text(e.get<0>()), safe_text(e.get<1>()),
                                             safe_text(e.get<2>()), safe_text(e.get<3>()),
                                             e.get<4>(), e.get<5>(), e.get<6>(), e.get<7>()});
        }
    }
}

std::string ArtifactView::line() const {
    std::string what = kind == "title"   ? fmt::format("title {}", title)
                       : kind == "track" ? fmt::format("track {}", title)
                                         : kind;
    std::string text = fmt::format("{}  {}  {}", what, state, path);
    if (seconds_lost > 0) {
        text += fmt::format(" ({:.1f} s of {} lost)", seconds_lost,
                            kind == "track" ? "audio" : "video");
    }
    if (!error.empty()) {
        text += ": " + error;
    }
    return text;
}

Json ArtifactView::json() const {
    Json o;
    o["kind"] = kind;
    o["path"] = path;
    o["state"] = state;
    o["error"] = error;
    o["bytes_total"] = bytes_total;
    o["bytes_done"] = bytes_done;
    o["title"] = title;
    o["seconds_lost"] = seconds_lost;
    return o;
}

void JobView::apply_telemetry(const Props& props) {
    std::uint64_t chunk = 0;
    if (props.contains("ChunkBytes")) {
        read_prop(props, "ChunkBytes", chunk);
        chunk_bytes = chunk;
    }
}

bool JobView::ended() const {
    return !result.empty() || state == "done" || state == "failed" || state == "cancelled" ||
           state == "interrupted";
}

std::string JobView::outcome() const {
    if (!result.empty()) {
        return result;
    }
    if (state == "done") {
        return unreadable_sectors ? "ok-with-errors" : "ok";
    }
    return state == "failed" || state == "cancelled" || state == "interrupted" ? state : "";
}

std::optional<std::int64_t> JobView::eta_seconds() const {
    if (ended() || state == "queued") {
        return std::nullopt;
    }
    if (expected_end_usec) {
        auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
        return std::max<std::int64_t>(
            0, (static_cast<std::int64_t>(expected_end_usec) - now) / 1'000'000);
    }
    // The daemon's floor (min_eta_rate in daemon/rip/eta.hpp): below it the daemon gives no ETA
    // either, and it keeps the cast below in range.
    if (rate >= 1024 && bytes_total > bytes_done) {
        return static_cast<std::int64_t>(static_cast<double>(bytes_total - bytes_done) / rate);
    }
    return std::nullopt;
}

std::string JobView::result_text() const {
    std::string result = outcome();
    if (result == "ok-with-errors") {
        return fmt::format("{} ({} unreadable sectors)", output, unreadable_sectors);
    }
    if (result == "failed" || result == "cancelled" || result == "interrupted") {
        return reason + (resumable ? " (resumable)" : "");
    }
    return output;
}

std::string JobView::line(bool with_bar) const {
    std::string head = fmt::format("job {}  ", id);
    if (ended()) {
        return fmt::format("{}{}  {}  {}", head, outcome(), display_label(), result_text());
    }
    if (state != "running") {
        return fmt::format("{}{}  {}", head, state, display_label());
    }
    auto eta = eta_seconds();
    if (phase == "audio") {
        // "track 3/12 45%": the album's bar, the track's share, the drive's speed in x.
        return fmt::format("job {} {} {} track {}/{} {} {:.1f}x ETA {} {}", id,
                           with_bar ? bar(progress, 20) : state, percent(progress), track,
                           track_count, percent(track_progress), speed, eta ? duration(*eta) : "-",
                           display_label());
    }
    // Single spaces: on 80 columns everything but a long label fits.
    return fmt::format("job {} {} {} {} ETA {} chunk {} {} {}", id,
                       with_bar ? bar(progress, 20) : state, percent(progress), ctl::rate(rate),
                       eta ? duration(*eta) : "-",
                       chunk_bytes.value_or(0) ? bytes(*chunk_bytes) : "-",
                       phase.empty() ? "-" : phase, display_label());
}

Json JobView::json() const {
    auto eta = eta_seconds();
    Json o;
    o["job"] = path;
    o["id"] = id;
    o["state"] = state;
    o["phase"] = phase;
    o["source"] = source;
    o["drive"] = drive;
    o["label"] = label;
    o["progress"] = progress;  // null when not finite
    o["bytes_done"] = bytes_done;
    o["bytes_total"] = bytes_total;
    o["rate"] = rate;
    o["speed"] = speed;
    o["track"] = track;
    o["track_count"] = track_count;
    o["track_progress"] = track_progress;
    o["eta_seconds"] = eta ? Json(*eta) : Json(nullptr);
    o["chunk_bytes"] = chunk_bytes ? Json(*chunk_bytes) : Json(nullptr);
    o["unreadable_sectors"] = unreadable_sectors;
    o["result"] = outcome();
    o["result_reason"] = reason;
    o["output"] = output;
    o["resumable"] = resumable;
    Json list = Json::array();
    for (const ArtifactView& a : artifacts) {
        list.push_back(a.json());
    }
    o["artifacts"] = std::move(list);
    return o;
}

}  // namespace freemkv::ctl
