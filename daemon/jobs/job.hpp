#pragma once

// A rip job as the queue, the journal and the API layer see it.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "artifact.hpp"
#include "enum_names.hpp"
#include "ripper.hpp"
#include "unique_fd.hpp"

namespace freemkv {

enum class JobState { queued, running, done, failed, cancelled };

inline constexpr EnumNames<JobState, 5> job_state_names{{
    {JobState::queued, "queued"},
    {JobState::running, "running"},
    {JobState::done, "done"},
    {JobState::failed, "failed"},
    {JobState::cancelled, "cancelled"},
}};
inline std::string_view to_string(JobState state) {
    return name_of(job_state_names, state);
}
inline std::optional<JobState> parse_job_state(std::string_view name) {
    return value_of(job_state_names, name);
}

struct JobRequest {
    std::string drive;             // drive name ("sr0"), or "" for an image file
    std::filesystem::path source;  // device node or image path
    std::map<std::string, std::string> udev_props;
    std::string media;      // the medium's media_key() when a drive's insert started the job
    std::uint32_t uid = 0;  // who asked
    FileId file;            // an image's file when the caller's access was checked
    // Not empty: the source cannot be ripped (an audio CD, a blank disc) and the job ends at
    // once, failed, with this reason, without reading it.
    std::string refused;
    // An image the caller handed over open (StartRipImage): the job reads through it, never by
    // path, and the queue keeps it open until the job ends. It is not journaled, so after a
    // restart the job cannot go on by itself (passed_open says so); ripping the image again
    // resumes it.
    std::shared_ptr<UniqueFd> image;
    bool passed_open = false;
    // A cue sheet named by its path: its BIN's file as checked when the rip was asked for (the
    // cue's own is `file`). The audio stage reads only these files.
    FileId bin_file;
    // A cue sheet handed over open (`image`) comes with its one data file, the BIN, handed over
    // open too: the cue's FILE line names a path the caller's rights never vouched for. Held and
    // not journaled like `image`.
    std::shared_ptr<UniqueFd> bin;
    // An audio CD in a drive: its tracks are ripped to FLAC (audio_stage.hpp), not its sectors to
    // an image. A ".cue" image is ripped so without it.
    bool audio = false;
    // The DVD-Video titles to extract, by number; empty: as [video] titles says.
    std::vector<int> titles;
};

struct JobInfo {
    std::uint64_t id = 0;
    JobRequest request;
    JobState state = JobState::queued;
    std::string label;     // the disc's label, once identified
    std::string identity;  // the disc's fingerprint, once identified
    // The main artifact: the image of a data disc, the main feature's MKV of a DVD-Video (the
    // image's path until the extract stage starts).
    std::filesystem::path output;
    // A DVD-Video's folder in the library ("<library>/<name>"); its titles are written into
    // "<folder>.part/", renamed to it once all are done. An audio CD's album folder, written in
    // place (a track at a time). Empty for a data disc.
    std::filesystem::path folder;
    // The acquire stage has ended: the drive is free (another job may use it) and the job goes
    // on from the image, without the disc.
    bool released = false;
    std::vector<Artifact> artifacts;
    RipProgress progress;
    std::optional<RipResult> result;  // set when the job has ended
    std::chrono::system_clock::time_point created{};
    std::chrono::system_clock::time_point finished{};

    bool ended() const {
        return state == JobState::done || state == JobState::failed || state == JobState::cancelled;
    }
};

// Told about every job's life. Called from the queue's threads, never with a queue lock held, so
// implementations may call back into the queue. on_progress is already coalesced (a few per
// second per job); an API layer hands these to its own loop.
class JobListener {
  public:
    virtual ~JobListener() = default;
    virtual void on_added(const JobInfo&) {}
    virtual void on_progress(const JobInfo&) {}
    virtual void on_resize(const JobInfo&, const Resize&) {}
    // The acquire stage ended and the job goes on without its drive (JobInfo::released): the
    // drive may be ejected and used by the next job. Not called for jobs that end at once.
    virtual void on_acquired(const JobInfo&) {}
    // The job's result is already readable through the queue when this is called.
    virtual void on_ended(const JobInfo&) {}
};

}  // namespace freemkv
