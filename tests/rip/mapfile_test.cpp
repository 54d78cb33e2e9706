#include "mapfile.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <sstream>

#include "io_error.hpp"
#include "support/recording_file_system.hpp"
#include "support/test_support.hpp"

namespace freemkv {

void PrintTo(const MapRange& r, std::ostream* os) {
    *os << "{" << r.pos << ", " << r.size << ", '" << static_cast<char>(r.status) << "'}";
}

namespace {

using test::run;
using test::TempDir;

constexpr auto Q = BlockStatus::non_tried;
constexpr auto T = BlockStatus::non_trimmed;
constexpr auto S = BlockStatus::non_scraped;
constexpr auto B = BlockStatus::bad_sector;
constexpr auto F = BlockStatus::finished;
constexpr std::uint64_t sector = 2048;

// The GNU ddrescue tools are a test dependency (package gddrescue); without them the tests that
// compare against them are skipped loudly, or fail under CI.
#define REQUIRE_DDRESCUE()                                                        \
    do {                                                                          \
        if (std::system("command -v ddrescue ddrescuelog >/dev/null") != 0) {     \
            if (::freemkv::test::in_ci()) {                                       \
                FAIL() << "CI must install gddrescue";                            \
            }                                                                     \
            GTEST_SKIP() << "SKIPPED LOUDLY: ddrescue/ddrescuelog not installed"; \
        }                                                                         \
    } while (0)

void write_text(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    ASSERT_TRUE(out.good()) << path;
}

std::string read_text(const std::filesystem::path& path) {
    auto bytes = test::read_file(path);
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::string quoted(const std::filesystem::path& p) {
    return "'" + p.string() + "'";
}

// The map built byte by byte, as the reference for set().
std::vector<MapRange> compress(const std::vector<BlockStatus>& bytes) {
    std::vector<MapRange> out;
    for (std::uint64_t i = 0; i < bytes.size(); ++i) {
        if (!out.empty() && out.back().status == bytes[i]) {
            ++out.back().size;
        } else {
            out.push_back({i, 1, bytes[i]});
        }
    }
    return out;
}

void expect_well_formed(const Mapfile& m) {
    std::uint64_t end = 0;
    for (std::size_t i = 0; i < m.ranges().size(); ++i) {
        const MapRange& r = m.ranges()[i];
        EXPECT_EQ(r.pos, end) << "range " << i;
        EXPECT_GT(r.size, 0u) << "range " << i;
        if (i > 0) {
            EXPECT_NE(r.status, m.ranges()[i - 1].status) << "range " << i << " not merged";
        }
        end = r.pos + r.size;
    }
    EXPECT_EQ(end, m.device_size());
}

// ---- set(): splitting and merging ----

struct SetCase {
    const char* name;
    std::vector<MapRange> ops;  // applied in order to a 100-byte map
    std::vector<MapRange> expected;
};

TEST(Mapfile, SetSplitsAndMerges) {
    const std::vector<SetCase> cases = {
        {"fresh map", {}, {{0, 100, Q}}},
        {"middle split", {{10, 20, F}}, {{0, 10, Q}, {10, 20, F}, {30, 70, Q}}},
        {"at start", {{0, 10, F}}, {{0, 10, F}, {10, 90, Q}}},
        {"at end", {{90, 10, B}}, {{0, 90, Q}, {90, 10, B}}},
        {"whole", {{0, 100, F}}, {{0, 100, F}}},
        {"empty set is a no-op", {{50, 0, F}}, {{0, 100, Q}}},
        {"same status inside is a no-op", {{10, 20, Q}}, {{0, 100, Q}}},
        {"merge left", {{0, 10, F}, {10, 10, F}}, {{0, 20, F}, {20, 80, Q}}},
        {"merge right", {{20, 10, F}, {10, 10, F}}, {{0, 10, Q}, {10, 20, F}, {30, 70, Q}}},
        {"bridge two ranges", {{0, 10, F}, {20, 10, F}, {10, 10, F}}, {{0, 30, F}, {30, 70, Q}}},
        {"bridge to the end", {{0, 50, F}, {60, 40, F}, {50, 10, F}}, {{0, 100, F}}},
        {"span several ranges",
         {{10, 10, F}, {30, 10, B}, {50, 10, S}, {15, 40, T}},
         {{0, 10, Q}, {10, 5, F}, {15, 40, T}, {55, 5, S}, {60, 40, Q}}},
        {"span several and merge both sides",
         {{0, 10, F}, {20, 10, B}, {40, 10, F}, {10, 30, F}},
         {{0, 50, F}, {50, 50, Q}}},
        {"revert a hole", {{10, 10, B}, {10, 10, Q}}, {{0, 100, Q}}},
        {"split one status in three",
         {{0, 100, F}, {40, 2, B}},
         {{0, 40, F}, {40, 2, B}, {42, 58, F}}},
        {"overwrite the exact range",
         {{10, 10, B}, {10, 10, S}},
         {{0, 10, Q}, {10, 10, S}, {20, 80, Q}}},
        {"single bytes at both ends", {{0, 1, F}, {99, 1, F}}, {{0, 1, F}, {1, 98, Q}, {99, 1, F}}},
    };
    for (const SetCase& c : cases) {
        Mapfile m(100);
        for (const MapRange& op : c.ops) {
            m.set(op.pos, op.size, op.status);
        }
        EXPECT_EQ(m.ranges(), c.expected) << c.name;
        expect_well_formed(m);
    }
}

TEST(Mapfile, SetMatchesAByteModel) {
    const std::array<BlockStatus, 5> statuses = {Q, T, S, B, F};
    std::mt19937_64 rng(7);
    for (int round = 0; round < 50; ++round) {
        const std::uint64_t size = 1 + rng() % 500;
        Mapfile m(size);
        std::vector<BlockStatus> model(size, Q);
        for (int op = 0; op < 200; ++op) {
            std::uint64_t pos = rng() % (size + 1);
            std::uint64_t len = rng() % (size - pos + 1);
            if (rng() % 4 == 0) {
                len = std::min<std::uint64_t>(len, 3);  // many tiny ranges
            }
            // Few statuses per round, so that merges happen often.
            BlockStatus st = statuses[rng() % (round % 2 == 0 ? 2 : 5)];
            m.set(pos, len, st);
            std::fill_n(model.begin() + static_cast<std::ptrdiff_t>(pos), len, st);
            ASSERT_EQ(m.ranges(), compress(model)) << "round " << round << " op " << op;
        }
        for (std::uint64_t i = 0; i < size; i += 7) {
            EXPECT_EQ(m.status_at(i), model[i]);
        }
    }
}

TEST(Mapfile, ZeroSizedDeviceHasNoRanges) {
    Mapfile m(0);
    EXPECT_TRUE(m.ranges().empty());
    EXPECT_EQ(m.device_size(), 0u);
    m.set(0, 0, F);
    EXPECT_TRUE(m.ranges().empty());
    EXPECT_THROW(m.set(0, 1, F), std::out_of_range);
    EXPECT_THROW((void)m.status_at(0), std::out_of_range);
}

TEST(Mapfile, OutOfRangeIsRejectedAndChangesNothing) {
    Mapfile m(100);
    m.set(10, 10, F);
    const auto before = m.ranges();
    EXPECT_THROW(m.set(95, 6, F), std::out_of_range);
    EXPECT_THROW(m.set(101, 0, F), std::out_of_range);
    EXPECT_THROW(m.set(50, UINT64_MAX, F), std::out_of_range);
    EXPECT_THROW(m.set(UINT64_MAX, 2, F), std::out_of_range);
    EXPECT_THROW((void)m.status_at(100), std::out_of_range);
    EXPECT_NO_THROW(m.set(100, 0, F));
    EXPECT_NO_THROW(m.set(99, 1, B));
    EXPECT_EQ(m.status_at(99), B);
    EXPECT_EQ(m.status_at(0), Q);
    EXPECT_EQ(m.status_at(10), F);
    EXPECT_EQ(m.status_at(19), F);
    EXPECT_EQ(m.status_at(20), Q);
    EXPECT_EQ(std::vector<MapRange>(before.begin(), before.begin() + 2),
              std::vector<MapRange>(m.ranges().begin(), m.ranges().begin() + 2));
}

TEST(Mapfile, RangesWithAndBytesWith) {
    Mapfile m(1000);
    m.set(0, 100, F);
    m.set(100, 10, B);
    m.set(110, 200, F);
    m.set(500, 20, B);
    m.set(600, 50, S);
    EXPECT_EQ(m.ranges_with(B), (std::vector<MapRange>{{100, 10, B}, {500, 20, B}}));
    EXPECT_EQ(m.ranges_with(T), std::vector<MapRange>{});
    EXPECT_EQ(m.bytes_with(F), 300u);
    EXPECT_EQ(m.bytes_with(B), 30u);
    EXPECT_EQ(m.bytes_with(S), 50u);
    EXPECT_EQ(m.bytes_with(T), 0u);
    EXPECT_EQ(m.bytes_with(Q), 1000u - 300 - 30 - 50);
}

// Not a benchmark: ten times the sets take about ten times as long, not a hundred (a quadratic
// set()). A ratio, with room for a stall, holds on a loaded machine and under ASan.
TEST(Mapfile, MillionSequentialSetsAreFast) {
    constexpr std::uint64_t block = 64 * 1024;
    auto sets = [&](std::uint64_t blocks) {
        Mapfile m(blocks * block + 12345);
        // A few damaged zones behind the sweep, as on a real disc.
        m.set(0, block, F);
        m.set(block, block, B);
        auto start = std::chrono::steady_clock::now();
        for (std::uint64_t i = 2; i < blocks; ++i) {
            m.set(i * block, block, (i % 100'000 == 0) ? B : F);
        }
        return std::pair{std::move(m), std::chrono::steady_clock::now() - start};
    };
    constexpr std::uint64_t blocks = 1'000'000;
    auto [small_map, small] = sets(blocks / 10);
    auto [m, elapsed] = sets(blocks);
    EXPECT_LT(elapsed, 30 * small + std::chrono::seconds(2))
        << "100k sets: " << std::chrono::duration<double>(small).count()
        << " s, 1M sets: " << std::chrono::duration<double>(elapsed).count() << " s";
    expect_well_formed(m);
    EXPECT_EQ(m.ranges_with(B).size(), 10u);
    EXPECT_EQ(m.ranges().back(), (MapRange{blocks * block, 12345, Q}));
}

// ---- text format ----

TEST(Mapfile, ToStringIsDdrescueFormat) {
    Mapfile m(0x400000);
    m.set(0, 0x117000, F);
    m.set(0x117000, 0x200, B);
    m.set(0x117200, 0x1000, S);
    m.set(0x118200, 0x7E00, T);
    m.current_pos = 0x120000;
    m.phase = Phase::copying;
    m.pass = 2;
    EXPECT_EQ(m.to_string(),
              "# Mapfile. Created by freemkvd\n"
              "# Command line: freemkvd\n"
              "# current_pos  current_status  current_pass\n"
              "0x00120000     ?               2\n"
              "#      pos        size  status\n"
              "0x00000000  0x00117000  +\n"
              "0x00117000  0x00000200  -\n"
              "0x00117200  0x00001000  /\n"
              "0x00118200  0x00007E00  *\n"
              "0x00120000  0x002E0000  ?\n");
    Mapfile big(0x1234567890ULL);
    EXPECT_NE(big.to_string().find("\n0x00000000  0x1234567890  ?\n"), std::string::npos);
}

TEST(Mapfile, RoundTripsThroughText) {
    std::mt19937_64 rng(11);
    const std::array<Phase, 7> phases = {Phase::copying,  Phase::trimming, Phase::scraping,
                                         Phase::retrying, Phase::filling,  Phase::generating,
                                         Phase::finished};
    for (int round = 0; round < 20; ++round) {
        Mapfile m(50'000'000'000ULL + rng() % 1000);
        for (int i = 0; i < 100; ++i) {
            std::uint64_t pos = rng() % m.device_size();
            std::uint64_t len =
                std::min<std::uint64_t>(1 + rng() % 10'000'000, m.device_size() - pos);
            m.set(pos, len, static_cast<BlockStatus>("?*/-+"[rng() % 5]));
        }
        m.current_pos = rng() % m.device_size();
        m.phase = phases[static_cast<std::size_t>(round) % phases.size()];
        m.pass = 1 + round;
        Mapfile back = Mapfile::parse(m.to_string(), "roundtrip.map");
        EXPECT_EQ(back.ranges(), m.ranges());
        EXPECT_EQ(back.device_size(), m.device_size());
        EXPECT_EQ(back.current_pos, m.current_pos);
        EXPECT_EQ(back.phase, m.phase);
        EXPECT_EQ(back.pass, m.pass);
        EXPECT_EQ(back.to_string(), m.to_string());
    }
}

TEST(Mapfile, ParsesTheManualsExample) {
    // From "Mapfile structure" in the ddrescue manual; every block status appears.
    const char* text =
        "# Mapfile. Created by GNU ddrescue version 1.27\n"
        "# Command line: ddrescue -d -c18 /dev/fd0 fdimage mapfile\n"
        "# Start time:   2015-07-21 09:37:44\n"
        "# Current time: 2015-07-21 09:38:19\n"
        "# Copying non-tried blocks... Pass 1 (forwards)\n"
        "# current_pos  current_status  current_pass\n"
        "0x00120000     ?               1\n"
        "#      pos        size  status\n"
        "0x00000000  0x00117000  +\n"
        "0x00117000  0x00000200  -\n"
        "0x00117200  0x00001000  /\n"
        "0x00118200  0x00007E00  *\n"
        "0x00120000  0x00048000  ?\n";
    Mapfile m = Mapfile::parse(text, "manual.map");
    EXPECT_EQ(m.current_pos, 0x120000u);
    EXPECT_EQ(m.phase, Phase::copying);
    EXPECT_EQ(m.pass, 1);
    EXPECT_EQ(m.device_size(), 0x168000u);
    EXPECT_EQ(m.ranges(), (std::vector<MapRange>{{0, 0x117000, F},
                                                 {0x117000, 0x200, B},
                                                 {0x117200, 0x1000, S},
                                                 {0x118200, 0x7E00, T},
                                                 {0x120000, 0x48000, Q}}));
}

TEST(Mapfile, ParsesOlderAndHandEditedFiles) {
    // Before ddrescue 1.20 (when it was a "logfile") there was no current_pass.
    Mapfile old = Mapfile::parse(
        "# Rescue Logfile. Created by GNU ddrescue version 1.16\n"
        "# current_pos  current_status\n"
        "0x7FFF0000     -\n"
        "#      pos        size  status\n"
        "0x00000000  0x7FFF0000  +\n"
        "0x7FFF0000  0x00010000  -\n",
        "old.log");
    EXPECT_EQ(old.phase, Phase::retrying);
    EXPECT_EQ(old.pass, 1);
    EXPECT_EQ(old.ranges(), (std::vector<MapRange>{{0, 0x7FFF0000, F}, {0x7FFF0000, 0x10000, B}}));

    // Decimal, octal and lowercase hex; blank lines, indentation, trailing comments, CRLF;
    // adjacent blocks with the same status are merged.
    Mapfile edited = Mapfile::parse(
        "\n"
        "   # hand edited\r\n"
        "4096 F 3 # filling\r\n"
        "0 010 +\r\n"
        "\t8 0x7f8 + # same status as before: merged\n"
        "0x800\t2048 *\n"
        "\n"
        "4096 1 -\n"
        "4097 0X0fff /",
        "edited.map");
    EXPECT_EQ(edited.current_pos, 4096u);
    EXPECT_EQ(edited.phase, Phase::filling);
    EXPECT_EQ(edited.pass, 3);
    EXPECT_EQ(edited.ranges(), (std::vector<MapRange>{
                                   {0, 2048, F}, {2048, 2048, T}, {4096, 1, B}, {4097, 4095, S}}));

    // Only a status line: ddrescue writes this before it knows the input size.
    Mapfile empty = Mapfile::parse("0 G 1\n", "empty.map");
    EXPECT_EQ(empty.phase, Phase::generating);
    EXPECT_EQ(empty.device_size(), 0u);
    EXPECT_TRUE(empty.ranges().empty());
}

struct BadCase {
    const char* name;
    const char* text;
    std::size_t line;
    const char* problem;  // a part of the message
};

TEST(Mapfile, RejectsMalformedFilesNamingFileAndLine) {
    const std::vector<BadCase> cases = {
        {"empty file", "", 1, "missing status line"},
        {"only comments", "# a\n# b\n", 2, "missing status line"},
        {"garbage",
         "\x7f"
         "ELF\x02\x01\n",
         1, "bad status line"},
        {"text", "# x\nhello world\n", 2, "bad status line"},
        {"unknown phase", "0 X 1\n0 16 +\n", 1, "bad status line"},
        {"pass zero", "0 ? 0\n", 1, "bad status line"},
        {"pass in hex", "0 ? 0x1\n", 1, "bad status line"},
        {"status line too long", "0 ? 1 2\n", 1, "bad status line"},
        {"unknown block status", "0 + 1\n0 16 x\n", 2, "unknown block status 'x'"},
        {"phase char as block status", "0 + 1\n0 16 F\n", 2, "unknown block status 'F'"},
        {"comment glued to status", "0 + 1\n0 16 +#c\n", 2, "unknown block status '+#c'"},
        {"missing field", "0 + 1\n0 16\n", 2, "bad block line"},
        {"extra field", "0 + 1\n0 16 + junk\n", 2, "bad block line"},
        {"negative size", "0 + 1\n0 -16 +\n", 2, "bad block line"},
        {"bad octal", "0 + 1\n0 09 +\n", 2, "bad block line"},
        {"bad hex", "0 + 1\n0 0x +\n", 2, "bad block line"},
        {"too big for ddrescue", "0 + 1\n0 0x8000000000000000 +\n", 2, "bad block line"},
        {"sum too big", "0 + 1\n0 0x10 +\n0x10 0x7FFFFFFFFFFFFFFF +\n", 3, "bad block size"},
        {"zero size", "0 + 1\n0 16 +\n16 0 -\n", 3, "bad block size"},
        {"not starting at 0", "0 + 1\n16 16 +\n", 2, "gap"},
        {"gap", "0 + 1\n\n0 16 +\n32 16 -\n", 4, "gap"},
        {"overlap", "0 + 1\n0 16 +\n8 16 -\n", 3, "overlap"},
        {"out of order", "0 + 1\n0 16 +\n16 16 -\n0 16 *\n", 4, "overlap"},
    };
    for (const BadCase& c : cases) {
        try {
            (void)Mapfile::parse(c.text, "dir/bad.map");
            ADD_FAILURE() << c.name << ": accepted";
        } catch (const MapfileError& e) {
            EXPECT_EQ(e.file(), "dir/bad.map") << c.name;
            EXPECT_EQ(e.line(), c.line) << c.name << ": " << e.what();
            std::string prefix = "dir/bad.map:" + std::to_string(c.line) + ": ";
            EXPECT_EQ(std::string(e.what()).rfind(prefix, 0), 0u) << c.name << ": " << e.what();
            EXPECT_NE(std::string(e.what()).find(c.problem), std::string::npos)
                << c.name << ": " << e.what();
        }
    }
}

// ---- files ----

TEST(Mapfile, SaveIsAtomicAndReplaces) {
    TempDir dir;
    const auto path = dir / "disc.map";
    write_text(path, "an older mapfile\n");
    Mapfile m(10 * sector);
    m.set(sector, sector, B);
    m.phase = Phase::retrying;
    m.save(path);
    EXPECT_EQ(read_text(path), m.to_string());
    EXPECT_FALSE(std::filesystem::exists(dir / "disc.map.tmp"));
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);

    m.set(0, 10 * sector, F);
    m.save(path);
    Mapfile back = Mapfile::load(path);
    EXPECT_EQ(back.ranges(), m.ranges());
    EXPECT_EQ(back.phase, Phase::retrying);
    EXPECT_FALSE(std::filesystem::exists(dir / "disc.map.tmp"));
}

TEST(Mapfile, SaveErrorsAreIoErrorsAndLeaveNoTemporary) {
    TempDir dir;
    Mapfile m(100);
    try {
        m.save(dir / "missing" / "disc.map");
        FAIL() << "saved into a missing directory";
    } catch (const IoError& e) {
        EXPECT_EQ(e.code().value(), ENOENT);
        EXPECT_EQ(e.path(), dir / "missing" / "disc.map.tmp");
    }
    // A directory in the way of the rename.
    std::filesystem::create_directory(dir / "taken.map");
    std::filesystem::create_directory(dir / "taken.map" / "child");
    EXPECT_THROW(m.save(dir / "taken.map"), IoError);
    EXPECT_FALSE(std::filesystem::exists(dir / "taken.map.tmp"));
}

// Reading the file back cannot show that it was synced; the calls can.
TEST(Mapfile, SaveSyncsTheTemporaryThenRenamesItThenSyncsTheDirectory) {
    TempDir dir;
    std::filesystem::create_directory(dir / "lib");
    test::RecordingFileSystem fs(dir.path());
    Mapfile m(10 * sector);
    m.set(0, sector, F);
    m.save(dir / "lib" / "disc.map", fs);
    m.set(sector, sector, F);
    m.save(dir / "lib" / "disc.map", fs);
    const std::vector<std::string> one_save{"sync_file lib/disc.map.tmp",
                                            "rename lib/disc.map.tmp -> lib/disc.map",
                                            "sync_directory lib"};
    std::vector<std::string> two_saves = one_save;
    two_saves.insert(two_saves.end(), one_save.begin(), one_save.end());
    EXPECT_EQ(fs.calls(), two_saves);
    EXPECT_EQ(Mapfile::load(dir / "lib" / "disc.map").ranges(), m.ranges());
}

TEST(Mapfile, LoadErrors) {
    TempDir dir;
    EXPECT_THROW(Mapfile::load(dir / "absent.map"), IoError);
    write_text(dir / "gap.map", "# c\n0 + 1\n0 16 +\n32 16 -\n");
    try {
        (void)Mapfile::load(dir / "gap.map");
        FAIL() << "accepted a gap";
    } catch (const MapfileError& e) {
        EXPECT_EQ(e.line(), 4u);
        EXPECT_EQ(std::string(e.what()).rfind((dir / "gap.map").string() + ":4: ", 0), 0u)
            << e.what();
    }
}

// ---- agreement with GNU ddrescue ----

// The 2048-byte sectors ddrescuelog lists with the given status characters.
std::vector<std::uint64_t> ddrescuelog_sectors(const std::filesystem::path& map, char status) {
    std::istringstream in(
        run("ddrescuelog -b 2048 --list-blocks='" + std::string(1, status) + "' " + quoted(map)));
    std::vector<std::uint64_t> out;
    for (std::uint64_t n; in >> n;) {
        out.push_back(n);
    }
    return out;
}

std::vector<std::uint64_t> our_sectors(const Mapfile& m, BlockStatus status) {
    std::vector<std::uint64_t> out;
    for (const MapRange& r : m.ranges_with(status)) {
        EXPECT_EQ(r.pos % sector, 0u);
        EXPECT_EQ(r.size % sector, 0u);
        for (std::uint64_t s = r.pos / sector; s < r.end() / sector; ++s) {
            out.push_back(s);
        }
    }
    return out;
}

void expect_same_blocks_as_ddrescuelog(const Mapfile& m, const std::filesystem::path& map) {
    for (BlockStatus st : {Q, T, S, B, F}) {
        EXPECT_EQ(our_sectors(m, st), ddrescuelog_sectors(map, static_cast<char>(st)))
            << "status " << static_cast<char>(st) << " in " << map;
    }
}

struct Summary {
    double bytes;
    std::uint64_t areas;
};

// ddrescuelog -t's summary lines ("   bad-sector:   6144 B,  in   2 area(s)  (0.15%)").
std::map<std::string, Summary> ddrescuelog_summary(const std::filesystem::path& map) {
    const std::string out = run("ddrescuelog -t -B " + quoted(map));
    const std::regex line(
        R"((non-tried|rescued|non-trimmed|non-scraped|bad-sector): +([0-9.]+) ([KMGT]i)?B, +in +([0-9]+) area)");
    const std::map<std::string, double> units = {
        {"", 1}, {"Ki", 1024.0}, {"Mi", 1024.0 * 1024}, {"Gi", 1024.0 * 1024 * 1024}};
    std::map<std::string, Summary> result;
    for (std::sregex_iterator it(out.begin(), out.end(), line), end; it != end; ++it) {
        const auto& mt = *it;
        result[mt[1]] = {std::stod(mt[2]) * units.at(mt[3]), std::stoull(mt[4])};
    }
    EXPECT_EQ(result.size(), 5u) << out;
    return result;
}

void expect_same_summary_as_ddrescuelog(const Mapfile& m, const std::filesystem::path& map) {
    const std::map<std::string, BlockStatus> names = {{"non-tried", Q},
                                                      {"rescued", F},
                                                      {"non-trimmed", T},
                                                      {"non-scraped", S},
                                                      {"bad-sector", B}};
    const auto summary = ddrescuelog_summary(map);
    for (const auto& [name, st] : names) {
        ASSERT_TRUE(summary.count(name)) << name;
        const Summary& s = summary.at(name);
        EXPECT_EQ(s.areas, m.ranges_with(st).size()) << name;
        // The summary rounds to a few digits.
        EXPECT_NEAR(s.bytes, static_cast<double>(m.bytes_with(st)),
                    static_cast<double>(m.bytes_with(st)) * 0.002)
            << name;
    }
}

class WithDdrescue : public ::testing::Test {
  protected:
    void SetUp() override {
        REQUIRE_DDRESCUE();
        auto data = test::random_bytes(4 * 1024 * 1024, 5);
        std::ofstream out(src_, std::ios::binary);
        out.write(reinterpret_cast<const char*>(data.data()),
                  static_cast<std::streamsize>(data.size()));
        ASSERT_TRUE(out.good());
    }

    // Runs ddrescue on src with 2048-byte sectors and returns the mapfile it wrote.
    std::filesystem::path rescue(const std::string& options, const std::string& name) {
        const auto map = dir_ / name;
        run("ddrescue -q -b 2048 " + options + " " + quoted(src_) + " " +
            quoted(dir_ / (name + ".img")) + " " + quoted(map));
        return map;
    }

    TempDir dir_;
    std::filesystem::path src_ = dir_ / "src";
};

TEST_F(WithDdrescue, ParsesACleanCopy) {
    Mapfile m = Mapfile::load(rescue("", "clean.map"));
    EXPECT_EQ(m.ranges(), (std::vector<MapRange>{{0, 4 * 1024 * 1024, F}}));
    EXPECT_EQ(m.phase, Phase::finished);
    EXPECT_EQ(m.pass, 1);
}

TEST_F(WithDdrescue, ParsesRescuesWithErrors) {
    // ddrescue's test mode (-H) fails reads outside the finished blocks of a mapfile: ours.
    Mapfile damage(4 * 1024 * 1024);
    damage.set(0, damage.device_size(), F);
    damage.set(0x100000, 0x10000, B);
    damage.set(0x190000, 0x800, B);
    damage.phase = Phase::finished;
    damage.save(dir_ / "damage.map");

    // No scraping leaves non-scraped blocks, no trimming non-trimmed ones, a size limit leaves
    // the rest non-tried.
    std::map<BlockStatus, std::uint64_t> seen;
    for (const std::string opts : {"-n -c 64 -s 3Mi", "-N -c 64 -s 3Mi", "-r 1", "-n -c 1"}) {
        SCOPED_TRACE(opts);
        const auto map = rescue(opts + " -H " + quoted(dir_ / "damage.map"), "rescue.map");
        Mapfile m = Mapfile::load(map);
        expect_well_formed(m);
        EXPECT_EQ(m.device_size(), damage.device_size());
        expect_same_blocks_as_ddrescuelog(m, map);
        for (BlockStatus st : {Q, T, S, B, F}) {
            seen[st] += m.bytes_with(st);
        }
        // Saved again, it is a mapfile ddrescuelog considers identical (-p exits 1 otherwise).
        m.save(dir_ / "ours.map");
        EXPECT_NO_THROW(run("ddrescuelog -p " + quoted(map) + " " + quoted(dir_ / "ours.map")));
        std::filesystem::remove(map);
    }
    for (BlockStatus st : {Q, T, S, B, F}) {
        EXPECT_GT(seen[st], 0u) << "no ddrescue run produced " << static_cast<char>(st);
    }
}

TEST_F(WithDdrescue, DdrescuelogAgreesWithOurFiles) {
    std::mt19937_64 rng(3);
    const std::uint64_t sectors = 50'000;
    for (int round = 0; round < 5; ++round) {
        SCOPED_TRACE(round);
        Mapfile m(sectors * sector);
        for (int i = 0; i < 60; ++i) {
            std::uint64_t first = rng() % sectors;
            std::uint64_t count = std::min<std::uint64_t>(1 + rng() % 500, sectors - first);
            m.set(first * sector, count * sector, static_cast<BlockStatus>("?*/-+"[rng() % 5]));
        }
        m.current_pos = (rng() % sectors) * sector;
        m.phase = static_cast<Phase>("?*/-FG+"[round]);
        m.pass = round + 1;
        const auto path = dir_ / "ours.map";
        m.save(path);
        expect_same_summary_as_ddrescuelog(m, path);
        expect_same_blocks_as_ddrescuelog(m, path);
    }
}

TEST_F(WithDdrescue, DdrescueResumesFromOurFile) {
    // The rip engine copied the first half and found a bad sector; ddrescue finishes the job.
    Mapfile m(4 * 1024 * 1024);
    m.set(0, 2 * 1024 * 1024, F);
    m.set(0x1000, sector, B);
    m.current_pos = 2 * 1024 * 1024;
    const auto path = dir_ / "resume.map";
    m.save(path);
    rescue("-r 1", "resume.map");
    // ddrescue read only what our map left to do: the rest of the image is a hole of zeros.
    const auto src = test::read_file(src_);
    const auto img = test::read_file(dir_ / "resume.map.img");
    ASSERT_EQ(img.size(), src.size());
    for (std::size_t i = 0; i < img.size(); i += sector) {
        const bool copied = i >= 2 * 1024 * 1024 || i == 0x1000;
        const bool zero = std::all_of(img.begin() + static_cast<std::ptrdiff_t>(i),
                                      img.begin() + static_cast<std::ptrdiff_t>(i + sector),
                                      [](std::byte b) { return b == std::byte{0}; });
        ASSERT_EQ(copied, !zero) << "sector at " << i;
        if (copied) {
            ASSERT_TRUE(std::equal(img.begin() + static_cast<std::ptrdiff_t>(i),
                                   img.begin() + static_cast<std::ptrdiff_t>(i + sector),
                                   src.begin() + static_cast<std::ptrdiff_t>(i)))
                << "sector at " << i;
        }
    }
    Mapfile done = Mapfile::load(path);
    EXPECT_EQ(done.ranges(), (std::vector<MapRange>{{0, 4 * 1024 * 1024, F}}));
    EXPECT_EQ(done.phase, Phase::finished);
}

}  // namespace
}  // namespace freemkv
