#include "audio_stage.hpp"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <system_error>

#include "accuraterip_db.hpp"
#include "album_rip.hpp"
#include "audio_error.hpp"
#include "cd_source.hpp"
#include "disc_ids.hpp"
#include "eta.hpp"
#include "http_get.hpp"
#include "io_error.hpp"
#include "musicbrainz.hpp"
#include "rate_meter.hpp"
#include "rip_log.hpp"
#include "unique_fd.hpp"

namespace freemkv {

namespace fs = std::filesystem;

namespace {

// Upper case, runs of whitespace as one space, none at the ends.
std::string model_key(std::string_view model) {
    std::string key;
    for (char c : model) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            if (!key.empty() && key.back() != ' ') {
                key += ' ';
            }
        } else {
            key += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
    }
    if (!key.empty() && key.back() == ' ') {
        key.pop_back();
    }
    return key;
}

bool ends_with_cue(const fs::path& path) {
    std::string ext = path.extension().string();
    std::ranges::transform(ext, ext.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext == ".cue";
}

// Opens `path` for reading; it must be the file `expected` when that is known.
UniqueFd open_checked(const fs::path& path, const FileId& expected, const std::string& what) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!fd) {
        throw AudioError(
            fmt::format("{}: cannot open {}: {}", path.string(), what, std::strerror(errno)));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        throw AudioError(fmt::format("{}: {} is not a regular file", path.string(), what));
    }
    FileId id{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
    if (expected.known() && id != expected) {
        throw AudioError(
            fmt::format("{}: {} is not the file it was when the rip was asked for; ask again",
                        path.string(), what));
    }
    return fd;
}

std::unique_ptr<CdSource> open_source(const JobRequest& request) {
    if (!request.drive.empty()) {
        return CdSource::open_drive(request.source.string());
    }
    if (request.image && request.bin) {
        return CdSource::open_cue_fds(request.image->get(), request.bin->get(),
                                      request.source.string());
    }
    const std::string name = request.source.string();
    if (request.passed_open) {
        // Never by the path: the caller's rights were checked on the descriptor only.
        throw AudioError(name +
                         ": a cue sheet handed over open needs its BIN file handed over too "
                         "(StartRipImage's option 'bin')");
    }
    // By path: the cue and the BIN it names, each the very file that was checked when the rip
    // was asked for (an import folder's file swapped for a link since is refused).
    UniqueFd cue = open_checked(request.source, request.file, "the cue sheet");
    const fs::path bin_path =
        cue_bin_path(read_cue_sheet(cue.get(), name), request.source.parent_path(), name);
    UniqueFd bin = open_checked(bin_path, request.bin_file, "the BIN of " + name);
    return CdSource::open_cue_fds(cue.get(), bin.get(), name);
}

// What an album folder's state file (album_rip.hpp) records: whose it is, whether it is finished,
// and the tracks written so far. Empty when there is none or it cannot be read.
struct AlbumStateInfo {
    std::string discid;
    bool complete = false;
    std::map<int, std::pair<fs::path, std::uint64_t>> tracks;  // number -> file, size
};

AlbumStateInfo album_state(const fs::path& folder) {
    AlbumStateInfo info;
    std::ifstream in(folder / kAlbumStateFile);
    if (!in) {
        return info;
    }
    try {
        auto doc = nlohmann::json::parse(in);
        info.discid = doc.at("discid").get<std::string>();
        info.complete = doc.value("complete", false);
        for (const auto& [number, t] : doc.at("tracks").items()) {
            if (t.contains("file")) {
                info.tracks[std::stoi(number)] = {t.at("file").get<std::string>(),
                                                  t.at("size").get<std::uint64_t>()};
            }
        }
    } catch (const std::exception&) {
        return {};
    }
    return info;
}

// No file in `folder` (at any depth) but unfinished ".part" ones: what a rip stopped in its first
// track leaves.
bool only_parts(const fs::path& folder) {
    std::error_code ec;
    for (fs::recursive_directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
        if (!it->is_directory(ec) && it->path().extension() != ".part") {
            return false;
        }
    }
    return !ec;
}

// The album's folder: the template's, or numbered when that one belongs to something else.
fs::path choose_folder(const fs::path& base, const std::string& discid, OnExists on_exists,
                       const ClaimFolder& claim) {
    constexpr int max_number = 9999;
    for (int n = 1; n <= max_number; ++n) {
        fs::path folder =
            n == 1 ? base
                   : base.parent_path() / fmt::format("{} ({})", base.filename().string(), n);
        std::error_code ec;
        bool exists = fs::exists(folder, ec);
        if (ec) {
            throw AudioError(fmt::format("{}: {}", folder.string(), ec.message()));
        }
        // This disc's unfinished album is resumed; a finished one is left as it is (its tracks
        // may have been tagged or edited since): ripping the disc again makes a new folder.
        AlbumStateInfo state = exists ? album_state(folder) : AlbumStateInfo{};
        bool ours = !exists || (state.discid == discid && !state.complete) ||
                    (state.discid.empty() && fs::is_directory(folder, ec) && only_parts(folder));
        if (ours && claim(folder)) {
            return folder;
        }
        if (on_exists == OnExists::fail) {
            throw AudioError(fmt::format(
                "{}: the album folder exists and is not this disc's (library.on_exists = \"fail\")",
                folder.string()));
        }
    }
    throw AudioError("no free folder name for " + base.string());
}

std::uint64_t pcm_bytes(const CdToc& toc, const CdTrack& t) {
    return std::uint64_t{toc.frames(t)} * kCdFrameBytes;
}

Artifact* track_artifact(JobInfo& job, int number) {
    for (Artifact& a : job.artifacts) {
        if (a.kind == ArtifactKind::track && a.title == number) {
            return &a;
        }
    }
    return nullptr;
}

void set_progress(JobInfo& job, double rate, const Artifact* current) {
    std::uint64_t total = 0;
    std::uint64_t done = 0;
    int tracks = 0;
    for (const Artifact& a : job.artifacts) {
        if (a.kind == ArtifactKind::track) {
            total += a.bytes_total;
            done += std::min(a.bytes_done, a.bytes_total);
            ++tracks;
        }
    }
    RipProgress& p = job.progress;
    p.phase = "audio";
    p.bytes_total = total;
    p.bytes_done = done;
    p.rate = rate;
    p.speed = rate / kCdBytesPerSecond;
    p.eta = eta_for(total - done, rate);
    p.tracks = tracks;
    p.track = current ? current->title : 0;
    p.track_bytes_total = current ? current->bytes_total : 0;
    p.track_bytes_done = current ? current->bytes_done : 0;
}

// The album's names: CD-TEXT, or MusicBrainz's over it when asked and found. A failed lookup only
// costs the names.
AlbumMeta album_meta(const JobInfo& job, const CdToc& toc, const std::string& discid,
                     const AudioOptions& audio, std::stop_token stop) {
    AlbumMeta meta = AlbumMeta::from_toc(toc);
    if (audio.musicbrainz) {
        try {
            MusicBrainzOptions options;
            options.base = audio.musicbrainz_url;
            auto count = static_cast<int>(toc.audio_tracks().size());
            if (auto release = lookup_musicbrainz(discid, count, options, stop)) {
                meta = AlbumMeta::from_release(*release, toc);
                spdlog::info("job {}: MusicBrainz: \"{}\" by {} (release {})", job.id,
                             release->title, release->artist, release->release_id);
            } else {
                spdlog::info("job {}: MusicBrainz does not know disc {}", job.id, discid);
            }
        } catch (const HttpCancelled&) {
            // The stop token ends the rip at its first read.
        } catch (const AudioError& e) {
            spdlog::warn("job {}: MusicBrainz lookup failed, names from the disc: {}", job.id,
                         e.what());
        }
    }
    meta.musicbrainz_discid = discid;
    return meta;
}

// The AccurateRip check rip_album calls once every track is ripped: the disc's database entry
// against our checksums. Throws AudioError when it cannot say (no entry, no network).
AccurateRipCheck accuraterip_check(const CdToc& toc, const AudioOptions& audio,
                                   std::stop_token stop) {
    return [&toc, base = audio.accuraterip_url, stop](const std::vector<ArChecksums>& ours) {
        const AccurateRipDiscId id = accuraterip_disc_id(toc);
        AccurateRipOptions options;
        options.base = base;
        auto responses = fetch_accuraterip(accuraterip_path(id), options, stop);
        if (!responses) {
            throw AudioError("the AccurateRip database has no entry for disc " + to_string(id));
        }
        return accuraterip_verdict(*responses, ArDiscIds{id.id1, id.id2, id.cddb}, ours);
    };
}

// The job's reason on success: read errors first, then what AccurateRip said, if asked.
std::string album_verdict(const AlbumResult& album, int with_errors) {
    if (album.errors) {
        return fmt::format("{} track(s) with uncorrectable read errors (see {})", with_errors,
                           album.log.filename().string());
    }
    if (album.accurate) {
        if (*album.accurate) {
            return "accurately ripped (every track matches AccurateRip)";
        }
        auto unmatched = std::ranges::count_if(album.tracks, [](const TrackOutcome& o) {
            return o.number > 0 && o.accurate && !o.accurate->matched;
        });
        return fmt::format("{} track(s) do not match AccurateRip", unmatched);
    }
    if (!album.accuraterip_error.empty()) {
        return "not verified: " + album.accuraterip_error;
    }
    return {};
}

// The rip stopped in a track (a pulled disc, the storage failing): the finished tracks stay
// published and recorded, the one being read goes back to pending. Returns the tracks kept.
int stopped_resumable(JobInfo& job, const AudioReport& report) {
    int kept = 0;
    for (Artifact& a : job.artifacts) {
        if (a.state == ArtifactState::writing) {
            a.state = ArtifactState::pending;
            a.bytes_done = 0;
        }
        kept += a.kind == ArtifactKind::track && a.state == ArtifactState::published;
    }
    set_progress(job, 0, nullptr);
    report(job, true);
    return kept;
}

// Failed, resumable, the album folder kept as the partial output.
RipResult resumable_failure(const JobInfo& job, std::string reason) {
    RipResult result = RipResult::without_rip(RipOutcome::failed, std::move(reason), true);
    result.output = job.folder;
    return result;
}

std::string rip_date() {
    auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", now);
}

}  // namespace

std::int32_t read_offset_for(const AudioOptions& options, const std::string& drive_model) {
    if (drive_model.empty()) {
        return 0;
    }
    const std::string key = model_key(drive_model);
    for (const auto& [model, offset] : options.drive_offsets) {
        if (model_key(model) == key) {
            return offset;
        }
    }
    return options.read_offset;
}

bool is_audio_request(const JobRequest& request) {
    return request.audio || request.bin || (request.drive.empty() && ends_with_cue(request.source));
}

RipResult run_audio(JobInfo& job, const AudioSettings& settings, const AudioReport& report,
                    const ClaimFolder& claim, std::stop_token stop) {
    const std::string source_name = job.request.source.string();
    try {
        std::unique_ptr<CdSource> source = open_source(job.request);
        const CdToc& toc = source->toc();
        const std::string discid = musicbrainz_disc_id(toc);
        AlbumMeta meta = album_meta(job, toc, discid, settings.audio, stop);

        const AlbumNameFields fields{meta.artist, meta.album, discid};
        const fs::path stem = album_file(settings.audio.album_naming, fields, "");
        const fs::path base = settings.library / stem.parent_path();
        job.label = meta.album.empty() ? "Audio CD " + discid : meta.album;
        job.identity = "audio-cd:" + discid;
        // A job run again (the daemon restarted) goes on in its own folder, whatever the names
        // say this time (a MusicBrainz lookup that failed now, or answers otherwise).
        const fs::path earlier = job.folder;
        AlbumStateInfo state = earlier.empty() ? AlbumStateInfo{} : album_state(earlier);
        job.folder = state.discid == discid && !state.complete && claim(earlier)
                         ? earlier
                         : choose_folder(base, discid, settings.on_exists, claim);
        job.output = job.folder;
        state = album_state(job.folder);
        if (state.discid != discid) {
            state = {};
        }

        AlbumNaming naming;
        naming.album_stem = stem.filename();
        // Every track's file and PCM bytes; the hidden track one audio, if any, as track 0.
        std::map<int, std::pair<fs::path, std::uint64_t>> tracks;
        // A track the album's state records keeps its file: rip_album keeps it only under that
        // name, and the names may have changed since.
        auto add = [&](int number, const std::string& title, std::uint64_t bytes) {
            auto recorded = state.tracks.find(number);
            fs::path file = recorded != state.tracks.end()
                                ? recorded->second.first.lexically_normal()
                                : track_file(settings.audio.naming, fields, number, title)
                                      .lexically_relative(stem.parent_path());
            if (file.empty() || file.is_absolute() || *file.begin() == "..") {
                throw AudioError(fmt::format(
                    "[audio] naming puts track {} outside the album's folder ({}); the track "
                    "template must lie inside album_naming's folder",
                    number, base.string()));
            }
            tracks[number] = {file, bytes};
        };
        if (toc.hidden_frames() > 0) {
            add(0, std::string(kHiddenTrackTitle),
                std::uint64_t{toc.hidden_frames()} * kCdFrameBytes);
        }
        for (const CdTrack* t : toc.audio_tracks()) {
            auto named = meta.tracks.find(t->number);
            add(t->number, named == meta.tracks.end() ? std::string() : named->second.title,
                pcm_bytes(toc, *t));
        }
        naming.track_file = [&tracks](const CdTrack& t) { return tracks.at(t.number).first; };

        job.artifacts.clear();
        for (const auto& [number, track] : tracks) {
            Artifact a{.kind = ArtifactKind::track,
                       .path = job.folder / track.first,
                       .state = ArtifactState::pending,
                       .bytes_total = track.second,
                       .title = number};
            // Kept from the earlier run, by rip_album's own rule (the recorded file, its size).
            auto recorded = state.tracks.find(number);
            std::error_code ec;
            if (recorded != state.tracks.end() &&
                fs::file_size(a.path, ec) == recorded->second.second && !ec) {
                a.state = ArtifactState::published;
                a.bytes_done = a.bytes_total;
            }
            job.artifacts.push_back(a);
        }
        set_progress(job, 0, nullptr);
        report(job, true);
        spdlog::info("job {}: ripping {} ({} audio tracks, disc ID {}) into {}", job.id,
                     source_name, toc.audio_tracks().size(), discid, job.folder.string());

        AlbumOptions options;
        options.paranoia.mode = settings.audio.paranoia;
        options.paranoia.retries = settings.audio.retries;
        options.paranoia.read_offset = read_offset_for(settings.audio, source->drive_model());
        options.flac.compression_level = settings.audio.flac_level;
        options.writeback = settings.writeback;
        options.program = settings.program;
        options.date = rip_date();
        if (settings.audio.accuraterip) {
            options.accuraterip = accuraterip_check(toc, settings.audio, stop);
        }

        RateMeter meter;
        meter.start(0);
        int current = -1;               // no track yet (0 is the hidden track one audio)
        std::uint64_t read_before = 0;  // PCM bytes of the tracks finished in this run
        std::chrono::steady_clock::time_point last{};
        AlbumResult album = rip_album(
            *source, meta, job.folder, naming, options,
            [&](const AlbumProgress& p) {
                Artifact* a = track_artifact(job, p.track);
                if (a == nullptr) {
                    return;
                }
                bool journal = false;
                if (p.track != current) {
                    if (Artifact* previous = track_artifact(job, current)) {
                        std::error_code ec;
                        // A silent hidden track one audio was left out: no file.
                        previous->state = fs::exists(previous->path, ec) ? ArtifactState::published
                                                                         : ArtifactState::deleted;
                        previous->bytes_done = previous->bytes_total;
                        read_before += previous->bytes_total;
                    }
                    current = p.track;
                    a->state = ArtifactState::writing;
                    journal = true;
                }
                a->bytes_done = p.track_samples * 4;
                auto now = std::chrono::steady_clock::now();
                if (journal || now - last >= settings.progress_interval) {
                    last = now;
                    meter.update(read_before + a->bytes_done);
                    set_progress(job, meter.rate(), a);
                    report(job, journal);
                }
            },
            stop);

        std::uint64_t lost_frames = 0;
        int with_errors = 0;
        for (const TrackOutcome& o : album.tracks) {
            Artifact* a = track_artifact(job, o.number);
            if (a == nullptr) {
                continue;
            }
            if (o.state == TrackOutcome::State::skipped_silent) {
                a->state = ArtifactState::deleted;  // silence: no file, as the log says
                a->bytes_done = a->bytes_total;
                continue;
            }
            if (o.state == TrackOutcome::State::pending) {
                a->state = ArtifactState::pending;
                a->bytes_done = 0;
                continue;
            }
            a->state = ArtifactState::published;
            a->bytes_done = a->bytes_total;
            const std::uint64_t uncorrected = o.stats.skips + o.stats.read_errors;
            if (o.errors) {
                ++with_errors;
                lost_frames += o.stats.skips;
                a->seconds_lost = static_cast<double>(o.stats.skips) / kCdFramesPerSecond;
                a->error = fmt::format("{} uncorrectable read errors; written anyway", uncorrected);
            }
        }
        RipResult result;
        result.output = job.folder;
        result.unreadable_sectors = lost_frames;
        if (album.cancelled) {
            auto done = std::ranges::count_if(album.tracks, [](const TrackOutcome& o) {
                return o.number > 0 && o.state != TrackOutcome::State::pending;
            });
            result.outcome = RipOutcome::cancelled;
            result.resumable = true;
            result.reason = fmt::format(
                "cancelled; {} of {} tracks are in {}; ripping the disc again goes on from there",
                done, toc.audio_tracks().size(), job.folder.string());
        } else {
            for (const auto& [kind, path] :
                 {std::pair{ArtifactKind::cue, album.cue}, std::pair{ArtifactKind::log, album.log},
                  std::pair{ArtifactKind::playlist, album.m3u}}) {
                std::error_code ec;
                auto size = fs::file_size(path, ec);
                job.artifacts.push_back(Artifact{.kind = kind,
                                                 .path = path,
                                                 .state = ArtifactState::published,
                                                 .bytes_total = ec ? 0 : size,
                                                 .bytes_done = ec ? 0 : size});
            }
            result.outcome = album.errors ? RipOutcome::ok_with_errors : RipOutcome::ok;
            result.reason = album_verdict(album, with_errors);
        }
        set_progress(job, 0, nullptr);
        report(job, true);
        return result;
    } catch (const MediumRemoved& e) {
        int kept = stopped_resumable(job, report);
        return resumable_failure(
            job, fmt::format("{}; {} finished track(s) are kept in {}; rip the disc again to go "
                             "on from there",
                             e.what(), kept, job.folder.string()));
    } catch (const AudioError& e) {
        return RipResult::without_rip(RipOutcome::failed, e.what(), false);
    } catch (const IoError& e) {
        // Finished tracks stay; the rest resumes once the storage is fixed.
        stopped_resumable(job, report);
        return resumable_failure(job, e.what());
    } catch (const std::exception& e) {
        return RipResult::without_rip(RipOutcome::failed, source_name + ": " + e.what(), false);
    }
}

}  // namespace freemkv
