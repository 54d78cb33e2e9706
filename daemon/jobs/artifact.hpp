#pragma once

// What a job makes: the disc image, and for a DVD-Video one MKV file per chosen title; for an
// audio CD one FLAC per track, the album's cue sheet, rip log and playlist. Each is journaled on
// its own, so a restart during the extract stage redoes only the artifacts that were not finished.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "enum_names.hpp"

namespace freemkv {

enum class ArtifactKind { image, title, track, cue, log, playlist };

inline constexpr EnumNames<ArtifactKind, 6> artifact_kind_names{{
    {ArtifactKind::image, "image"},
    {ArtifactKind::title, "title"},
    {ArtifactKind::track, "track"},
    {ArtifactKind::cue, "cue"},
    {ArtifactKind::log, "log"},
    {ArtifactKind::playlist, "playlist"},
}};
inline std::string_view to_string(ArtifactKind kind) {
    return name_of(artifact_kind_names, kind);
}
inline std::optional<ArtifactKind> parse_artifact_kind(std::string_view name) {
    return value_of(artifact_kind_names, name);
}

enum class ArtifactState {
    pending,    // not started
    writing,    // being written (a title: "<file>.part" in the job's "<folder>.part/")
    written,    // complete and durable under its name in "<folder>.part/", not yet published
    published,  // under its final path in the library
    failed,     // could not be made; `error` says why
    kept,       // the image, kept beside the titles once they are published
    deleted,    // the image, removed once every title was published
};

inline constexpr EnumNames<ArtifactState, 7> artifact_state_names{{
    {ArtifactState::pending, "pending"},
    {ArtifactState::writing, "writing"},
    {ArtifactState::written, "written"},
    {ArtifactState::published, "published"},
    {ArtifactState::failed, "failed"},
    {ArtifactState::kept, "kept"},
    {ArtifactState::deleted, "deleted"},
}};
inline std::string_view to_string(ArtifactState state) {
    return name_of(artifact_state_names, state);
}
inline std::optional<ArtifactState> parse_artifact_state(std::string_view name) {
    return value_of(artifact_state_names, name);
}

struct Artifact {
    ArtifactKind kind = ArtifactKind::image;
    // The final path in the library (a title's is inside the job's folder).
    std::filesystem::path path;
    ArtifactState state = ArtifactState::pending;
    // A title: estimated from its sectors until written. A track: its PCM bytes (2352 a frame).
    std::uint64_t bytes_total = 0;
    std::uint64_t bytes_done = 0;
    // Why it failed, for a person; a track published with uncorrectable read errors says so too.
    // "" otherwise.
    std::string error;
    int title = 0;  // a title's or track's number on the disc; 0 for the others
    // Seconds of video a title, or of audio a track, lost to unreadable sectors (0: none, or not
    // known).
    double seconds_lost = 0;

    bool operator==(const Artifact&) const = default;
};

}  // namespace freemkv
