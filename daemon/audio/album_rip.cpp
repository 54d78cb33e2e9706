#include "album_rip.hpp"

#include <FLAC++/metadata.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <system_error>

#include "atomic_file.hpp"
#include "audio_error.hpp"
#include "cue_sheet.hpp"
#include "disc_ids.hpp"
#include "io_error.hpp"
#include "output_file.hpp"
#include "playlist.hpp"
#include "rip_log.hpp"

namespace freemkv {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr int kHiddenTrack = 0;

std::uint64_t uncorrected(const TrackReadStats& s) {
    return s.skips + s.read_errors;
}

// A track kept from an earlier rip, as the state file records it.
struct KeptTrack {
    std::string file;
    std::uint64_t size = 0;
    TrackChecksums sums;
    std::uint64_t skips = 0;
    std::uint64_t read_errors = 0;
    std::uint64_t fixups = 0;
    bool silent = false;  // the hidden track one audio, read and found to be silence: no file
};

class AlbumState {
  public:
    AlbumState(fs::path path, std::string discid)
        : path_(std::move(path)), discid_(std::move(discid)) {}

    void load() {
        std::error_code ec;
        if (!fs::exists(path_, ec)) {
            return;
        }
        json doc;
        try {
            doc = json::parse(read_whole_file(path_));
            if (doc.at("discid").get<std::string>() != discid_) {
                spdlog::info("{}: another disc's state ({}), starting over", path_.string(),
                             doc.at("discid").get<std::string>());
                return;
            }
            for (const auto& [key, t] : doc.at("tracks").items()) {
                KeptTrack k;
                k.file = t.at("file").get<std::string>();
                k.size = t.at("size").get<std::uint64_t>();
                k.sums.samples = t.at("samples").get<std::uint64_t>();
                k.sums.crc32 = t.at("crc32").get<std::uint32_t>();
                k.sums.accuraterip_v1 = t.at("ar_v1").get<std::uint32_t>();
                k.sums.accuraterip_v2 = t.at("ar_v2").get<std::uint32_t>();
                if (t.contains("ar_frame450")) {
                    k.sums.accuraterip_frame450 = t.at("ar_frame450").get<std::uint32_t>();
                }
                k.skips = t.at("skips").get<std::uint64_t>();
                k.read_errors = t.at("read_errors").get<std::uint64_t>();
                k.fixups = t.at("fixups").get<std::uint64_t>();
                k.silent = t.value("silent", false);
                tracks_[std::stoi(key)] = k;
            }
        } catch (const json::exception& e) {
            throw AudioError(
                fmt::format("{}: unreadable album state: {}", path_.string(), e.what()));
        } catch (const std::logic_error& e) {
            throw AudioError(
                fmt::format("{}: unreadable album state: {}", path_.string(), e.what()));
        }
    }

    const KeptTrack* find(int number) const {
        auto it = tracks_.find(number);
        return it == tracks_.end() ? nullptr : &it->second;
    }

    void record(int number, KeptTrack track) {
        tracks_[number] = std::move(track);
        save();
    }

    // Every track, the cue, log and playlist are written: the album is finished.
    void mark_complete() {
        complete_ = true;
        save();
    }

  private:
    void save() const {
        json doc;
        doc["discid"] = discid_;
        if (complete_) {
            doc["complete"] = true;
        }
        json tracks = json::object();
        for (const auto& [number, k] : tracks_) {
            json t;
            t["file"] = k.file;
            t["size"] = k.size;
            t["samples"] = k.sums.samples;
            t["crc32"] = k.sums.crc32;
            t["ar_v1"] = k.sums.accuraterip_v1;
            t["ar_v2"] = k.sums.accuraterip_v2;
            if (k.sums.accuraterip_frame450) {
                t["ar_frame450"] = *k.sums.accuraterip_frame450;
            }
            t["skips"] = k.skips;
            t["read_errors"] = k.read_errors;
            t["fixups"] = k.fixups;
            if (k.silent) {
                t["silent"] = true;
            }
            tracks[std::to_string(number)] = t;
        }
        doc["tracks"] = tracks;
        write_file_atomically(path_, doc.dump(2) + "\n");
    }

    fs::path path_;
    std::string discid_;
    bool complete_ = false;
    std::map<int, KeptTrack> tracks_;
};

// The kept track when its file is still what the state recorded.
std::optional<KeptTrack> kept(const AlbumState& state, int number, const fs::path& file,
                              const fs::path& full) {
    const KeptTrack* k = state.find(number);
    if (k == nullptr || k->file != file.generic_string()) {
        return std::nullopt;
    }
    std::error_code ec;
    auto size = fs::file_size(full, ec);
    if (ec || size != k->size) {
        return std::nullopt;
    }
    return *k;
}

// Tags are fixed when the encoder starts, and read errors are known only at the end: the flag
// goes into the finished .part's Vorbis comment, in place (within its padding) so that the
// OutputFile's descriptor still names the file it publishes.
void flag_read_errors(OutputFile& out, std::uint64_t errors) {
    out.sync();
    const std::string path = out.part_path().string();
    FLAC::Metadata::Chain chain;
    if (!chain.read(path.c_str())) {
        throw AudioError(fmt::format("{}: cannot read its FLAC metadata: {}",
                                     out.final_path().string(), chain.status().as_cstring()));
    }
    FLAC::Metadata::Iterator it;
    it.init(chain);
    bool tagged = false;
    do {
        if (it.get_block_type() != FLAC__METADATA_TYPE_VORBIS_COMMENT) {
            continue;
        }
        std::unique_ptr<FLAC::Metadata::Prototype> block(it.get_block());
        auto* comments = dynamic_cast<FLAC::Metadata::VorbisComment*>(block.get());
        const std::string value = std::to_string(errors);
        FLAC::Metadata::VorbisComment::Entry entry("FREEMKV_READ_ERRORS", value.c_str(),
                                                   value.size());
        tagged = comments != nullptr && comments->append_comment(entry);
        break;
    } while (it.next());
    if (!tagged || chain.check_if_tempfile_needed(true) || !chain.write(true, false)) {
        throw AudioError(fmt::format("{}: cannot flag its read errors in the FLAC tags",
                                     out.final_path().string()));
    }
}

AccurateRipVerdict verdict_of(const ArTrackVerdict& v) {
    AccurateRipVerdict out;
    out.matched = v.match != ArMatch::none;
    out.version = v.match == ArMatch::v1 ? 1 : v.match == ArMatch::v2 ? 2 : 0;
    out.confidence = out.matched ? v.confidence : 0;
    return out;
}

// The check's verdicts into `result`; "" or why the check failed.
std::string check_accuraterip(const AccurateRipCheck& check, AlbumResult& result) {
    std::vector<ArChecksums> sums;
    std::vector<TrackOutcome*> audio;
    for (TrackOutcome& o : result.tracks) {
        if (o.number > 0) {
            sums.push_back({o.sums.accuraterip_v1, o.sums.accuraterip_v2});
            audio.push_back(&o);
        }
    }
    std::vector<ArTrackVerdict> verdicts;
    try {
        verdicts = check(sums);
    } catch (const AudioError& e) {
        return e.what();
    }
    if (verdicts.size() != sums.size()) {
        return fmt::format("{} verdicts for {} tracks", verdicts.size(), sums.size());
    }
    for (std::size_t i = 0; i < verdicts.size(); ++i) {
        audio[i]->accurate = verdict_of(verdicts[i]);
    }
    result.accurate = accurately_ripped(verdicts);
    return {};
}

std::string track_artist(const AlbumMeta& meta, int number) {
    auto it = meta.tracks.find(number);
    if (it != meta.tracks.end() && !it->second.artist.empty()) {
        return it->second.artist;
    }
    return meta.artist;
}

std::string track_title(const AlbumMeta& meta, int number) {
    auto it = meta.tracks.find(number);
    return it == meta.tracks.end() ? std::string() : it->second.title;
}

}  // namespace

AlbumResult rip_album(const CdSource& source, const AlbumMeta& meta, const fs::path& album_dir,
                      const AlbumNaming& naming, const AlbumOptions& options,
                      const AlbumProgressFn& progress, std::stop_token stop) {
    const CdToc& toc = source.toc();
    const std::string discid =
        meta.musicbrainz_discid.empty() ? musicbrainz_disc_id(toc) : meta.musicbrainz_discid;
    const int total_tracks = static_cast<int>(toc.audio_tracks().size());

    // What is read, in disc order: the hidden track one audio as track 0, then the audio tracks.
    struct Part {
        const CdTrack* track;
        std::uint32_t frames;
    };
    CdTrack hidden_track;
    hidden_track.number = kHiddenTrack;
    hidden_track.title = std::string(kHiddenTrackTitle);
    std::vector<Part> parts;
    if (toc.hidden_frames() > 0) {
        parts.push_back({&hidden_track, toc.hidden_frames()});
    }
    for (const CdTrack& t : toc.tracks) {
        if (t.audio) {
            parts.push_back({&t, toc.frames(t)});
        } else {
            spdlog::info("{}: track {} is a data track; left out", source.name(), t.number);
        }
    }

    std::error_code ec;
    fs::create_directories(album_dir, ec);
    if (ec) {
        throw AudioError(fmt::format("{}: cannot create the album directory: {}",
                                     album_dir.string(), ec.message()));
    }
    AlbumState state(album_dir / kAlbumStateFile, discid);
    state.load();

    AlbumResult result;
    std::uint64_t album_total = 0;
    for (const Part& part : parts) {
        const CdTrack* t = part.track;
        TrackOutcome o;
        o.number = t->number;
        o.file = naming.track_file(*t);
        if (o.file.empty() || o.file.is_absolute()) {
            throw AudioError(fmt::format("track {}: file name \"{}\" is not relative", t->number,
                                         o.file.string()));
        }
        const KeptTrack* recorded = state.find(t->number);
        if (t->number == kHiddenTrack && recorded != nullptr && recorded->silent) {
            o.file.clear();
            o.state = TrackOutcome::State::skipped_silent;
        } else if (auto k = kept(state, t->number, o.file, album_dir / o.file)) {
            o.sums = k->sums;
            o.stats.skips = k->skips;
            o.stats.read_errors = k->read_errors;
            o.stats.fixups = k->fixups;
            o.errors = uncorrected(o.stats) > 0;
            o.state = TrackOutcome::State::skipped_existing;
        } else {
            album_total += std::uint64_t{part.frames} * kCdSamplesPerFrame;
        }
        result.tracks.push_back(o);
    }

    ParanoiaReader reader(source, options.paranoia);
    std::uint64_t album_done = 0;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const CdTrack& t = *parts[i].track;
        const bool hidden = t.number == kHiddenTrack;
        TrackOutcome& o = result.tracks[i];
        if (o.state == TrackOutcome::State::skipped_existing) {
            spdlog::info("{}: track {} kept from an earlier rip ({})", source.name(), t.number,
                         o.file.string());
            continue;
        }
        if (o.state == TrackOutcome::State::skipped_silent) {
            spdlog::info("{}: hidden track one audio is silence (an earlier rip read it); left out",
                         source.name());
            continue;
        }
        if (stop.stop_requested()) {
            result.cancelled = true;
            break;
        }
        const fs::path full = album_dir / o.file;
        fs::create_directories(full.parent_path(), ec);
        if (ec) {
            throw AudioError(
                fmt::format("{}: cannot create its directory: {}", full.string(), ec.message()));
        }
        if (fs::exists(full, ec) || ec) {
            const KeptTrack* recorded = state.find(t.number);
            if (recorded == nullptr || recorded->file != o.file.generic_string()) {
                // Not this disc's, as far as its state can tell: another disc's album of the
                // same name, a file of the user's, or (rarely) this rip's own track published
                // just before a crash. Never overwritten: the user decides.
                throw AudioError(fmt::format(
                    "{}: exists and is not recorded as a finished track of this disc; not "
                    "overwriting it (move it away to rip this track)",
                    full.string()));
            }
            spdlog::warn("{}: not the size this rip recorded, ripping it again", full.string());
            fs::remove(full, ec);
            if (ec) {
                throw AudioError(fmt::format("{}: cannot remove: {}", full.string(), ec.message()));
            }
        }

        const std::uint64_t track_total = std::uint64_t{parts[i].frames} * kCdSamplesPerFrame;
        AlbumProgress p{t.number, 0, track_total, album_done, album_total};
        if (progress) {
            progress(p);
        }
        FlacTags tags;
        tags.title = track_title(meta, t.number);
        if (hidden && tags.title.empty()) {
            tags.title = t.title;
        }
        tags.artist = track_artist(meta, t.number);
        tags.album = meta.album;
        tags.album_artist = meta.artist;
        tags.track_number = t.number;
        tags.track_total = total_tracks;
        tags.musicbrainz_discid = discid;
        tags.musicbrainz_albumid = meta.musicbrainz_release;
        tags.isrc = t.isrc;
        tags.date = meta.date;

        std::optional<OutputFile> out;
        out.emplace(full, options.writeback);
        std::optional<FlacWriter> flac;
        flac.emplace(*out, track_total, tags, options.flac);
        // The hidden audio is no AccurateRip track: only its CRC32 counts.
        TrackChecksummer sums(hidden ? TrackPosition{} : track_position(toc, t.number));
        const SampleSink sink = [&](std::span<const std::int16_t> block) {
            sums.update(block);
            flac->write(std::as_bytes(block));
        };
        const ReadProgress read_progress = [&](std::uint64_t done) {
            if (progress) {
                progress({t.number, done, track_total, album_done + done, album_total});
            }
        };
        o.stats = hidden ? reader.read_hidden(sink, stop, read_progress)
                         : reader.read_track(t.number, sink, stop, read_progress);
        if (o.stats.cancelled) {
            // The stream is short: the encoder is dropped unfinished and the .part stays.
            result.cancelled = true;
            spdlog::info("{}: stopped in track {}", source.name(), t.number);
            break;
        }
        album_done += track_total;
        if (hidden && o.stats.silent) {
            const fs::path part = out->part_path();
            flac.reset();
            out.reset();
            fs::remove(part, ec);
            if (ec) {
                throw AudioError(fmt::format("{}: cannot remove: {}", part.string(), ec.message()));
            }
            spdlog::info("{}: hidden track one audio is silence; left out", source.name());
            o.file.clear();
            o.state = TrackOutcome::State::skipped_silent;
            KeptTrack silent;
            silent.silent = true;
            state.record(t.number, silent);
            continue;
        }
        o.errors = uncorrected(o.stats) > 0;
        flac->finish();
        if (o.errors) {
            flag_read_errors(*out, uncorrected(o.stats));
        }
        out->publish();
        o.sums = sums.finish();
        if (hidden) {
            o.sums.accuraterip_v1 = 0;
            o.sums.accuraterip_v2 = 0;
            o.sums.accuraterip_frame450.reset();
        }
        o.state = TrackOutcome::State::written;
        result.errors = result.errors || o.errors;
        state.record(t.number, {o.file.generic_string(), fs::file_size(full), o.sums, o.stats.skips,
                                o.stats.read_errors, o.stats.fixups});
    }
    for (const TrackOutcome& o : result.tracks) {
        result.errors = result.errors || o.errors;
    }
    if (result.cancelled) {
        return result;
    }
    if (options.accuraterip) {
        result.accuraterip_error = check_accuraterip(options.accuraterip, result);
        if (!result.accuraterip_error.empty()) {
            if (stop.stop_requested()) {
                result.accuraterip_error.clear();
                result.cancelled = true;
                return result;
            }
            spdlog::warn("{}: the AccurateRip check failed: {}", source.name(),
                         result.accuraterip_error);
        }
    }

    CueAlbum cue;
    cue.title = meta.album;
    cue.performer = meta.artist;
    cue.disc_id = discid;
    cue.date = meta.date;
    RipLogInfo log;
    log.program = options.program;
    log.date = options.date;
    log.drive = source.drive_model();
    log.image = source.drive_model().empty() ? source.name() : std::string();
    log.read_offset = options.paranoia.read_offset;
    log.paranoia = paranoia_mode_name(options.paranoia.mode);
    log.retries = options.paranoia.retries;
    log.artist = meta.artist;
    log.album = meta.album;
    log.musicbrainz_discid = discid;
    log.accuraterip_discid = to_string(accuraterip_disc_id(toc));
    log.accuraterip_error = result.accuraterip_error;
    std::vector<PlaylistEntry> playlist;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const TrackOutcome& o = result.tracks[i];
        if (o.state == TrackOutcome::State::skipped_silent) {
            log.hidden_silent = true;
            continue;
        }
        const std::string file = o.file.generic_string();
        std::string title = track_title(meta, o.number);
        if (o.number == kHiddenTrack) {
            cue.hidden_file = file;
            title = title.empty() ? parts[i].track->title : title;
        } else {
            cue.tracks.push_back({o.number, file, title, track_artist(meta, o.number)});
        }
        TrackReport r;
        r.number = o.number;
        r.file = file;
        r.crc32 = o.sums.crc32;
        r.ar_v1 = o.sums.accuraterip_v1;
        r.ar_v2 = o.sums.accuraterip_v2;
        r.read_errors = uncorrected(o.stats);
        r.corrections = o.stats.fixups;
        r.accurate = o.accurate;
        log.tracks.push_back(r);
        playlist.push_back({file, parts[i].frames, track_artist(meta, o.number), title});
    }
    const fs::path stem = album_dir / naming.album_stem;
    result.cue = fs::path(stem.string() + ".cue");
    result.log = fs::path(stem.string() + ".log");
    result.m3u = fs::path(stem.string() + ".m3u");
    write_file_atomically(result.cue, cue_sheet(toc, cue));
    write_file_atomically(result.log, rip_log(toc, log));
    write_file_atomically(result.m3u, m3u_playlist(playlist));
    state.mark_complete();
    return result;
}

}  // namespace freemkv
