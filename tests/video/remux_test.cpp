#include "remux.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "dvd_titles.hpp"
#include "file_sink.hpp"
#include "page_cache.hpp"
#include "support/dvd_images.hpp"
#include "support/process.hpp"
#include "support/test_support.hpp"
#include "title_sectors.hpp"

namespace freemkv {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr double kFrame = 0.04;  // PAL

using test::FileSink;

struct Tool {
    int code = 0;
    std::string out;
    std::string err;
};

Tool run_tool(const test::TempDir& dir, const std::string& program,
              const std::vector<std::string>& args) {
    test::Process process(program, args, dir / (program + ".out"), dir / (program + ".err"));
    Tool tool;
    tool.code = process.exit_code(120s);
    tool.out = process.out();
    tool.err = process.err();
    return tool;
}

TitleInfo title_of(int number, const std::filesystem::path& image = test::dvd_video_image()) {
    auto titles = list_titles(image);
    if (number < 1 || number > static_cast<int>(titles.size())) {
        throw std::runtime_error("no title " + std::to_string(number));
    }
    return titles[number - 1];
}

struct Remuxed {
    test::TempDir dir;
    std::filesystem::path mkv;
    RemuxResult result;
    json probe;
    json mkvmerge;
    std::vector<double> video_times;
    std::vector<double> keyframe_times;
};

// Remuxes one title of the test image and checks what every title's MKV must satisfy: ffprobe,
// mkvmerge and a full decode have nothing to complain about.
void remux_and_check(int number, Remuxed& out,
                     const std::filesystem::path& image = test::dvd_video_image()) {
    out.mkv = out.dir / ("title" + std::to_string(number) + ".mkv");
    TitleInfo title = title_of(number, image);
    {
        FileSink sink(out.mkv);
        out.result = remux_title(image, title, sink, {}, {});
        EXPECT_GT(sink.seeks_back, 0) << "the muxer finishes its header at the end";
    }
    EXPECT_EQ(out.result.bytes_written, std::filesystem::file_size(out.mkv));

    Tool probe = run_tool(out.dir, "ffprobe",
                          {"-v", "warning", "-print_format", "json", "-show_streams",
                           "-show_chapters", "-show_format", "-count_frames", out.mkv.string()});
    ASSERT_EQ(probe.code, 0) << probe.err;
    EXPECT_EQ(probe.err, "") << "title " << number;
    out.probe = json::parse(probe.out);
    // The duration the IFO gives (which rounds to frames), within two frames.
    EXPECT_NEAR(std::stod(out.probe["format"]["duration"].get<std::string>()),
                std::chrono::duration<double>(title.duration).count(), 2 * kFrame);
    EXPECT_NEAR(std::chrono::duration<double>(out.result.duration).count(),
                std::chrono::duration<double>(title.duration).count(), 2 * kFrame);

    Tool mkvmerge = run_tool(out.dir, "mkvmerge", {"-J", out.mkv.string()});
    ASSERT_EQ(mkvmerge.code, 0) << mkvmerge.out << mkvmerge.err;
    out.mkvmerge = json::parse(mkvmerge.out);
    EXPECT_TRUE(out.mkvmerge["errors"].empty()) << out.mkvmerge["errors"];
    EXPECT_TRUE(out.mkvmerge["warnings"].empty()) << out.mkvmerge["warnings"];
    EXPECT_EQ(mkvmerge.err, "");

    Tool decode = run_tool(out.dir, "ffmpeg",
                           {"-nostdin", "-v", "error", "-i", out.mkv.string(), "-f", "null", "-"});
    EXPECT_EQ(decode.code, 0);
    EXPECT_EQ(decode.out + decode.err, "") << "title " << number << " does not decode cleanly";

    Tool frames = run_tool(out.dir, "ffprobe",
                           {"-v", "error", "-select_streams", "v:0", "-show_entries",
                            "packet=pts_time,flags", "-of", "csv=p=0", out.mkv.string()});
    ASSERT_EQ(frames.code, 0) << frames.err;
    std::istringstream lines(frames.out);
    for (std::string line; std::getline(lines, line);) {
        if (line.empty()) {
            continue;
        }
        double time = std::stod(line);
        out.video_times.push_back(time);
        if (line.find(",K") != std::string::npos) {
            out.keyframe_times.push_back(time);
        }
    }
}

std::vector<json> streams_of(const json& probe, const std::string& type) {
    std::vector<json> result;
    for (const auto& stream : probe["streams"]) {
        if (stream["codec_type"] == type) {
            result.push_back(stream);
        }
    }
    return result;
}

// Presentation times, sorted, step one frame apart: no gap, no duplicate.
void expect_every_frame_once(std::vector<double> times, std::size_t frames) {
    std::sort(times.begin(), times.end());
    ASSERT_EQ(times.size(), frames);
    EXPECT_NEAR(times.front(), 0.0, 0.001);
    for (std::size_t i = 1; i < times.size(); ++i) {
        ASSERT_NEAR(times[i] - times[i - 1], kFrame, 0.0015) << "frame " << i << " at " << times[i];
    }
}

TEST(Remux, TitleOneHasItsStreamsChaptersAndEveryFrame) {
    REQUIRE_DVD_VIDEO_IMAGE();
    Remuxed r;
    ASSERT_NO_FATAL_FAILURE(remux_and_check(1, r));

    auto video = streams_of(r.probe, "video");
    ASSERT_EQ(video.size(), 1u);
    EXPECT_EQ(video[0]["codec_name"], "mpeg2video");
    EXPECT_EQ(video[0]["width"], 720);
    EXPECT_EQ(video[0]["height"], 576);
    EXPECT_EQ(video[0]["nb_read_frames"], "1500");
    EXPECT_EQ(r.result.video_frames, 1500u);

    auto audio = streams_of(r.probe, "audio");
    ASSERT_EQ(audio.size(), 2u);
    EXPECT_EQ(audio[0]["codec_name"], "ac3");
    EXPECT_EQ(audio[0]["tags"]["language"], "eng");
    EXPECT_EQ(audio[1]["codec_name"], "ac3");
    EXPECT_EQ(audio[1]["tags"]["language"], "fre");

    auto subtitles = streams_of(r.probe, "subtitle");
    ASSERT_EQ(subtitles.size(), 1u);
    EXPECT_EQ(subtitles[0]["codec_name"], "dvd_subtitle");
    EXPECT_EQ(subtitles[0]["tags"]["language"], "eng");

    // The VobSub's CodecPrivate: the size, and the palette make-dvd authored in RGB, back from
    // the IFO's YCrCb within one step per channel.
    bool vobsub = false;
    for (const auto& track : r.mkvmerge["tracks"]) {
        if (track["type"] != "subtitles") {
            continue;
        }
        vobsub = true;
        EXPECT_EQ(track["codec"], "VobSub");
        EXPECT_EQ(track["properties"]["language"], "eng");
        std::string hex = track["properties"]["codec_private_data"];
        std::string text;
        for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
            text += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
        }
        ASSERT_EQ(text.rfind("size: 720x576\npalette: ", 0), 0u) << text;
        std::istringstream colours(text.substr(text.find(':', 10) + 2));
        const unsigned authored[] = {0xffffff, 0x000000, 0x808080, 0xff0000, 0x00ff00, 0x0000ff,
                                     0xffff00, 0x00ffff, 0xff00ff, 0xc0c0c0, 0x404040, 0x800000,
                                     0x008000, 0x000080, 0x808000, 0x008080};
        for (unsigned expected : authored) {
            std::string colour;
            ASSERT_TRUE(std::getline(colours, colour, ','));
            unsigned rgb = static_cast<unsigned>(std::stoul(colour, nullptr, 16));
            for (int shift : {16, 8, 0}) {
                int got = static_cast<int>((rgb >> shift) & 0xff);
                int want = static_cast<int>((expected >> shift) & 0xff);
                EXPECT_LE(std::abs(got - want), 1) << colour << " for " << std::hex << expected;
            }
        }
    }
    EXPECT_TRUE(vobsub);

    // Chapters at the cells' starts. dvdauthor puts them at the GOP (15 frames, 0.6 s) nearest
    // the authored 0, 20 and 40 s, so each is within a GOP of those and on a keyframe, to a frame.
    auto chapters = r.probe["chapters"];
    ASSERT_EQ(chapters.size(), 3u);
    ASSERT_EQ(r.result.chapter_starts.size(), 3u);
    double authored[] = {0.0, 20.0, 40.0};
    for (std::size_t i = 0; i < 3; ++i) {
        double start = std::stod(chapters[i]["start_time"].get<std::string>());
        EXPECT_NEAR(start, r.result.chapter_starts[i].count() / 1000.0, 0.001);
        EXPECT_NEAR(start, authored[i], 15 * kFrame);
        auto keyframe = std::min_element(
            r.keyframe_times.begin(), r.keyframe_times.end(),
            [&](double a, double b) { return std::abs(a - start) < std::abs(b - start); });
        ASSERT_NE(keyframe, r.keyframe_times.end());
        EXPECT_NEAR(*keyframe, start, kFrame) << "chapter " << i + 1 << " at " << start;
    }
    EXPECT_EQ(r.mkvmerge["chapters"][0]["num_entries"], 3);

    EXPECT_NEAR(std::stod(r.probe["format"]["duration"].get<std::string>()), 60.0, 2 * kFrame);
    EXPECT_NEAR(r.result.duration.count() / 1000.0, 60.0, 2 * kFrame);
    expect_every_frame_once(r.video_times, 1500);
}

TEST(Remux, TitleTwoIsTenSeconds) {
    REQUIRE_DVD_VIDEO_IMAGE();
    Remuxed r;
    ASSERT_NO_FATAL_FAILURE(remux_and_check(2, r));
    ASSERT_EQ(streams_of(r.probe, "video").size(), 1u);
    EXPECT_EQ(streams_of(r.probe, "video")[0]["nb_read_frames"], "250");
    auto audio = streams_of(r.probe, "audio");
    ASSERT_EQ(audio.size(), 1u);
    EXPECT_EQ(audio[0]["tags"]["language"], "eng");
    EXPECT_TRUE(streams_of(r.probe, "subtitle").empty());
    ASSERT_EQ(r.probe["chapters"].size(), 1u);
    EXPECT_NEAR(std::stod(r.probe["format"]["duration"].get<std::string>()), 10.0, 2 * kFrame);
    expect_every_frame_once(r.video_times, 250);
}

// Title 3 plays one 4 s cell twice: its timestamps restart at the second cell, and the output
// must still run 0..8 s with every frame once.
TEST(Remux, ACellPlayedTwiceContinuesTheTimeline) {
    REQUIRE_DVD_VIDEO_IMAGE();
    Remuxed r;
    ASSERT_NO_FATAL_FAILURE(remux_and_check(3, r));
    ASSERT_EQ(streams_of(r.probe, "video").size(), 1u);
    EXPECT_EQ(streams_of(r.probe, "video")[0]["nb_read_frames"], "200");
    EXPECT_EQ(r.result.video_frames, 200u);
    EXPECT_NEAR(std::stod(r.probe["format"]["duration"].get<std::string>()), 8.0, 2 * kFrame);
    expect_every_frame_once(r.video_times, 200);
}

// libdvdread's libdvdcss banner and libav's messages go to spdlog at debug level or, for libav's
// warnings, as warnings: a clean title logs nothing at the default level.
TEST(Remux, PrintsNothingForACleanTitle) {
    REQUIRE_DVD_VIDEO_IMAGE();
    test::TempDir dir;
    TitleInfo title = title_of(3);
    FileSink sink(dir / "out.mkv");
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    auto result = remux_title(test::dvd_video_image(), title, sink, {}, {});
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
    EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");
    EXPECT_EQ(result.video_frames, 200u);
}

TEST(Remux, ReportsProgressUpToTheTitlesSectors) {
    REQUIRE_DVD_VIDEO_IMAGE();
    test::TempDir dir;
    TitleInfo title = title_of(1);
    FileSink sink(dir / "out.mkv");
    std::vector<RemuxProgress> reports;
    remux_title(test::dvd_video_image(), title, sink,
                [&](const RemuxProgress& progress) { reports.push_back(progress); }, {});
    ASSERT_FALSE(reports.empty());
    for (std::size_t i = 1; i < reports.size(); ++i) {
        EXPECT_GE(reports[i].sectors_done, reports[i - 1].sectors_done);
    }
    EXPECT_EQ(reports.back().sectors_done, title.sectors);
    EXPECT_EQ(reports.back().sectors_total, title.sectors);
}

TEST(Remux, AStopRequestEndsItWithACancel) {
    REQUIRE_DVD_VIDEO_IMAGE();
    test::TempDir dir;
    TitleInfo title = title_of(1);
    FileSink sink(dir / "out.mkv");
    std::stop_source stop;
    // Requested at the first progress report, while the title is being read.
    auto request = [&](const RemuxProgress&) { stop.request_stop(); };
    try {
        remux_title(test::dvd_video_image(), title, sink, request, stop.get_token());
        FAIL() << "no cancel";
    } catch (const RemuxCancelled& error) {
        EXPECT_THAT(error.what(), HasSubstr(test::dvd_video_image().string() + ": title 1"));
    }
}

// The sink's own exception ends the remux, not a libav error code in its place.
TEST(Remux, ASinkFailureEndsItWithTheSinksError) {
    REQUIRE_DVD_VIDEO_IMAGE();
    struct FullDisk : ByteSink {
        std::uint64_t written = 0;
        void write_at(std::uint64_t, std::span<const std::byte> data) override {
            written += data.size();
            if (written > (1u << 20)) {
                throw std::system_error(ENOSPC, std::generic_category(), "out.mkv");
            }
        }
    } sink;
    try {
        remux_title(test::dvd_video_image(), title_of(1), sink, {}, {});
        FAIL() << "no error";
    } catch (const std::system_error& error) {
        EXPECT_EQ(error.code().value(), ENOSPC);
    }
}

TEST(Remux, AFileThatIsNotADvdIsAClearErrorNamingIt) {
    REQUIRE_DVD_VIDEO_IMAGE();
    test::TempDir dir;
    auto image = dir / "data.iso";
    std::ofstream(image) << std::string(1 << 20, '\0');
    TitleInfo title = title_of(1);
    FileSink sink(dir / "out.mkv");
    try {
        remux_title(image, title, sink, {}, {});
        FAIL() << "no error";
    } catch (const DvdError& error) {
        EXPECT_THAT(error.what(), HasSubstr(image.string() + ": not a DVD-Video image"));
    }
}

// The reader drops the image's pages behind it: remuxing title 1 (about half the image) leaves
// at most a few MiB of the image cached.
TEST(Remux, DropsTheImagesPagesBehindTheReader) {
    REQUIRE_DVD_VIDEO_IMAGE();
    test::TempDir dir;
    TitleInfo title = title_of(1);
    // A copy of the image on a disk filesystem, none of it cached to begin with.
    auto image = dir / "image.iso";
    std::filesystem::copy_file(test::dvd_video_image(), image);
    {
        int fd = ::open(image.c_str(), O_RDONLY | O_CLOEXEC);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::fdatasync(fd), 0);
        ASSERT_EQ(::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
        ::close(fd);
    }
    ASSERT_LT(cached_bytes(image), 1u << 20)
        << "the copy stays cached; the check would mean nothing";
    FileSink sink(dir / "out.mkv");
    auto result = remux_title(image, title, sink, {}, {});
    EXPECT_EQ(result.video_frames, 1500u);
    std::uint64_t title_bytes = title.sectors * 2048;
    ASSERT_GT(title_bytes, 4u << 20);
    EXPECT_LE(cached_bytes(image), 2u << 20) << "of a title of " << title_bytes << " bytes";
}

// DVD LPCM (title 1 of the LPCM disc: 16-bit "en", 24-bit "fr") becomes plain PCM, bit for bit:
// Matroska cannot carry DVD's LPCM packets as they are.
TEST(Remux, LpcmAudioBecomesLosslessPcm) {
    FREEMKV_REQUIRE_DVD(test::dvd_video_image(), test::dvd_lpcm_image());
    const std::filesystem::path image = test::dvd_lpcm_image();
    TitleInfo title = title_of(1, image);
    ASSERT_EQ(title.audio.size(), 2u);
    EXPECT_EQ(title.audio[0].codec, "lpcm");
    EXPECT_EQ(title.audio[0].bits, 16);
    EXPECT_EQ(title.audio[1].bits, 24);
    Remuxed out;
    remux_and_check(1, out, image);
    auto audio = streams_of(out.probe, "audio");
    ASSERT_EQ(audio.size(), 2u);
    EXPECT_EQ(audio[0]["codec_name"], "pcm_s16le");
    EXPECT_EQ(audio[0]["tags"]["language"], "eng");
    EXPECT_EQ(audio[1]["codec_name"], "pcm_s24le");
    EXPECT_EQ(audio[1]["tags"]["language"], "fre");
    for (const auto& stream : audio) {
        EXPECT_EQ(stream["sample_rate"], "48000");
        EXPECT_EQ(stream["channels"], 2);
    }

    // Each track's samples, bit for bit, are what ffmpeg's own DVD LPCM decoder makes of the
    // title's VOBs (as 32-bit samples: the 24-bit track keeps its low bits), from wherever the
    // demuxer's first whole packet starts to the end.
    auto vobs = title_sector_map(image).at(1);
    auto vob = out.dir / "VTS_01_1.VOB";
    {
        auto bytes = test::read_file(image);
        std::ofstream(vob, std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()) + vobs.first_sector * 2048ull,
                   static_cast<std::streamsize>(vobs.sectors * 2048));
    }
    auto samples_of = [&](const std::filesystem::path& input, int track) {
        auto raw = out.dir / (input.filename().string() + std::to_string(track) + ".raw");
        Tool tool = run_tool(out.dir, "ffmpeg",
                             {"-nostdin", "-v", "error", "-i", input.string(), "-map",
                              "0:a:" + std::to_string(track), "-f", "s32le", "-y", raw.string()});
        EXPECT_EQ(tool.code, 0) << tool.err;
        auto bytes = test::read_file(raw);
        std::vector<std::int32_t> samples(bytes.size() / 4);
        std::memcpy(samples.data(), bytes.data(), samples.size() * 4);
        return samples;
    };
    for (int track : {0, 1}) {
        auto got = samples_of(out.mkv, track);
        auto want = samples_of(vob, track);
        ASSERT_GT(got.size(), 2u * 48000 * 11) << "track " << track;
        std::optional<std::size_t> start;
        for (std::size_t k = 0; k < 2 * 4800 && k + 4000 <= want.size(); k += 2) {
            if (std::equal(got.begin(), got.begin() + 4000, want.begin() + k)) {
                start = k;
                break;
            }
        }
        ASSERT_TRUE(start) << "track " << track << " is not the VOB's LPCM";
        std::size_t common = std::min(got.size(), want.size() - *start);
        EXPECT_GT(common, 2u * 48000 * 11);
        EXPECT_TRUE(std::equal(got.begin(), got.begin() + static_cast<std::ptrdiff_t>(common),
                               want.begin() + static_cast<std::ptrdiff_t>(*start)))
            << "track " << track << " differs from the VOB's LPCM at sample "
            << std::mismatch(got.begin(), got.begin() + static_cast<std::ptrdiff_t>(common),
                             want.begin() + static_cast<std::ptrdiff_t>(*start))
                       .first -
                   got.begin()
            << " of " << got.size() << " (the VOB's: " << want.size() << ", from " << *start << ")";
        if (track == 1) {
            EXPECT_TRUE(std::any_of(got.begin(), got.end(), [](std::int32_t v) {
                return v & 0xff00;
            })) << "the 24-bit track kept only 16 bits";
        }
    }
}

}  // namespace
}  // namespace freemkv
