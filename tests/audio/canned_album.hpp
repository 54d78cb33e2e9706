#pragma once

// What the online services answer for the test audio CD (tests/fixtures/make-audio-cd), served
// from a directory by tests/support/canned_http.py: a MusicBrainz release for its disc ID that
// names it otherwise than its CD-TEXT, and an AccurateRip entry whose CRCs are the v2 checksums
// of the BIN's tracks, computed here from the BIN itself (not by a rip).

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "audio/audio_cd_fixture.hpp"
#include "cd_source.hpp"
#include "checksums.hpp"
#include "disc_ids.hpp"

namespace freemkv::test {

inline constexpr const char* kCannedAlbum = "Canned Works";
inline constexpr const char* kCannedArtist = "Ensemble Test";
inline constexpr const char* kCannedRelease = "0d4b2d1e-7c4b-4f1e-9c7b-2f5a3b6c8d01";

// ws/2's answer for `discid`: one release whose medium lists it, tracks "Étude N".
inline std::string musicbrainz_answer(const std::string& discid, int tracks) {
    nlohmann::json list = nlohmann::json::array();
    const nlohmann::json credit = {{{"name", kCannedArtist}, {"joinphrase", ""}}};
    for (int n = 1; n <= tracks; ++n) {
        list.push_back(
            {{"position", n}, {"title", fmt::format("Étude {}", n)}, {"artist-credit", credit}});
    }
    nlohmann::json doc = {
        {"id", discid},
        {"releases",
         {{{"id", kCannedRelease},
           {"title", kCannedAlbum},
           {"date", "2021-03-04"},
           {"artist-credit", credit},
           {"media", {{{"position", 1}, {"discs", {{{"id", discid}}}}, {"tracks", list}}}}}}}};
    return doc.dump();
}

// A dBAR entry: one pressing with `crcs` as its tracks' CRCs, confidence 7 each.
inline std::string dbar(const AccurateRipDiscId& id, const std::vector<std::uint32_t>& crcs) {
    std::string out(1, static_cast<char>(crcs.size()));
    auto le32 = [&](std::uint32_t v) {
        for (int i = 0; i < 4; ++i) {
            out += static_cast<char>((v >> (8 * i)) & 0xff);
        }
    };
    le32(id.id1);
    le32(id.id2);
    le32(id.cddb);
    for (std::uint32_t crc : crcs) {
        out += static_cast<char>(7);
        le32(crc);
        le32(0);
    }
    return out;
}

// The AccurateRip v2 checksum of each audio track, from the BIN's samples (no read offset).
inline std::vector<std::uint32_t> accuraterip_v2(const AudioCd& cd, const CdToc& toc) {
    std::vector<std::uint32_t> crcs;
    for (const CdTrack* t : toc.audio_tracks()) {
        TrackChecksummer sums(track_position(toc, t->number));
        auto count = static_cast<std::int64_t>(toc.frames(*t)) * kCdSamplesPerFrame;
        sums.update(std::span<const std::int16_t>(
            cd.samples(static_cast<std::int64_t>(t->start) * kCdSamplesPerFrame, count)));
        crcs.push_back(sums.finish().accuraterip_v2);
    }
    return crcs;
}

// Both answers under `www`, as canned_http.py serves them; `wrong_track` (1-based, 0: none) gets
// a CRC that does not match. Returns the AccurateRip entry's file.
inline std::filesystem::path serve_album(const std::filesystem::path& www, const AudioCd& cd,
                                         int wrong_track = 0) {
    const CdToc toc = CdSource::open_cue(cd.cue)->toc();
    const std::string discid = musicbrainz_disc_id(toc);
    const AccurateRipDiscId id = accuraterip_disc_id(toc);
    std::filesystem::create_directories(www / "ws" / "2" / "discid");
    std::ofstream(www / "ws" / "2" / "discid" / discid)
        << musicbrainz_answer(discid, static_cast<int>(toc.audio_tracks().size()));
    std::vector<std::uint32_t> crcs = accuraterip_v2(cd, toc);
    if (wrong_track > 0) {
        crcs.at(static_cast<std::size_t>(wrong_track - 1)) ^= 1;
    }
    const std::filesystem::path entry = www / "accuraterip" / accuraterip_path(id);
    std::filesystem::create_directories(entry.parent_path());
    std::ofstream(entry, std::ios::binary) << dbar(id, crcs);
    return entry;
}

}  // namespace freemkv::test
