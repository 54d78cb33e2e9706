#pragma once

// The audio stage: a job whose source is an audio CD (a drive's disc that udev counts audio tracks
// on) or a BIN/CUE image rips its tracks to FLAC with rip_album (audio/album_rip.hpp) instead of
// sweeping 2048-byte sectors into an image, which an audio CD does not have.
//
// The album's folder in the library comes from [audio] album_naming ("{artist}/{album}/{album}":
// the folder is its directory, the cue sheet, log and playlist its name). A folder is the disc's
// when it does not exist yet, holds only unfinished ".part" files, or holds this disc's album
// state (the same MusicBrainz disc ID): then the rip resumes there, and finished tracks are not
// read again. Any other folder (another disc of the same name, a user's own files) is never
// written into: the name is numbered, "Album (2)", or the job fails (library.on_exists = "fail").
//
// Names come from CD-TEXT, or from MusicBrainz when [audio] musicbrainz is on and the lookup
// succeeds; AccurateRip is asked when [audio] accuraterip is on. Neither lookup failing fails
// the rip: it is logged, and the rip log says so.
//
// The job's artifacts: one "track" per audio track (its number in `title`; bytes are the track's
// PCM bytes, 2352 per frame, done as it is read), then the "cue", "log" and "playlist" once
// written. A track with uncorrectable read errors is published anyway, with `error` saying so and
// `seconds_lost` the audio given up; the job then ends ok-with-errors.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <stop_token>
#include <string>

#include "chunk_policy.hpp"
#include "enum_names.hpp"
#include "job.hpp"
#include "naming.hpp"
#include "paranoia_reader.hpp"
#include "track_naming.hpp"

namespace freemkv {

inline constexpr EnumNames<ParanoiaMode, 3> paranoia_mode_names{{
    {ParanoiaMode::full, "full"},
    {ParanoiaMode::overlap, "overlap"},
    {ParanoiaMode::off, "off"},
}};

struct AudioOptions {
    ParanoiaMode paranoia = ParanoiaMode::full;
    int retries = 20;              // reads of a failing frame before it is given up
    std::int32_t read_offset = 0;  // samples; drive_offsets overrides it for a known drive
    // By the drive's vendor and model as it reports them ("PLEXTOR DVDR   PX-716A"), compared
    // case-insensitively with runs of spaces as one.
    std::map<std::string, std::int32_t> drive_offsets;
    int flac_level = 5;  // 0..8, as flac's -0 .. -8
    std::string naming = std::string(default_track_naming);
    std::string album_naming = std::string(default_album_naming);
    bool musicbrainz = false;
    std::string musicbrainz_url = "https://musicbrainz.org";
    bool accuraterip = false;
    std::string accuraterip_url = "http://www.accuraterip.com";
};

// The read offset for `drive_model` ("" for an image: 0, an image has no drive).
std::int32_t read_offset_for(const AudioOptions& options, const std::string& drive_model);

// A source the audio stage rips: a request marked audio (a drive's audio CD) or a ".cue" file.
bool is_audio_request(const JobRequest& request);

struct AudioSettings {
    AudioOptions audio;
    std::filesystem::path library;
    OnExists on_exists = OnExists::number;
    PolicyConfig writeback;
    Nanos progress_interval = std::chrono::milliseconds(250);
    std::string program = "freemkvd";
};

// Called with the job after each change; `journal`: a state change worth journaling.
using AudioReport = std::function<void(const JobInfo& job, bool journal)>;
// Records `folder` as the job's unless a running job already has it; called with each candidate.
using ClaimFolder = std::function<bool(const std::filesystem::path& folder)>;

// Rips the job's source (request.source: a drive or a cue sheet) into its album folder. Sets
// job.label, identity, folder, output (the folder) and artifacts. Never throws: trouble is in the
// result (failed; cancelled and resumable when `stop` was requested).
RipResult run_audio(JobInfo& job, const AudioSettings& settings, const AudioReport& report,
                    const ClaimFolder& claim, std::stop_token stop);

}  // namespace freemkv
