#include "rip_log.hpp"

#include <gtest/gtest.h>

#include "audio_error.hpp"

namespace freemkv {
namespace {

CdTrack track(int number, std::uint32_t start, std::uint32_t pregap, bool audio = true) {
    CdTrack t;
    t.number = number;
    t.start = start;
    t.pregap = pregap;
    t.audio = audio;
    return t;
}

// Two audio tracks (track 2 with a 2 s pregap) and a data track in a second session.
CdToc enhanced_cd() {
    CdToc toc;
    toc.tracks = {track(1, 0, 0), track(2, 18000, 150), track(3, 41400, 0, false)};
    toc.tracks[0].isrc = "USRC17607839";
    toc.leadout = 60000;
    return toc;
}

RipLogInfo info_of() {
    RipLogInfo info;
    info.program = "freemkvd 0.9";
    info.date = "2026-12-01 05:00:00 UTC";
    info.drive = "HL-DT-ST DVDRAM GH24NSD1";
    info.read_offset = 6;
    info.paranoia = "full";
    info.retries = 20;
    info.artist = "Björk";
    info.album = "Homogenic";
    info.musicbrainz_discid = "xUp1F2NkfP8s8jaeFn_Av3jNEI4-";
    info.accuraterip_discid = "002-0001a2b3-0003c4d5-1a02b703";
    TrackReport one;
    one.number = 1;
    one.file = "01 - One.flac";
    one.peak = 0.9876;
    one.crc32 = 0x1a2b3c4d;
    one.ar_v1 = 0x0badf00d;
    one.ar_v2 = 0xdeadbeef;
    one.corrections = 3;
    one.accurate = AccurateRipVerdict{.matched = true, .version = 2, .confidence = 12};
    TrackReport two;
    two.number = 2;
    two.file = "02 - Two.flac";
    two.crc32 = 0xffffffff;
    two.ar_v1 = 1;
    two.ar_v2 = 2;
    two.accurate = AccurateRipVerdict{.matched = true, .version = 1, .confidence = 3};
    info.tracks = {one, two};
    return info;
}

TEST(RipLog, GoldenText) {
    EXPECT_EQ(rip_log(enhanced_cd(), info_of()),
              "freemkvd 0.9 audio CD rip log\n"
              "Ripped: 2026-12-01 05:00:00 UTC\n"
              "\n"
              "Drive: HL-DT-ST DVDRAM GH24NSD1\n"
              "Read offset correction: +6\n"
              "Paranoia mode: full\n"
              "Paranoia retries: 20\n"
              "\n"
              "Artist: Björk\n"
              "Album: Homogenic\n"
              "MusicBrainz disc ID: xUp1F2NkfP8s8jaeFn_Av3jNEI4-\n"
              "AccurateRip disc ID: 002-0001a2b3-0003c4d5-1a02b703\n"
              "\n"
              "TOC\n"
              "  Track |   Start  |  Length  | Start LBA | End LBA | Pregap\n"
              "      1 | 00:00:00 | 04:00:00 |         0 |   17999 | 00:00:00\n"
              "      2 | 04:00:00 | 02:40:00 |     18000 |   29999 | 00:02:00\n"
              "      3 | data track, not ripped (LBA 41400)\n"
              "\n"
              "Track 01\n"
              "  File: 01 - One.flac\n"
              "  ISRC: USRC17607839\n"
              "  Peak level: 98.8 %\n"
              "  CRC32: 1A2B3C4D\n"
              "  AccurateRip v1: 0BADF00D\n"
              "  AccurateRip v2: DEADBEEF\n"
              "  Read errors: 0\n"
              "  Corrections: 3\n"
              "  AccurateRip: accurately ripped (v2, confidence 12)\n"
              "  Status: copy OK\n"
              "\n"
              "Track 02\n"
              "  File: 02 - Two.flac\n"
              "  CRC32: FFFFFFFF\n"
              "  AccurateRip v1: 00000001\n"
              "  AccurateRip v2: 00000002\n"
              "  Read errors: 0\n"
              "  Corrections: 0\n"
              "  AccurateRip: accurately ripped (v1, confidence 3)\n"
              "  Status: copy OK\n"
              "\n"
              "All tracks accurately ripped\n");
}

TEST(RipLog, AnImageInsteadOfADriveAndUncheckedTracks) {
    auto info = info_of();
    info.drive.clear();
    info.image = "/srv/in/album.cue";
    info.read_offset = -30;
    info.paranoia = "off";
    for (auto& t : info.tracks) {
        t.accurate.reset();
    }
    auto log = rip_log(enhanced_cd(), info);
    EXPECT_EQ(log.find("Drive:"), std::string::npos);
    EXPECT_NE(log.find("Image: /srv/in/album.cue\n"), std::string::npos);
    EXPECT_NE(log.find("Read offset correction: -30\n"), std::string::npos);
    EXPECT_NE(log.find("Paranoia mode: off\n"), std::string::npos);
    EXPECT_NE(log.find("  AccurateRip: not checked\n"), std::string::npos);
    EXPECT_TRUE(log.ends_with("\nNo read errors; 2 tracks not checked with AccurateRip\n")) << log;
}

TEST(RipLog, AFailedAccurateRipCheckSaysWhy) {
    auto info = info_of();
    for (auto& t : info.tracks) {
        t.accurate.reset();
    }
    EXPECT_EQ(rip_log(enhanced_cd(), info).find("check failed"), std::string::npos);
    info.accuraterip_error = "http://www.accuraterip.com/accuraterip/x: timed out\n";
    auto log = rip_log(enhanced_cd(), info);
    EXPECT_NE(log.find("AccurateRip disc ID: 002-0001a2b3-0003c4d5-1a02b703\n"
                       "AccurateRip check failed: http://www.accuraterip.com/accuraterip/x: "
                       "timed out \n"),
              std::string::npos)
        << log;
    EXPECT_TRUE(log.ends_with("\nNo read errors; 2 tracks not checked with AccurateRip\n")) << log;
}

TEST(RipLog, ReadErrorsAreFlaggedPerTrackAndInTheSummary) {
    auto info = info_of();
    info.tracks[1].read_errors = 17;
    info.tracks[1].accurate = AccurateRipVerdict{.matched = false};
    auto log = rip_log(enhanced_cd(), info);
    EXPECT_NE(log.find("  Read errors: 17\n"
                       "  Corrections: 0\n"
                       "  AccurateRip: not accurately ripped (no match in the database)\n"
                       "  Status: copied with read errors\n"),
              std::string::npos)
        << log;
    EXPECT_TRUE(log.ends_with("\n1 track with errors\n")) << log;
}

// Track 1 with 100 frames of hidden track one audio before its INDEX 01.
CdToc with_hidden_audio() {
    CdToc toc;
    toc.tracks = {track(1, 100, 100), track(2, 18000, 0)};
    toc.leadout = 30000;
    return toc;
}

TEST(RipLog, HiddenTrackOneAudioIsTrackZeroWithoutAccurateRip) {
    auto info = info_of();
    TrackReport hidden;
    hidden.number = 0;
    hidden.file = "00 - Hidden Track.flac";
    hidden.crc32 = 0x00c0ffee;
    info.tracks.insert(info.tracks.begin(), hidden);
    auto log = rip_log(with_hidden_audio(), info);
    EXPECT_NE(log.find("Hidden track one audio: 00:01:25 before track 1\n"), std::string::npos)
        << log;
    EXPECT_NE(log.find("\nTrack 00: hidden track one audio\n"
                       "  File: 00 - Hidden Track.flac\n"
                       "  CRC32: 00C0FFEE\n"
                       "  Read errors: 0\n"
                       "  Corrections: 0\n"
                       "  AccurateRip: not applicable\n"
                       "  Status: copy OK\n"
                       "\nTrack 01\n"),
              std::string::npos)
        << log;
    // AccurateRip does not know it: every audio track matched.
    EXPECT_TRUE(log.ends_with("\nAll tracks accurately ripped\n")) << log;
    info.tracks[0].read_errors = 2;
    EXPECT_TRUE(rip_log(with_hidden_audio(), info).ends_with("\n1 track with errors\n"));

    // Silence is left out, and said so.
    info.tracks.erase(info.tracks.begin());
    info.hidden_silent = true;
    log = rip_log(with_hidden_audio(), info);
    EXPECT_NE(log.find("Hidden track one audio: 00:01:25 before track 1 (silence, left out)\n"),
              std::string::npos)
        << log;
    EXPECT_EQ(log.find("Track 00"), std::string::npos) << log;

    // A disc without any has no track 0.
    info.tracks.insert(info.tracks.begin(), hidden);
    EXPECT_THROW((void)rip_log(enhanced_cd(), info), AudioError);
}

struct SummaryCase {
    std::vector<std::optional<AccurateRipVerdict>> verdicts;
    std::vector<std::uint64_t> errors;
    std::string summary;
};

TEST(RipLog, SummaryLine) {
    AccurateRipVerdict yes{.matched = true, .version = 2, .confidence = 5};
    AccurateRipVerdict no{.matched = false};
    std::vector<SummaryCase> cases{
        {{yes, yes, yes}, {0, 0, 0}, "All tracks accurately ripped"},
        {{yes, yes, yes}, {0, 4, 1}, "2 tracks with errors"},
        {{yes, no, yes}, {0, 0, 0}, "No read errors; 1 track did not match AccurateRip"},
        {{yes, no, std::nullopt}, {0, 0, 0}, "No read errors; 1 track did not match AccurateRip"},
        {{yes, std::nullopt, std::nullopt},
         {0, 0, 0},
         "No read errors; 2 tracks not checked with AccurateRip"},
    };
    for (const auto& c : cases) {
        std::vector<TrackReport> tracks(c.verdicts.size());
        for (std::size_t i = 0; i < tracks.size(); ++i) {
            tracks[i].number = static_cast<int>(i) + 1;  // 0 would be the hidden track one audio
            tracks[i].accurate = c.verdicts[i];
            tracks[i].read_errors = c.errors[i];
        }
        EXPECT_EQ(rip_summary(tracks), c.summary);
    }
}

TEST(RipLog, ATrackNotOnTheDiscIsRefusedNamingIt) {
    auto info = info_of();
    info.tracks[1].number = 3;  // the data track
    try {
        (void)rip_log(enhanced_cd(), info);
        FAIL() << "a data track was logged as ripped";
    } catch (const AudioError& e) {
        EXPECT_NE(std::string(e.what()).find("track 3"), std::string::npos) << e.what();
    }
}

TEST(RipLog, FieldsAreOneLineOfValidUtf8) {
    auto info = info_of();
    info.drive = "TSST\ncorp\xff";
    auto log = rip_log(enhanced_cd(), info);
    EXPECT_NE(log.find("Drive: TSST corp\xef\xbf\xbd\n"), std::string::npos) << log;
}

}  // namespace
}  // namespace freemkv
