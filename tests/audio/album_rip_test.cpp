// rip_album on the generated BIN/CUE audio CD (tests/fixtures/make-audio-cd): every FLAC decodes to
// the BIN's bytes of its track, tags come from CD-TEXT, the log's CRC32s are zlib's over the
// decoded PCM, and a stopped rip resumes without reading its finished tracks again. Also: the
// AccurateRip check's verdicts (and its failure) in the result and the log, the hidden track one
// audio as track 0 (and left out when silent), and an enhanced CD's data track left out.

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "accuraterip_db.hpp"
#include "album_rip.hpp"
#include "atomic_file.hpp"
#include "audio/audio_cd_fixture.hpp"
#include "audio_error.hpp"
#include "cd_source.hpp"
#include "cue_sheet.hpp"
#include "disc_ids.hpp"
#include "support/test_support.hpp"
#include "unique_fd.hpp"

namespace freemkv {
namespace {

namespace fs = std::filesystem;
using test::AudioCd;
using test::run;
using test::TempDir;

std::string q(const fs::path& p) {
    return "'" + p.string() + "'";
}

AlbumNaming naming() {
    AlbumNaming n;
    n.track_file = [](const CdTrack& t) {
        return fs::path(fmt::format("{:02} - {}.flac", t.number, t.title));
    };
    n.album_stem = "Album";
    return n;
}

AlbumOptions options() {
    AlbumOptions o;
    o.writeback.min_bytes = 1 * MiB;
    o.writeback.start_bytes = 1 * MiB;
    o.date = "2026-12-01";
    return o;
}

std::vector<char> decode(const fs::path& flac, const fs::path& raw) {
    run("flac -s -d -f --force-raw-format --endian=little --sign=signed -o " + q(raw) + " " +
        q(flac));
    auto bytes = test::read_file(raw);
    std::vector<char> out(bytes.size());
    std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
}

std::vector<char> track_bytes(const AudioCd& cd, const nlohmann::json& t) {
    auto from = t["start"].get<std::size_t>() * kCdFrameBytes;
    auto size = t["frames"].get<std::size_t>() * kCdFrameBytes;
    return {cd.bytes.begin() + static_cast<std::ptrdiff_t>(from),
            cd.bytes.begin() + static_cast<std::ptrdiff_t>(from + size)};
}

struct FileId {
    ino_t inode = 0;
    std::int64_t mtime_ns = 0;
    bool operator==(const FileId&) const = default;
};

FileId file_id(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) {
        ADD_FAILURE() << "no " << p;
        return {};
    }
    return {st.st_ino, st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec};
}

// Every FLAC of a finished rip: the track's bytes, its CD-TEXT tags, its CRC32 in the log.
void check_album(const AudioCd& cd, const AlbumResult& result, const fs::path& dir,
                 const std::string& discid, const std::string& release = {},
                 const fs::path& image = {}) {
    ASSERT_FALSE(result.cancelled);
    EXPECT_FALSE(result.errors);
    const auto& tracks = cd.truth["tracks"];
    // The hidden track one audio, when there is some, comes first; the caller checks it.
    const std::size_t first = !result.tracks.empty() && result.tracks[0].number == 0 ? 1 : 0;
    ASSERT_EQ(result.tracks.size() - first, tracks.size());
    const std::string log = read_whole_file(result.log);
    const std::string cue = read_whole_file(result.cue);
    const std::string m3u = read_whole_file(result.m3u);
    EXPECT_EQ(result.cue, dir / "Album.cue");
    EXPECT_EQ(result.log, dir / "Album.log");
    EXPECT_EQ(result.m3u, dir / "Album.m3u");
    for (std::size_t i = 0; i < tracks.size(); ++i) {
        const auto& want = tracks[i];
        const TrackOutcome& o = result.tracks[first + i];
        SCOPED_TRACE("track " + std::to_string(o.number));
        EXPECT_EQ(o.number, want["number"].get<int>());
        EXPECT_NE(o.state, TrackOutcome::State::pending);
        EXPECT_FALSE(o.errors);
        const fs::path flac = dir / o.file;
        EXPECT_EQ(o.file.filename().string(),
                  fmt::format("{:02} - {}.flac", o.number, want["title"].get<std::string>()));
        EXPECT_FALSE(fs::exists(flac.string() + ".part"));
        const fs::path raw = dir / fmt::format("decoded{}.raw", o.number);
        EXPECT_TRUE(decode(flac, raw) == track_bytes(cd, want)) << "FLAC differs from the BIN";

        auto tags = run("metaflac --export-tags-to=- " + q(flac));
        EXPECT_NE(tags.find("TITLE=" + want["title"].get<std::string>() + "\n"), std::string::npos)
            << tags;
        EXPECT_NE(tags.find("ARTIST=" + want["performer"].get<std::string>() + "\n"),
                  std::string::npos)
            << tags;
        EXPECT_NE(tags.find("ALBUM=" + cd.truth["album_title"].get<std::string>() + "\n"),
                  std::string::npos)
            << tags;
        EXPECT_NE(tags.find(fmt::format("TRACKNUMBER={}\n", o.number)), std::string::npos);
        EXPECT_NE(tags.find(fmt::format("TRACKTOTAL={}\n", tracks.size())), std::string::npos);
        EXPECT_NE(tags.find("MUSICBRAINZ_DISCID=" + discid + "\n"), std::string::npos);
        EXPECT_EQ(tags.find("MUSICBRAINZ_ALBUMID=") != std::string::npos, !release.empty()) << tags;
        if (!release.empty()) {
            EXPECT_NE(tags.find("MUSICBRAINZ_ALBUMID=" + release + "\n"), std::string::npos)
                << tags;
        }
        const std::string isrc = want["isrc"].get<std::string>();
        EXPECT_EQ(tags.find("ISRC=") != std::string::npos, !isrc.empty()) << tags;
        if (!isrc.empty()) {
            EXPECT_NE(tags.find("ISRC=" + isrc + "\n"), std::string::npos) << tags;
        }

        auto crc =
            run("python3 -c 'import sys, zlib; "
                "print(\"%08X\" % zlib.crc32(open(sys.argv[1], \"rb\").read()))' " +
                q(raw));
        crc.erase(crc.find_last_not_of('\n') + 1);
        EXPECT_EQ(fmt::format("{:08X}", o.sums.crc32), crc);
        EXPECT_NE(log.find("CRC32: " + crc + "\n"), std::string::npos) << log;
        EXPECT_NE(log.find(o.file.string()), std::string::npos) << log;
        EXPECT_NE(cue.find("FILE \"" + o.file.string() + "\" WAVE"), std::string::npos) << cue;
        EXPECT_NE(m3u.find(o.file.string() + "\n"), std::string::npos) << m3u;
    }
    EXPECT_NE(log.find("Image: " + (image.empty() ? cd.cue : image).string() + "\n"),
              std::string::npos)
        << log;
    if (!result.accurate) {
        EXPECT_NE(log.find("not checked"), std::string::npos) << log;
    }
}

TEST(AlbumRip, EveryTrackIsTheBinsAudioWithItsTagsAndChecksums) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd;
    TempDir dir;
    auto source = CdSource::open_cue(cd.cue);
    std::map<int, std::uint64_t> seen;
    AlbumMeta meta = AlbumMeta::from_toc(source->toc());
    meta.musicbrainz_release = "0f9a3c2e-6b1d-4e8a-9c55-0d2f1b7e4a11";
    AlbumResult result =
        rip_album(*source, meta, dir.path(), naming(), options(), [&](const AlbumProgress& p) {
            seen[p.track] = p.track_samples;
            EXPECT_LE(p.track_samples, p.track_total);
            EXPECT_LE(p.album_samples, p.album_total);
        });
    check_album(cd, result, dir.path(), musicbrainz_disc_id(source->toc()),
                meta.musicbrainz_release);
    for (const TrackOutcome& o : result.tracks) {
        EXPECT_EQ(o.state, TrackOutcome::State::written);
        EXPECT_EQ(seen[o.number], o.sums.samples) << "track " << o.number;
    }
}

TEST(AlbumRip, AStoppedRipResumesWithoutReadingFinishedTracksAgain) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd;
    TempDir dir;
    auto source = CdSource::open_cue(cd.cue);
    const AlbumMeta meta = AlbumMeta::from_toc(source->toc());
    std::stop_source stop;
    AlbumResult first = rip_album(
        *source, meta, dir.path(), naming(), options(),
        [&](const AlbumProgress& p) {
            if (p.track == 3) {
                stop.request_stop();
            }
        },
        stop.get_token());
    ASSERT_TRUE(first.cancelled);
    ASSERT_EQ(first.tracks.size(), 4u);
    EXPECT_EQ(first.tracks[0].state, TrackOutcome::State::written);
    EXPECT_EQ(first.tracks[1].state, TrackOutcome::State::written);
    EXPECT_EQ(first.tracks[2].state, TrackOutcome::State::pending);
    EXPECT_FALSE(fs::exists(dir.path() / first.tracks[2].file)) << "a stopped track is published";
    EXPECT_FALSE(fs::exists(dir / "Album.cue"));
    EXPECT_FALSE(fs::exists(dir / "Album.log"));
    const FileId one = file_id(dir.path() / first.tracks[0].file);
    const FileId two = file_id(dir.path() / first.tracks[1].file);

    std::map<int, std::uint64_t> read;
    std::vector<ArChecksums> checked_second;
    AlbumOptions with_check = options();
    with_check.accuraterip = [&](const std::vector<ArChecksums>& sums) {
        checked_second = sums;
        return std::vector<ArTrackVerdict>(sums.size());
    };
    AlbumResult second =
        rip_album(*source, meta, dir.path(), naming(), with_check, [&](const AlbumProgress& p) {
            read[p.track] = std::max(read[p.track], p.track_samples + 1);
        });
    EXPECT_EQ(read.count(1), 0u) << "track 1 read again";
    EXPECT_EQ(read.count(2), 0u) << "track 2 read again";
    EXPECT_EQ(read.count(3), 1u);
    EXPECT_EQ(second.tracks[0].state, TrackOutcome::State::skipped_existing);
    EXPECT_EQ(second.tracks[1].state, TrackOutcome::State::skipped_existing);
    EXPECT_EQ(second.tracks[2].state, TrackOutcome::State::written);
    EXPECT_TRUE(file_id(dir.path() / second.tracks[0].file) == one);
    EXPECT_TRUE(file_id(dir.path() / second.tracks[1].file) == two);
    check_album(cd, second, dir.path(),
                meta.musicbrainz_discid.empty() ? musicbrainz_disc_id(source->toc())
                                                : meta.musicbrainz_discid);

    // The same as a rip in one go: the kept tracks' checksums came from the state file.
    TempDir once;
    std::vector<ArChecksums> checked_whole;
    with_check.accuraterip = [&](const std::vector<ArChecksums>& sums) {
        checked_whole = sums;
        return std::vector<ArTrackVerdict>(sums.size());
    };
    AlbumResult whole = rip_album(*source, meta, once.path(), naming(), with_check);
    ASSERT_EQ(checked_second.size(), 4u);
    ASSERT_EQ(checked_whole.size(), 4u);
    for (std::size_t i = 0; i < whole.tracks.size(); ++i) {
        SCOPED_TRACE("track " + std::to_string(whole.tracks[i].number));
        EXPECT_EQ(second.tracks[i].sums.crc32, whole.tracks[i].sums.crc32);
        EXPECT_EQ(second.tracks[i].sums.accuraterip_v1, whole.tracks[i].sums.accuraterip_v1);
        EXPECT_EQ(second.tracks[i].sums.accuraterip_v2, whole.tracks[i].sums.accuraterip_v2);
        EXPECT_EQ(second.tracks[i].sums.samples, whole.tracks[i].sums.samples);
        // The check got the kept tracks' checksums from the state file.
        EXPECT_EQ(checked_second[i].v1, checked_whole[i].v1);
        EXPECT_EQ(checked_second[i].v2, checked_whole[i].v2);
        EXPECT_EQ(checked_whole[i].v1, whole.tracks[i].sums.accuraterip_v1);
        EXPECT_EQ(checked_whole[i].v2, whole.tracks[i].sums.accuraterip_v2);
        EXPECT_TRUE(test::read_file(dir.path() / second.tracks[i].file) ==
                    test::read_file(once.path() / whole.tracks[i].file));
    }
    EXPECT_EQ(read_whole_file(second.cue), read_whole_file(whole.cue));
    EXPECT_EQ(read_whole_file(second.m3u), read_whole_file(whole.m3u));
    EXPECT_EQ(read_whole_file(second.log), read_whole_file(whole.log));
}

TEST(AlbumRip, AStopMidTrackLeavesNoFileForItAndTheNextRipCompletesIt) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd;
    TempDir dir;
    auto source = CdSource::open_cue(cd.cue);
    const AlbumMeta meta = AlbumMeta::from_toc(source->toc());
    std::stop_source stop;
    std::uint64_t stopped_at = 0;
    AlbumResult first = rip_album(
        *source, meta, dir.path(), naming(), options(),
        [&](const AlbumProgress& p) {
            if (p.track == 2 && p.track_samples > p.track_total / 2 && stopped_at == 0) {
                stopped_at = p.track_samples;
                stop.request_stop();
            }
        },
        stop.get_token());
    ASSERT_TRUE(first.cancelled);
    ASSERT_GT(stopped_at, 0u);
    EXPECT_EQ(first.tracks[0].state, TrackOutcome::State::written);
    EXPECT_EQ(first.tracks[1].state, TrackOutcome::State::pending);
    EXPECT_FALSE(fs::exists(dir.path() / first.tracks[1].file));
    EXPECT_FALSE(fs::exists(dir.path() / first.tracks[2].file));
    EXPECT_TRUE(first.cue.empty());

    AlbumResult second = rip_album(*source, meta, dir.path(), naming(), options());
    EXPECT_EQ(second.tracks[0].state, TrackOutcome::State::skipped_existing);
    EXPECT_EQ(second.tracks[1].state, TrackOutcome::State::written);
    check_album(cd, second, dir.path(), musicbrainz_disc_id(source->toc()));
    EXPECT_FALSE(fs::exists(dir.path() / (first.tracks[1].file.string() + ".part")));
}

// A rip with options.accuraterip set: the check gets each audio track's checksums once, and its
// verdicts, or why it failed, end up in the result and the log.
struct CheckedRip {
    AlbumResult result;
    std::string log;
    std::vector<ArChecksums> checked;
    int calls = 0;
};

CheckedRip rip_checked(
    const std::function<std::vector<ArTrackVerdict>(const std::vector<ArChecksums>&)>& check) {
    AudioCd cd;
    TempDir dir;
    auto source = CdSource::open_cue(cd.cue);
    CheckedRip out;
    AlbumOptions o = options();
    o.accuraterip = [&](const std::vector<ArChecksums>& sums) {
        ++out.calls;
        out.checked = sums;
        return check(sums);
    };
    out.result = rip_album(*source, AlbumMeta::from_toc(source->toc()), dir.path(), naming(), o);
    if (!out.result.log.empty()) {
        out.log = read_whole_file(out.result.log);
    }
    return out;
}

ArTrackVerdict matched_v2(unsigned confidence) {
    ArTrackVerdict v;
    v.match = ArMatch::v2;
    v.confidence = confidence;
    v.total_confidence = confidence;
    v.max_confidence = confidence;
    return v;
}

TEST(AlbumRip, AccurateRipVerdictsOfEveryTrackGoIntoTheResultAndTheLog) {
    FREEMKV_NEED_AUDIO_CD();
    CheckedRip rip = rip_checked([](const std::vector<ArChecksums>& sums) {
        std::vector<ArTrackVerdict> out;
        for (std::size_t i = 0; i < sums.size(); ++i) {
            out.push_back(matched_v2(static_cast<unsigned>(10 + i)));
        }
        return out;
    });
    ASSERT_FALSE(rip.result.cancelled);
    EXPECT_EQ(rip.calls, 1);
    ASSERT_EQ(rip.checked.size(), rip.result.tracks.size());
    for (std::size_t i = 0; i < rip.checked.size(); ++i) {
        const TrackOutcome& o = rip.result.tracks[i];
        SCOPED_TRACE("track " + std::to_string(o.number));
        EXPECT_EQ(rip.checked[i].v1, o.sums.accuraterip_v1);
        EXPECT_EQ(rip.checked[i].v2, o.sums.accuraterip_v2);
        ASSERT_TRUE(o.accurate.has_value());
        EXPECT_TRUE(o.accurate->matched);
        EXPECT_EQ(o.accurate->version, 2);
        EXPECT_EQ(o.accurate->confidence, 10 + i);
        EXPECT_NE(rip.log.find(fmt::format("  AccurateRip: accurately ripped (v2, confidence {})\n",
                                           10 + i)),
                  std::string::npos)
            << rip.log;
    }
    EXPECT_EQ(rip.result.accurate, std::optional<bool>(true));
    EXPECT_EQ(rip.result.accuraterip_error, "");
    EXPECT_TRUE(rip.log.ends_with("\nAll tracks accurately ripped\n")) << rip.log;
    EXPECT_EQ(rip.log.find("check failed"), std::string::npos) << rip.log;
}

TEST(AlbumRip, AnAccurateRipMismatchIsReportedForItsTrack) {
    FREEMKV_NEED_AUDIO_CD();
    CheckedRip rip = rip_checked([](const std::vector<ArChecksums>& sums) {
        std::vector<ArTrackVerdict> out(sums.size(), matched_v2(5));
        out.at(2) = ArTrackVerdict{};  // track 3: no match
        return out;
    });
    ASSERT_FALSE(rip.result.cancelled);
    EXPECT_EQ(rip.result.accurate, std::optional<bool>(false));
    ASSERT_EQ(rip.result.tracks.size(), 4u);
    ASSERT_TRUE(rip.result.tracks[2].accurate.has_value());
    EXPECT_FALSE(rip.result.tracks[2].accurate->matched);
    EXPECT_TRUE(rip.result.tracks[3].accurate->matched);
    EXPECT_NE(rip.log.find("  AccurateRip: not accurately ripped (no match in the database)\n"),
              std::string::npos)
        << rip.log;
    EXPECT_TRUE(rip.log.ends_with("\nNo read errors; 1 track did not match AccurateRip\n"))
        << rip.log;
}

// The network is down, or the database answered nonsense: the rip is complete anyway, and the
// log says why nothing was checked.
TEST(AlbumRip, AFailedAccurateRipCheckIsLoggedNotAFailedRip) {
    FREEMKV_NEED_AUDIO_CD();
    CheckedRip thrown =
        rip_checked([](const std::vector<ArChecksums>&) -> std::vector<ArTrackVerdict> {
            throw AudioError("http://127.0.0.1:9/accuraterip/x: Couldn't connect to server");
        });
    CheckedRip short_answer = rip_checked([](const std::vector<ArChecksums>& sums) {
        return std::vector<ArTrackVerdict>(sums.size() - 1, matched_v2(3));
    });
    for (const CheckedRip* rip : {&thrown, &short_answer}) {
        ASSERT_FALSE(rip->result.cancelled);
        EXPECT_FALSE(rip->result.errors);
        EXPECT_EQ(rip->calls, 1);
        EXPECT_FALSE(rip->result.accurate.has_value());
        for (const TrackOutcome& o : rip->result.tracks) {
            EXPECT_EQ(o.state, TrackOutcome::State::written);
            EXPECT_FALSE(o.accurate.has_value()) << "track " << o.number;
        }
        EXPECT_NE(
            rip->log.find("AccurateRip check failed: " + rip->result.accuraterip_error + "\n"),
            std::string::npos)
            << rip->log;
        EXPECT_NE(rip->log.find("  AccurateRip: not checked\n"), std::string::npos) << rip->log;
        EXPECT_TRUE(rip->log.ends_with("\nNo read errors; 4 tracks not checked with AccurateRip\n"))
            << rip->log;
    }
    EXPECT_EQ(thrown.result.accuraterip_error,
              "http://127.0.0.1:9/accuraterip/x: Couldn't connect to server");
    EXPECT_EQ(short_answer.result.accuraterip_error, "3 verdicts for 4 tracks");
}

// spdlog's lines while it lives.
class LogCapture {
  public:
    LogCapture() : ring_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000)) {
        spdlog::default_logger()->sinks().push_back(ring_);
    }
    ~LogCapture() { spdlog::default_logger()->sinks().pop_back(); }
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;

    bool has(const std::string& text) const {
        for (const std::string& line : ring_->last_formatted()) {
            if (line.find(text) != std::string::npos) {
                return true;
            }
        }
        return false;
    }

  private:
    std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> ring_;
};

// The fixture's CD with hidden track one audio: track 0 is its own FLAC of the BIN's bytes before
// track 1's INDEX 01, in the m3u, the cue (track 1's INDEX 00) and the log, never in AccurateRip;
// a second rip reads nothing again.
TEST(AlbumRip, HiddenTrackOneAudioIsTrackZerosFlac) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd(true);
    TempDir dir;
    auto source = CdSource::open_cue(cd.cue);
    const auto hidden = cd.truth["hidden_frames"].get<std::uint32_t>();
    ASSERT_GT(hidden, 0u);
    ASSERT_EQ(source->toc().hidden_frames(), hidden);
    AlbumOptions o = options();
    std::size_t checked = 0;
    o.accuraterip = [&](const std::vector<ArChecksums>& sums) {
        checked = sums.size();
        return std::vector<ArTrackVerdict>(sums.size(), matched_v2(2));
    };
    std::map<int, std::uint64_t> seen;
    std::uint64_t album_total = 0;
    AlbumResult result = rip_album(*source, AlbumMeta::from_toc(source->toc()), dir.path(),
                                   naming(), o, [&](const AlbumProgress& p) {
                                       seen[p.track] = p.track_samples;
                                       album_total = p.album_total;
                                   });
    check_album(cd, result, dir.path(), musicbrainz_disc_id(source->toc()));
    ASSERT_EQ(result.tracks.size(), 5u);
    const TrackOutcome& zero = result.tracks[0];
    EXPECT_EQ(zero.number, 0);
    EXPECT_EQ(zero.state, TrackOutcome::State::written);
    EXPECT_EQ(zero.file, fs::path("00 - Hidden Track.flac"));
    EXPECT_EQ(zero.sums.samples, std::uint64_t{hidden} * kCdSamplesPerFrame);
    EXPECT_FALSE(zero.accurate.has_value());
    EXPECT_EQ(checked, 4u) << "the hidden audio went to AccurateRip";
    EXPECT_EQ(result.accurate, std::optional<bool>(true));
    EXPECT_EQ(seen[0], std::uint64_t{hidden} * kCdSamplesPerFrame);
    EXPECT_EQ(album_total,
              std::uint64_t{cd.truth["leadout"].get<std::uint32_t>()} * kCdSamplesPerFrame)
        << "progress does not count the hidden audio";

    const std::vector<char> want(cd.bytes.begin(),
                                 cd.bytes.begin() + std::ptrdiff_t{hidden} * kCdFrameBytes);
    EXPECT_TRUE(decode(dir.path() / zero.file, dir.path() / "hidden.raw") == want)
        << "the hidden FLAC differs from the BIN before track 1's INDEX 01";
    auto tags = run("metaflac --export-tags-to=- " + q(dir.path() / zero.file));
    EXPECT_NE(tags.find("TRACKNUMBER=0\n"), std::string::npos) << tags;
    EXPECT_NE(tags.find("TITLE=Hidden Track\n"), std::string::npos) << tags;
    EXPECT_NE(tags.find("TRACKTOTAL=4\n"), std::string::npos) << tags;

    const std::string m3u = read_whole_file(result.m3u);
    EXPECT_LT(m3u.find("00 - Hidden Track.flac\n"), m3u.find("01 - Concert A.flac\n")) << m3u;
    const std::string cue = read_whole_file(result.cue);
    EXPECT_NE(cue.find("FILE \"00 - Hidden Track.flac\" WAVE\n"
                       "  TRACK 01 AUDIO\n"),
              std::string::npos)
        << cue;
    EXPECT_NE(cue.find("    INDEX 00 00:00:00\n"
                       "FILE \"01 - Concert A.flac\" WAVE\n"
                       "    INDEX 01 00:00:00\n"),
              std::string::npos)
        << cue;
    const std::string log = read_whole_file(result.log);
    EXPECT_NE(log.find("Track 00: hidden track one audio\n"
                       "  File: 00 - Hidden Track.flac\n" +
                       fmt::format("  CRC32: {:08X}\n", zero.sums.crc32)),
              std::string::npos)
        << log;
    EXPECT_TRUE(log.ends_with("\nAll tracks accurately ripped\n")) << log;

    // Again into the same directory: every track, the hidden one too, is kept.
    std::map<int, std::uint64_t> read;
    AlbumResult again = rip_album(*source, AlbumMeta::from_toc(source->toc()), dir.path(), naming(),
                                  o, [&](const AlbumProgress& p) { ++read[p.track]; });
    EXPECT_TRUE(read.empty()) << "read again: track " << read.begin()->first;
    ASSERT_EQ(again.tracks.size(), 5u);
    for (const TrackOutcome& t : again.tracks) {
        EXPECT_EQ(t.state, TrackOutcome::State::skipped_existing) << "track " << t.number;
    }
    EXPECT_EQ(again.tracks[0].sums.crc32, zero.sums.crc32);
    EXPECT_EQ(read_whole_file(again.log), log);
    EXPECT_EQ(read_whole_file(again.cue), cue);
}

// The fixture's hidden-audio CD with that audio made silence (a copy of the BIN, zeroed before
// track 1's INDEX 01): the hidden track is read, left out without a trace, and not read again.
TEST(AlbumRip, ASilentHiddenTrackIsLeftOutAndNotReadAgain) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd(true);
    TempDir image;
    TempDir dir;
    const auto hidden = cd.truth["hidden_frames"].get<std::uint32_t>();
    std::vector<char> bytes = cd.bytes;
    std::fill_n(bytes.begin(), std::ptrdiff_t{hidden} * kCdFrameBytes, '\0');
    write_file_atomically(image.path() / cd.bin.filename(),
                          std::string(bytes.begin(), bytes.end()));
    write_file_atomically(image.path() / cd.cue.filename(), read_whole_file(cd.cue));
    auto source = CdSource::open_cue(image.path() / cd.cue.filename());
    ASSERT_EQ(source->toc().hidden_frames(), hidden);

    LogCapture logged;
    std::map<int, std::uint64_t> seen;
    AlbumResult result =
        rip_album(*source, AlbumMeta::from_toc(source->toc()), dir.path(), naming(), options(),
                  [&](const AlbumProgress& p) { seen[p.track] = p.track_samples; });
    EXPECT_EQ(seen[0], std::uint64_t{hidden} * kCdSamplesPerFrame) << "not read";
    check_album(cd, result, dir.path(), musicbrainz_disc_id(source->toc()), {},
                image.path() / cd.cue.filename());
    ASSERT_EQ(result.tracks.size(), 5u);
    EXPECT_EQ(result.tracks[0].number, 0);
    EXPECT_EQ(result.tracks[0].state, TrackOutcome::State::skipped_silent);
    EXPECT_TRUE(result.tracks[0].file.empty());
    EXPECT_TRUE(logged.has("hidden track one audio is silence; left out"));
    EXPECT_FALSE(fs::exists(dir.path() / "00 - Hidden Track.flac"));
    EXPECT_FALSE(fs::exists(dir.path() / "00 - Hidden Track.flac.part"));
    EXPECT_EQ(read_whole_file(result.m3u).find("Hidden"), std::string::npos);
    EXPECT_EQ(read_whole_file(result.cue).find("Hidden"), std::string::npos);
    const std::string log = read_whole_file(result.log);
    EXPECT_NE(log.find(" before track 1 (silence, left out)\n"), std::string::npos) << log;
    EXPECT_EQ(log.find("Track 00"), std::string::npos) << log;

    std::map<int, std::uint64_t> read;
    AlbumResult again = rip_album(*source, AlbumMeta::from_toc(source->toc()), dir.path(), naming(),
                                  options(), [&](const AlbumProgress& p) { ++read[p.track]; });
    EXPECT_EQ(read.count(0), 0u) << "the silent hidden track was read again";
    EXPECT_EQ(again.tracks[0].state, TrackOutcome::State::skipped_silent);
    EXPECT_EQ(read_whole_file(again.log), log);
}

// An enhanced CD: the fixture's audio, then a data track in a second session (after the session
// gap, as CdToc::audio_leadout expects it). The audio is ripped as on the plain CD; the data
// track is left out, logged, and listed in the rip log as not ripped.
TEST(AlbumRip, AnEnhancedCdsDataTrackIsLeftOut) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd;
    TempDir image;
    TempDir dir;
    const auto leadout = cd.truth["leadout"].get<std::uint32_t>();
    const std::uint32_t data_start = leadout + kCdSessionGapFrames;
    std::string bin(cd.bytes.begin(), cd.bytes.end());
    bin.resize(std::size_t{data_start} * kCdFrameBytes, '\0');
    bin.append(std::size_t{300} * kCdFrameBytes, '\x5a');
    write_file_atomically(image.path() / "enhanced.bin", bin);
    std::string cue = read_whole_file(cd.cue);
    const std::string file_line = "FILE \"" + cd.bin.filename().string() + "\" BINARY";
    ASSERT_NE(cue.find(file_line), std::string::npos) << cue;
    cue.replace(cue.find(file_line), file_line.size(), "FILE \"enhanced.bin\" BINARY");
    cue += "  TRACK 05 MODE1/2352\n    INDEX 01 " + cue_msf(data_start) + "\n";
    write_file_atomically(image.path() / "enhanced.cue", cue);
    auto source = CdSource::open_cue(image.path() / "enhanced.cue");
    ASSERT_EQ(source->toc().tracks.size(), 5u);
    ASSERT_FALSE(source->toc().tracks[4].audio);
    ASSERT_EQ(source->toc().audio_leadout(), leadout);

    LogCapture logged;
    AlbumResult result =
        rip_album(*source, AlbumMeta::from_toc(source->toc()), dir.path(), naming(), options());
    check_album(cd, result, dir.path(), musicbrainz_disc_id(source->toc()), {},
                image.path() / "enhanced.cue");
    EXPECT_EQ(result.tracks.size(), 4u);
    EXPECT_TRUE(logged.has("track 5 is a data track; left out"));
    const std::string log = read_whole_file(result.log);
    EXPECT_NE(log.find(fmt::format("      5 | data track, not ripped (LBA {})\n", data_start)),
              std::string::npos)
        << log;
    EXPECT_EQ(log.find("Track 05"), std::string::npos) << log;
    EXPECT_EQ(read_whole_file(result.cue).find("TRACK 05"), std::string::npos);
}

// A kept track must still be the file the state recorded: a damaged one is ripped again. A file
// the state does not record may be another disc's or the user's: the rip fails naming it.
TEST(AlbumRip, ADamagedTrackIsRippedAgainButAFileOfUnknownOriginIsNeverOverwritten) {
    FREEMKV_NEED_AUDIO_CD();
    AudioCd cd;
    TempDir dir;
    auto source = CdSource::open_cue(cd.cue);
    const AlbumMeta meta = AlbumMeta::from_toc(source->toc());
    AlbumResult first = rip_album(*source, meta, dir.path(), naming(), options());
    ASSERT_FALSE(first.cancelled);
    fs::resize_file(dir.path() / first.tracks[0].file, 1000);

    AlbumResult second = rip_album(*source, meta, dir.path(), naming(), options());
    EXPECT_EQ(second.tracks[0].state, TrackOutcome::State::written);
    for (std::size_t i = 1; i < second.tracks.size(); ++i) {
        EXPECT_EQ(second.tracks[i].state, TrackOutcome::State::skipped_existing);
    }
    check_album(cd, second, dir.path(), musicbrainz_disc_id(source->toc()));

    // Without the state, the files are not known to be this disc's: never overwritten.
    fs::remove(dir.path() / std::string(kAlbumStateFile));
    const auto before = fs::file_size(dir.path() / second.tracks[0].file);
    try {
        (void)rip_album(*source, meta, dir.path(), naming(), options());
        ADD_FAILURE() << "ripped over files it does not know";
    } catch (const AudioError& e) {
        EXPECT_NE(std::string(e.what()).find(second.tracks[0].file.string() +
                                             ": exists and is not recorded"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_EQ(fs::file_size(dir.path() / second.tracks[0].file), before);
}

// A BIN whose reads fail in track 2 (faultfs), ripped in full paranoia giving up quickly: track 2
// is still written, flagged in its tags and the log, and the album reports errors; the other
// tracks, which paranoia's reads ahead and back also reach into the bad frames from, are clean.
TEST(AlbumRip, ATrackWithReadErrorsIsWrittenAndFlagged) {
    FREEMKV_NEED_AUDIO_CD();
    FREEMKV_REQUIRE_ROOT();
    AudioCd cd;
    TempDir dir;
    const auto& two = cd.truth["tracks"][1];
    const std::uint64_t bad = (two["start"].get<std::uint64_t>() + 150) * kCdFrameBytes;
    test::FaultFs scratched(cd.bin, fmt::format("--read-only --eio {}:{}", bad, 2 * kCdFrameBytes));
    UniqueFd cue(::open(cd.cue.c_str(), O_RDONLY | O_CLOEXEC));
    UniqueFd bin(::open(scratched.disk().c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(cue && bin);
    auto source = CdSource::open_cue_fds(cue.get(), bin.get(), "scratched.cue");
    AlbumOptions o = options();
    o.paranoia.mode = ParanoiaMode::full;
    o.paranoia.retries = 1;
    AlbumResult result =
        rip_album(*source, AlbumMeta::from_toc(source->toc()), dir.path(), naming(), o);
    ASSERT_FALSE(result.cancelled);
    EXPECT_TRUE(result.errors);
    ASSERT_EQ(result.tracks.size(), 4u);
    const std::string log = read_whole_file(result.log);
    for (const TrackOutcome& t : result.tracks) {
        SCOPED_TRACE("track " + std::to_string(t.number));
        EXPECT_EQ(t.state, TrackOutcome::State::written);
        ASSERT_TRUE(fs::exists(dir.path() / t.file));
        run("flac -s -t " + q(dir.path() / t.file));
        auto tags = run("metaflac --export-tags-to=- " + q(dir.path() / t.file));
        const std::uint64_t errors = t.stats.skips + t.stats.read_errors;
        EXPECT_EQ(t.errors, errors > 0);
        if (t.number == 2) {
            EXPECT_TRUE(t.errors);
            EXPECT_EQ(t.stats.skips, 2u);
            EXPECT_NE(tags.find(fmt::format("FREEMKV_READ_ERRORS={}\n", errors)), std::string::npos)
                << tags;
        } else {
            EXPECT_FALSE(t.errors);
            EXPECT_EQ(errors, 0u);
            EXPECT_EQ(tags.find("FREEMKV_READ_ERRORS"), std::string::npos) << tags;
        }
    }
    EXPECT_NE(log.find("copied with read errors"), std::string::npos) << log;
    EXPECT_NE(log.find("with errors\n"), std::string::npos) << log;
}

}  // namespace
}  // namespace freemkv
