#pragma once

// A job as the client sees it: the Job and Telemetry properties, and how to print them.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bus.hpp"
#include "format.hpp"

namespace freemkv::ctl {

// One entry of a job's Artifacts: its image, a DVD-Video title's MKV.
struct ArtifactView {
    std::string kind;  // image, title, track, cue, log, playlist
    std::string path;
    std::string state;  // pending, writing, written, published, failed, kept, deleted
    std::string error;
    std::uint64_t bytes_total = 0;
    std::uint64_t bytes_done = 0;
    std::int32_t title = 0;
    double seconds_lost = 0;

    // "title 2  published  /library/X/extras/X - title 02.mkv", with the loss or the error.
    std::string line() const;
    Json json() const;
};

struct JobView {
    std::string path;
    std::uint64_t id = 0;
    std::string state;  // queued, running, done, failed, cancelled
    std::string phase;
    std::string source;
    std::string drive;
    std::string label;
    std::string output;
    std::string result;  // "" until it ends; then ok, ok-with-errors, failed, cancelled
    std::string reason;
    std::uint64_t bytes_total = 0;
    std::uint64_t bytes_done = 0;
    double progress = 0.0;
    double rate = 0.0;
    // An audio CD's rip: the rate in "x" (1x = 176,400 B/s), the track being read of how many,
    // and how much of it is read. 0 for other jobs.
    double speed = 0.0;
    std::uint32_t track = 0;
    std::uint32_t track_count = 0;
    double track_progress = 0.0;
    std::uint64_t expected_end_usec = 0;
    std::uint64_t unreadable_sectors = 0;
    bool resumable = false;
    std::optional<std::uint64_t> chunk_bytes;  // unknown until Telemetry is read
    std::vector<ArtifactView> artifacts;

    void apply_job(const Props& props);
    void apply_telemetry(const Props& props);

    bool ended() const;
    // The result, or one derived from the state when the daemon left Result empty.
    std::string outcome() const;
    std::optional<std::int64_t> eta_seconds() const;
    std::string display_label() const { return label.empty() ? source : label; }
    // The output (with unreadable sectors), or why there is none.
    std::string result_text() const;

    // One line for watch: with a bar on a terminal.
    std::string line(bool with_bar) const;
    Json json() const;
};

}  // namespace freemkv::ctl
