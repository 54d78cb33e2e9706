#include "cue_sheet.hpp"

#include <fmt/format.h>

#include "audio_error.hpp"
#include "utf8.hpp"

namespace freemkv {

namespace {

std::string quoted(std::string_view text) {
    std::string out = "\"";
    for (char c : safe_text(text)) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

void line(std::string& out, std::string_view indent, std::string_view key, std::string_view text) {
    if (!text.empty()) {
        out += fmt::format("{}{} {}\n", indent, key, quoted(text));
    }
}

}  // namespace

std::string cue_msf(std::uint32_t frames) {
    std::uint32_t seconds = frames / kCdFramesPerSecond;
    return fmt::format("{:02}:{:02}:{:02}", seconds / 60, seconds % 60,
                       frames % kCdFramesPerSecond);
}

std::string cue_sheet(const CdToc& toc, const CueAlbum& album) {
    std::string out;
    if (!album.disc_id.empty()) {
        out += "REM DISCID " + safe_text(album.disc_id) + "\n";
    }
    if (!album.date.empty()) {
        out += "REM DATE " + safe_text(album.date) + "\n";
    }
    if (!album.comment.empty()) {
        out += "REM COMMENT " + quoted(album.comment) + "\n";
    }
    if (!toc.catalog.empty()) {
        out += "CATALOG " + safe_text(toc.catalog) + "\n";
    }
    line(out, "", "PERFORMER", album.performer);
    line(out, "", "TITLE", album.title);

    const CdTrack* previous = nullptr;
    int previous_number = 0;
    for (std::size_t i = 0; i < album.tracks.size(); ++i) {
        const CueTrack& ct = album.tracks[i];
        const CdTrack* t = toc.track(ct.number);
        if (t == nullptr || !t->audio) {
            throw AudioError(
                fmt::format("cue sheet: track {} is not an audio track of the disc", ct.number));
        }
        if (ct.number <= previous_number) {
            throw AudioError(fmt::format("cue sheet: track {} comes after track {}", ct.number,
                                         previous_number));
        }
        if (ct.file.empty()) {
            throw AudioError(fmt::format("cue sheet: track {} has no file", ct.number));
        }
        // The pregap is in the previous file only when that file holds the track just before.
        bool gap_in_previous = t->pregap > 0 && previous != nullptr &&
                               previous->number + 1 == ct.number &&
                               toc.frames(*previous) >= t->pregap;
        bool hidden = i == 0 && !album.hidden_file.empty() && toc.hidden_frames() > 0;
        if (hidden) {
            out += "FILE " + quoted(album.hidden_file) + " WAVE\n";
        }
        if (!gap_in_previous && !hidden) {
            out += "FILE " + quoted(ct.file) + " WAVE\n";
        }
        out += fmt::format("  TRACK {:02} AUDIO\n", ct.number);
        line(out, "    ", "TITLE", ct.title);
        line(out, "    ", "PERFORMER", ct.performer);
        if (!t->isrc.empty()) {
            out += "    ISRC " + safe_text(t->isrc) + "\n";
        }
        if (t->pre_emphasis) {
            out += "    FLAGS PRE\n";
        }
        if (gap_in_previous) {
            out += "    INDEX 00 " + cue_msf(toc.frames(*previous) - t->pregap) + "\n";
            out += "FILE " + quoted(ct.file) + " WAVE\n";
        } else if (hidden) {
            out += "    INDEX 00 00:00:00\n";
            out += "FILE " + quoted(ct.file) + " WAVE\n";
        }
        out += "    INDEX 01 00:00:00\n";
        previous = t;
        previous_number = ct.number;
    }
    return out;
}

}  // namespace freemkv
