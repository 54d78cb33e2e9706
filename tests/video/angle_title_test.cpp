// A title with an angle block on a real image: dvdauthor 0.7.2 cannot author angles, so a copy
// of the generated image has title 1's IFO edited (in VIDEO_TS.IFO/BUP the title's angle count,
// in VTS_01_0.IFO/BUP its cells' block flags) so that its first two cells, 0-20 s and 20-40 s,
// are a non-seamless block of two angles. The title then plays cells 1 and 3: angle 1, then the
// cell after the block.

#include <dvdread/dvd_udf.h>
#include <dvdread/ifo_read.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "dvd_stream.hpp"
#include "dvd_titles.hpp"
#include "file_sink.hpp"
#include "remux.hpp"
#include "support/dvd_images.hpp"
#include "support/process.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kSector = 2048;

using test::FileSink;

// One byte of the image at `at`, changed by `change`.
void patch_byte(const std::filesystem::path& image, std::uint64_t at,
                std::uint8_t (*change)(std::uint8_t)) {
    std::fstream file(image, std::ios::binary | std::ios::in | std::ios::out);
    file.seekg(static_cast<std::streamoff>(at));
    char byte = 0;
    file.read(&byte, 1);
    byte = static_cast<char>(change(static_cast<std::uint8_t>(byte)));
    file.seekp(static_cast<std::streamoff>(at));
    file.write(&byte, 1);
    ASSERT_TRUE(file.good()) << at;
}

// Where an IFO file (and its backup) starts in the image, in bytes.
std::vector<std::uint64_t> ifo_copies(dvd_reader_t* dvd, const std::string& stem) {
    std::vector<std::uint64_t> starts;
    for (const char* ext : {".IFO", ".BUP"}) {
        std::uint32_t size = 0;
        std::uint32_t sector = UDFFindFile(dvd, ("/VIDEO_TS/" + stem + ext).c_str(), &size);
        EXPECT_NE(sector, 0u) << stem << ext;
        starts.push_back(sector * kSector);
    }
    return starts;
}

// Title 1's cells 1 and 2 as a non-seamless (not interleaved) block of two angles.
std::filesystem::path angle_image(const test::TempDir& dir) {
    auto copy = dir / "angles.iso";
    std::filesystem::copy_file(test::dvd_video_image(), copy);
    std::vector<std::uint64_t> angle_bytes;
    std::vector<std::uint64_t> cell_bytes;
    {
        DvdImage image(copy);
        ifo_handle_t* vmg = ifoOpen(image.reader(), 0);
        EXPECT_NE(vmg, nullptr);
        // The title table's entries follow its 8-byte header; the angle count is byte 1.
        for (std::uint64_t start : ifo_copies(image.reader(), "VIDEO_TS")) {
            angle_bytes.push_back(start + vmg->vmgi_mat->tt_srpt * kSector + 8 + 1);
        }
        EXPECT_EQ(vmg->tt_srpt->title[0].title_set_nr, 1);
        ifoClose(vmg);

        ifo_handle_t* vts = ifoOpen(image.reader(), 1);
        EXPECT_NE(vts, nullptr);
        int pgcn = vts->vts_ptt_srpt->title[0].ptt[0].pgcn;
        const pgci_srp_t& srp = vts->vts_pgcit->pgci_srp[pgcn - 1];
        EXPECT_EQ(srp.pgc->nr_of_cells, 3);
        for (std::uint64_t start : ifo_copies(image.reader(), "VTS_01_0")) {
            std::uint64_t cells = start + vts->vtsi_mat->vts_pgcit * kSector + srp.pgc_start_byte +
                                  srp.pgc->cell_playback_offset;
            cell_bytes.push_back(cells);
        }
        ifoClose(vts);
    }
    for (std::uint64_t at : angle_bytes) {
        patch_byte(copy, at, [](std::uint8_t) -> std::uint8_t { return 2; });
    }
    // A cell's first byte: block mode (2 bits), block type (2), seamless play, interleaved, STC
    // discontinuity, seamless angle. A cell entry is 24 bytes.
    for (std::uint64_t at : cell_bytes) {
        patch_byte(copy, at, [](std::uint8_t b) -> std::uint8_t {
            return static_cast<std::uint8_t>(0x40 | 0x10 | (b & 0x0a));
        });
        patch_byte(copy, at + 24, [](std::uint8_t b) -> std::uint8_t {
            return static_cast<std::uint8_t>(0xc0 | 0x10 | (b & 0x0a));
        });
    }
    return copy;
}

std::string run(const test::TempDir& dir, const std::string& program,
                const std::vector<std::string>& args) {
    test::Process process(program, args, dir / (program + ".out"), dir / (program + ".err"));
    int code = process.exit_code(120s);
    EXPECT_EQ(code, 0) << process.output();
    EXPECT_EQ(process.err(), "") << program;
    return process.out();
}

// The MD5 of each decoded video frame, in order (ffmpeg's framemd5 muxer).
std::vector<std::string> frame_hashes(const test::TempDir& dir, const std::filesystem::path& mkv) {
    std::istringstream lines(
        run(dir, "ffmpeg",
            {"-v", "error", "-i", mkv.string(), "-map", "0:v:0", "-f", "framemd5", "-"}));
    std::vector<std::string> hashes;
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty() && line[0] != '#') {
            hashes.push_back(line.substr(line.rfind(',') + 1));
        }
    }
    return hashes;
}

std::filesystem::path remux(const test::TempDir& dir, const std::filesystem::path& image,
                            const TitleInfo& title, const std::string& name, RemuxResult& result) {
    auto mkv = dir / name;
    FileSink sink(mkv);
    result = remux_title(image, title, sink, {}, {});
    return mkv;
}

TEST(AngleTitle, ListsTwoAnglesAndAngleOnesCellsOnly) {
    REQUIRE_DVD_VIDEO_IMAGE();
    test::TempDir dir;
    auto original = list_titles(test::dvd_video_image()).at(0);
    ASSERT_EQ(original.cells.size(), 3u);
    auto titles = list_titles(angle_image(dir));
    ASSERT_EQ(titles.size(), 3u);
    const TitleInfo& title = titles[0];
    EXPECT_EQ(title.angles, 2);
    ASSERT_EQ(title.cells.size(), 2u);
    EXPECT_EQ(title.cells[0], original.cells[0]);
    EXPECT_EQ(title.cells[1], original.cells[2]);
    EXPECT_EQ(title.sectors, original.sectors - (original.cells[1].last_sector -
                                                 original.cells[1].first_sector + 1));
    // Chapter 2 started at the other angle's cell: it maps to the block's first cell.
    EXPECT_EQ(title.chapter_cells, (std::vector<std::size_t>{0, 0, 1}));
    EXPECT_EQ(titles[1].angles, 1);
}

// The MKV holds angle 1's frames then the next cell's, none of the other angle's: decoded frame
// by frame (testsrc draws a running counter, so every frame differs) against the original title.
TEST(AngleTitle, RemuxYieldsAngleOnesFramesOnly) {
    REQUIRE_DVD_VIDEO_IMAGE();
    test::TempDir dir;
    auto image = angle_image(dir);
    RemuxResult full;
    auto original_mkv = remux(dir, test::dvd_video_image(),
                              list_titles(test::dvd_video_image()).at(0), "original.mkv", full);
    RemuxResult angled;
    auto angle_mkv = remux(dir, image, list_titles(image).at(0), "angle.mkv", angled);

    auto all = frame_hashes(dir, original_mkv);
    auto played = frame_hashes(dir, angle_mkv);
    ASSERT_EQ(full.chapter_starts.size(), 3u);
    // The frames of each original cell, from its chapter's start.
    auto frame_at = [](std::chrono::milliseconds t) {
        return static_cast<std::size_t>((t.count() + 20) / 40);
    };
    std::size_t cell2 = frame_at(full.chapter_starts[1]);
    std::size_t cell3 = frame_at(full.chapter_starts[2]);
    ASSERT_EQ(all.size(), full.video_frames);
    ASSERT_GT(cell3, cell2);
    std::set<std::string> other_angle(all.begin() + static_cast<long>(cell2),
                                      all.begin() + static_cast<long>(cell3));
    ASSERT_EQ(other_angle.size(), cell3 - cell2) << "frames repeat; cannot tell cells apart";

    EXPECT_EQ(played.size(), all.size() - (cell3 - cell2));
    EXPECT_EQ(angled.video_frames, played.size());
    std::size_t from_other = 0;
    for (const auto& hash : played) {
        from_other += other_angle.count(hash);
    }
    EXPECT_EQ(from_other, 0u);
    std::vector<std::string> expected(all.begin(), all.begin() + static_cast<long>(cell2));
    expected.insert(expected.end(), all.begin() + static_cast<long>(cell3), all.end());
    std::size_t same = 0;
    for (std::size_t i = 0; i < std::min(expected.size(), played.size()); ++i) {
        same += expected[i] == played[i] ? 1 : 0;
    }
    EXPECT_EQ(same, expected.size()) << "frames decoded differently after the cut";
    EXPECT_NEAR(std::chrono::duration<double>(angled.duration).count(),
                0.04 * static_cast<double>(played.size()), 0.08);

    // ffprobe reads the MKV without a warning.
    run(dir, "ffprobe", {"-v", "warning", "-show_format", angle_mkv.string()});
}

}  // namespace
}  // namespace freemkv
