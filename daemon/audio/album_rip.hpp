#pragma once

// The album rip: every audio track of a CdSource read once with ParanoiaReader, each block fed
// both to the track's checksums and to its FLAC encoder (streaming: a track is never held in
// memory), each FLAC published through an OutputFile (a ".part" renamed when complete), then the
// album's cue sheet, log and m3u written atomically into the album directory.
//
// Resume per track: after each published track a state file, kAlbumStateFile in the album
// directory, is replaced atomically; it records the MusicBrainz disc ID and per track its file,
// size and checksums. A later rip of the same disc into the same directory keeps every track
// whose file is recorded there and still has the recorded size: it is not read again, and its
// checksums come from the state file, so the log and cue are complete. A recorded track whose
// file changed size is ripped again. A file the state does not record is never overwritten: the
// rip fails with AudioError naming it (another disc's album of the same name, a user's file, or
// this rip's track published just before a crash, between the rename and the state write). A
// stop or crash mid-track leaves only its ".part", overwritten next time. Once the cue, log and
// playlist are written the state says "complete": true, so that a caller can tell a finished
// album (not to be ripped into again: its tracks may have been edited) from an unfinished one.
//
// Read errors: a track with uncorrectable errors (paranoia skips or read errors) is still
// written, tagged FREEMKV_READ_ERRORS=<count> (in the FLAC's padding), reported in the log, and
// AlbumResult::errors set.
//
// Hidden track one audio (CdToc::hidden_frames, audio before track 1's INDEX 01): read as "track
// 0" into its own FLAC (AlbumNaming::track_file gets a CdTrack numbered 0 titled
// kHiddenTrackTitle; tagged TRACKNUMBER=0), first in the m3u, the log and AlbumResult::tracks, and
// in the cue sheet as track 1's INDEX 00 in a FILE of its own. When it is only silence, it
// is left out (no file, state skipped_silent), and the state file records that, so a resumed rip
// does not read it again. It is no AccurateRip track: its outcome has a CRC32 only, and the check
// never sees it.
//
// Enhanced CDs: data tracks are left out (an info line each); the log lists them as not ripped.
//
// AccurateRip: when AlbumOptions::accuraterip is set, it is called once, after every track is
// ripped or kept and before the cue and log are written, with the checksums of all audio tracks
// in disc order (kept ones from the state file). Its verdicts go into each TrackOutcome, the
// AlbumResult and the log. A check that throws AudioError (the network is down, a bad response)
// or returns another number of verdicts than tracks is not a failed rip: it is logged as a
// warning, the log says the check failed and why, and AlbumResult::accuraterip_error says it
// too. When the stop token was requested meanwhile, the rip counts as stopped instead.
//
// Cancellation: the stop token is checked by the reader per sector; a stopped rip returns with
// cancelled set, the finished tracks published and recorded, the stopped track unpublished, and
// no cue, log or m3u.
//
// Errors: AudioError naming the track or file (a read that fails hard, an encoder failure, a
// state file that cannot be parsed); IoError from the output files (disk full). Threading: runs
// on the calling thread; progress is called on it, per sector, for the tracks read in this run.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "accuraterip_db.hpp"
#include "album_meta.hpp"
#include "cd_source.hpp"
#include "checksums.hpp"
#include "chunk_policy.hpp"
#include "flac_writer.hpp"
#include "paranoia_reader.hpp"
#include "rip_log.hpp"

namespace freemkv {

inline constexpr std::string_view kAlbumStateFile = ".freemkv-album.json";
// The title of the CdTrack (number 0) that AlbumNaming::track_file gets for the hidden track one
// audio, and its TITLE tag unless AlbumMeta has one for track 0.
inline constexpr std::string_view kHiddenTrackTitle = "Hidden Track";

// The AccurateRip verdicts of the audio tracks whose checksums it is given, one each in the same
// order (accuraterip_verdict on fetch_accuraterip's responses, for instance). May throw AudioError.
using AccurateRipCheck = std::function<std::vector<ArTrackVerdict>(
    const std::vector<ArChecksums>& audio_tracks_in_disc_order)>;

struct AlbumOptions {
    ParanoiaOptions paranoia;
    FlacOptions flac;
    PolicyConfig writeback;  // the OutputFile of each track
    std::string program = "freemkvd";
    std::string date;              // the rip's date for the log, as the caller formats it
    AccurateRipCheck accuraterip;  // empty: not checked
};

// Where the album's files go, relative to the album directory.
struct AlbumNaming {
    // A track's FLAC, e.g. "01 - One.flac".
    std::function<std::filesystem::path(const CdTrack&)> track_file;
    // The cue sheet, log and playlist: this plus ".cue", ".log", ".m3u".
    std::filesystem::path album_stem = "album";
};

struct TrackOutcome {
    // skipped_silent: the hidden track one audio was silence, no file.
    enum class State { pending, written, skipped_existing, skipped_silent };
    int number = 0;              // 0: the hidden track one audio
    std::filesystem::path file;  // relative to the album directory; empty when skipped_silent
    TrackChecksums sums;
    TrackReadStats stats;  // zero for a track kept from an earlier rip, except its error counts
    bool errors = false;   // uncorrectable read errors
    State state = State::pending;
    std::optional<AccurateRipVerdict> accurate;  // nullopt: not checked, or the check failed
};

struct AlbumResult {
    // In disc order: the hidden track one audio (number 0) when the disc has some, then every
    // audio track.
    std::vector<TrackOutcome> tracks;
    std::filesystem::path cue, log, m3u;  // absolute; empty when cancelled
    bool errors = false;
    bool cancelled = false;
    std::optional<bool> accurate;   // every track matched AccurateRip; nullopt: not checked/failed
    std::string accuraterip_error;  // why the check failed; "" unless it threw
};

struct AlbumProgress {
    int track = 0;  // the audio track being read (0: the hidden track one audio)
    std::uint64_t track_samples = 0;
    std::uint64_t track_total = 0;
    std::uint64_t album_samples = 0;  // of the tracks read in this run, kept ones left out
    std::uint64_t album_total = 0;
};
using AlbumProgressFn = std::function<void(const AlbumProgress&)>;

AlbumResult rip_album(const CdSource& source, const AlbumMeta& meta,
                      const std::filesystem::path& album_dir, const AlbumNaming& naming,
                      const AlbumOptions& options, const AlbumProgressFn& progress = {},
                      std::stop_token stop = {});

}  // namespace freemkv
