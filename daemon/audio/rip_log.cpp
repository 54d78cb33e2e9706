#include "rip_log.hpp"

#include <fmt/format.h>

#include "audio_error.hpp"
#include "cue_sheet.hpp"
#include "utf8.hpp"

namespace freemkv {

namespace {

std::string tracks_text(std::size_t n) {
    return fmt::format("{} track{}", n, n == 1 ? "" : "s");
}

std::string verdict_text(const std::optional<AccurateRipVerdict>& v) {
    if (!v) {
        return "not checked";
    }
    if (!v->matched) {
        return "not accurately ripped (no match in the database)";
    }
    return fmt::format("accurately ripped (v{}, confidence {})", v->version, v->confidence);
}

}  // namespace

std::string rip_summary(const std::vector<TrackReport>& tracks) {
    std::size_t errors = 0;
    std::size_t mismatched = 0;
    std::size_t unchecked = 0;
    for (const auto& t : tracks) {
        errors += t.read_errors > 0 ? 1 : 0;
        if (t.number == 0 && !t.accurate) {
            continue;  // the hidden track one audio: AccurateRip cannot check it
        }
        mismatched += t.accurate && !t.accurate->matched ? 1 : 0;
        unchecked += t.accurate ? 0 : 1;
    }
    if (errors > 0) {
        return tracks_text(errors) + " with errors";
    }
    if (mismatched > 0) {
        return "No read errors; " + tracks_text(mismatched) + " did not match AccurateRip";
    }
    if (unchecked > 0) {
        return "No read errors; " + tracks_text(unchecked) + " not checked with AccurateRip";
    }
    return "All tracks accurately ripped";
}

std::string rip_log(const CdToc& toc, const RipLogInfo& info) {
    std::string out;
    auto field = [&](std::string_view key, std::string_view value) {
        out += fmt::format("{}: {}\n", key, safe_text(value));
    };
    out += safe_text(info.program) + " audio CD rip log\n";
    if (!info.date.empty()) {
        field("Ripped", info.date);
    }
    out += "\n";
    if (!info.drive.empty()) {
        field("Drive", info.drive);
    }
    if (!info.image.empty()) {
        field("Image", info.image);
    }
    out += fmt::format("Read offset correction: {:+}\n", info.read_offset);
    field("Paranoia mode", info.paranoia);
    out += fmt::format("Paranoia retries: {}\n\n", info.retries);

    field("Artist", info.artist);
    field("Album", info.album);
    field("MusicBrainz disc ID", info.musicbrainz_discid);
    field("AccurateRip disc ID", info.accuraterip_discid);
    if (!info.accuraterip_error.empty()) {
        field("AccurateRip check failed", info.accuraterip_error);
    }
    if (!toc.catalog.empty()) {
        field("Catalog", toc.catalog);
    }
    out += "\nTOC\n";
    out += "  Track |   Start  |  Length  | Start LBA | End LBA | Pregap\n";
    for (const auto& t : toc.tracks) {
        if (!t.audio) {
            out += fmt::format("  {:5} | data track, not ripped (LBA {})\n", t.number, t.start);
            continue;
        }
        std::uint32_t frames = toc.frames(t);
        out += fmt::format("  {:5} | {} | {} | {:9} | {:7} | {}\n", t.number, cue_msf(t.start),
                           cue_msf(frames), t.start, t.start + frames - 1, cue_msf(t.pregap));
    }
    if (toc.hidden_frames() > 0) {
        out += fmt::format("Hidden track one audio: {} before track 1{}\n",
                           cue_msf(toc.hidden_frames()),
                           info.hidden_silent ? " (silence, left out)" : "");
    }

    for (const auto& r : info.tracks) {
        if (r.number == 0 && toc.hidden_frames() > 0) {
            out += "\nTrack 00: hidden track one audio\n";
            out += "  File: " + safe_text(r.file) + "\n";
            out += fmt::format("  CRC32: {:08X}\n", r.crc32);
            out += fmt::format("  Read errors: {}\n", r.read_errors);
            out += fmt::format("  Corrections: {}\n", r.corrections);
            out += "  AccurateRip: not applicable\n";
            out +=
                r.read_errors > 0 ? "  Status: copied with read errors\n" : "  Status: copy OK\n";
            continue;
        }
        const CdTrack* t = toc.track(r.number);
        if (t == nullptr || !t->audio) {
            throw AudioError(
                fmt::format("rip log: track {} is not an audio track of the disc", r.number));
        }
        out += fmt::format("\nTrack {:02}\n", r.number);
        out += "  File: " + safe_text(r.file) + "\n";
        if (!t->isrc.empty()) {
            out += "  ISRC: " + safe_text(t->isrc) + "\n";
        }
        if (r.peak) {
            out += fmt::format("  Peak level: {:.1f} %\n", *r.peak * 100.0);
        }
        out += fmt::format("  CRC32: {:08X}\n", r.crc32);
        out += fmt::format("  AccurateRip v1: {:08X}\n", r.ar_v1);
        out += fmt::format("  AccurateRip v2: {:08X}\n", r.ar_v2);
        out += fmt::format("  Read errors: {}\n", r.read_errors);
        out += fmt::format("  Corrections: {}\n", r.corrections);
        out += "  AccurateRip: " + verdict_text(r.accurate) + "\n";
        out += r.read_errors > 0 ? "  Status: copied with read errors\n" : "  Status: copy OK\n";
    }
    out += "\n" + rip_summary(info.tracks) + "\n";
    return out;
}

}  // namespace freemkv
