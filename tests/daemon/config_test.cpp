#include "config.hpp"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <set>
#include <string>

#include <toml++/toml.h>

#include "support/test_support.hpp"

namespace freemkv {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

const fs::path default_file = FREEMKV_DEFAULT_CONFIG;

void expect_same(const Config& a, const Config& b) {
    EXPECT_EQ(a.jobs.library, b.jobs.library);
    EXPECT_EQ(a.jobs.naming.pattern, b.jobs.naming.pattern);
    EXPECT_EQ(a.jobs.naming.on_exists, b.jobs.naming.on_exists);
    EXPECT_EQ(a.jobs.state_dir, b.jobs.state_dir);
    EXPECT_EQ(a.jobs.ecc_sectors, b.jobs.ecc_sectors);
    EXPECT_EQ(a.jobs.rip.retries, b.jobs.rip.retries);
    EXPECT_EQ(a.jobs.rip.repair_budget, b.jobs.rip.repair_budget);
    EXPECT_EQ(a.jobs.rip.checkpoint_interval, b.jobs.rip.checkpoint_interval);
    EXPECT_EQ(a.jobs.rip.writeback.kind, b.jobs.rip.writeback.kind);
    EXPECT_EQ(a.jobs.rip.writeback.start_bytes, b.jobs.rip.writeback.start_bytes);
    EXPECT_EQ(a.jobs.rip.writeback.min_bytes, b.jobs.rip.writeback.min_bytes);
    EXPECT_EQ(a.jobs.rip.writeback.max_bytes, b.jobs.rip.writeback.max_bytes);
    EXPECT_EQ(a.jobs.rip.writeback.grow_above, b.jobs.rip.writeback.grow_above);
    EXPECT_EQ(a.jobs.rip.writeback.shrink_below, b.jobs.rip.writeback.shrink_below);
    EXPECT_EQ(a.jobs.rip.buffer.buffer_bytes, b.jobs.rip.buffer.buffer_bytes);
    EXPECT_EQ(a.jobs.rip.buffer.block_bytes, b.jobs.rip.buffer.block_bytes);
    EXPECT_EQ(a.jobs.max_parallel, b.jobs.max_parallel);
    EXPECT_EQ(a.jobs.max_extract, b.jobs.max_extract);
    EXPECT_EQ(a.jobs.video.titles, b.jobs.video.titles);
    EXPECT_EQ(a.jobs.video.min_length, b.jobs.video.min_length);
    EXPECT_EQ(a.jobs.video.keep_image, b.jobs.video.keep_image);
    EXPECT_EQ(a.history, b.history);
    EXPECT_EQ(a.drives.auto_rip, b.drives.auto_rip);
    EXPECT_EQ(a.drives.eject_when_done, b.drives.eject_when_done);
    EXPECT_EQ(a.drives.watch, b.drives.watch);
    EXPECT_EQ(a.drives.ignore, b.drives.ignore);
    EXPECT_EQ(a.import_folders, b.import_folders);
    EXPECT_EQ(a.jobs.audio.paranoia, b.jobs.audio.paranoia);
    EXPECT_EQ(a.jobs.audio.retries, b.jobs.audio.retries);
    EXPECT_EQ(a.jobs.audio.read_offset, b.jobs.audio.read_offset);
    EXPECT_EQ(a.jobs.audio.drive_offsets, b.jobs.audio.drive_offsets);
    EXPECT_EQ(a.jobs.audio.flac_level, b.jobs.audio.flac_level);
    EXPECT_EQ(a.jobs.audio.naming, b.jobs.audio.naming);
    EXPECT_EQ(a.jobs.audio.album_naming, b.jobs.audio.album_naming);
    EXPECT_EQ(a.jobs.audio.musicbrainz, b.jobs.audio.musicbrainz);
    EXPECT_EQ(a.jobs.audio.musicbrainz_url, b.jobs.audio.musicbrainz_url);
    EXPECT_EQ(a.jobs.audio.accuraterip, b.jobs.audio.accuraterip);
    EXPECT_EQ(a.jobs.audio.accuraterip_url, b.jobs.audio.accuraterip_url);
}

TEST(DefaultFile, ParsesToTheBuiltInDefaults) {
    SCOPED_TRACE(default_file.string());
    expect_same(load_config(default_file), Config{});
}

// The shipped file documents every key: it sets each one (to its default).
TEST(DefaultFile, SetsEveryKey) {
    toml::table root = toml::parse_file(default_file.string());
    std::set<std::string> keys;
    for (const auto& [table, node] : root) {
        ASSERT_TRUE(node.is_table()) << table;
        for (const auto& [key, value] : *node.as_table()) {
            keys.insert(std::string(table.str()) + "." + std::string(key.str()));
        }
    }
    std::set<std::string> expected = {
        "library.path",           "library.naming",
        "library.on_exists",      "state.dir",
        "rip.ecc_sectors",        "rip.retries",
        "rip.repair_budget",      "rip.checkpoint_interval",
        "writeback.policy",       "writeback.start_chunk",
        "writeback.min_chunk",    "writeback.max_chunk",
        "writeback.buffer",       "queue.max_parallel",
        "queue.history",          "drives.auto_rip",
        "drives.eject_when_done", "drives.watch",
        "drives.ignore",          "images.import_folders",
        "queue.max_extract",      "video.titles",
        "video.min_length",       "video.keep_image",
        "library.main_title",     "library.extra_title",
        "audio.paranoia",         "audio.retries",
        "audio.read_offset",      "audio.drive_offsets",
        "audio.flac_level",       "audio.naming",
        "audio.album_naming",     "audio.musicbrainz",
        "audio.musicbrainz_url",  "audio.accuraterip",
        "audio.accuraterip_url",
    };
    EXPECT_EQ(keys, expected);
}

// The parser's key table and the shipped file agree: each key the parser knows is documented
// there, and each has a description for --help-config.
TEST(DefaultFile, DocumentsEveryKeyOfTheTable) {
    toml::table root = toml::parse_file(default_file.string());
    std::set<std::string> in_file;
    for (const auto& [table, node] : root) {
        for (const auto& [key, value] : *node.as_table()) {
            in_file.insert(std::string(table.str()) + "." + std::string(key.str()));
        }
    }
    std::set<std::string> in_table;
    for (const ConfigKey& key : config_keys()) {
        EXPECT_TRUE(in_table.insert(std::string(key.name)).second) << key.name << " twice";
        EXPECT_FALSE(key.doc.empty()) << key.name;
    }
    EXPECT_EQ(in_table, in_file);
}

TEST(ParseConfig, EmptyTextGivesTheDefaults) {
    expect_same(parse_config("", "test.toml"), Config{});
    expect_same(parse_config("# nothing\n\n[library]\n[drives]\n", "test.toml"), Config{});
}

struct GoodCase {
    const char* name;
    std::string toml;
    std::function<void(const Config&)> check;
};

class GoodConfig : public testing::TestWithParam<GoodCase> {};

TEST_P(GoodConfig, Parses) {
    GetParam().check(parse_config(GetParam().toml, "test.toml"));
}

INSTANTIATE_TEST_SUITE_P(
    Configs, GoodConfig,
    testing::Values(
        GoodCase{"Library",
                 "[library]\npath = \"/srv/media/discs\"\nnaming = \"{type}/{date} {label}\"\n"
                 "on_exists = \"fail\"\n",
                 [](const Config& c) {
                     EXPECT_EQ(c.jobs.library, "/srv/media/discs");
                     EXPECT_EQ(c.jobs.naming.pattern, "{type}/{date} {label}");
                     EXPECT_EQ(c.jobs.naming.on_exists, OnExists::fail);
                 }},
        GoodCase{"InlineTable", "library = { path = \"/x\" }\nstate = { dir = \"/y\" }\n",
                 [](const Config& c) {
                     EXPECT_EQ(c.jobs.library, "/x");
                     EXPECT_EQ(c.jobs.state_dir, "/y");
                 }},
        GoodCase{"DottedKeys", "library.path = \"/x\"\nrip.retries = 7\n",
                 [](const Config& c) {
                     EXPECT_EQ(c.jobs.library, "/x");
                     EXPECT_EQ(c.jobs.rip.retries, 7u);
                 }},
        GoodCase{"Rip",
                 "[rip]\necc_sectors = 32\nretries = 0\nrepair_budget = \"1h\"\n"
                 "checkpoint_interval = \"90s\"\n",
                 [](const Config& c) {
                     EXPECT_EQ(c.jobs.ecc_sectors, 32u);
                     EXPECT_EQ(c.jobs.rip.retries, 0u);
                     EXPECT_EQ(c.jobs.rip.repair_budget, std::chrono::hours(1));
                     EXPECT_EQ(c.jobs.rip.checkpoint_interval, seconds(90));
                 }},
        GoodCase{"RipBounds",
                 "[rip]\necc_sectors = 1024\nretries = 100\nrepair_budget = \"0s\"\n"
                 "checkpoint_interval = \"1h\"\n",
                 [](const Config& c) {
                     EXPECT_EQ(c.jobs.ecc_sectors, 1024u);
                     EXPECT_EQ(c.jobs.rip.retries, 100u);
                     EXPECT_EQ(c.jobs.rip.repair_budget, seconds(0));
                     EXPECT_EQ(c.jobs.rip.checkpoint_interval, seconds(3600));
                 }},
        GoodCase{"DurationForms", "[rip]\nrepair_budget = 1234\ncheckpoint_interval = \"2 m\"\n",
                 [](const Config& c) {
                     EXPECT_EQ(c.jobs.rip.repair_budget, seconds(1234));
                     EXPECT_EQ(c.jobs.rip.checkpoint_interval, seconds(120));
                 }},
        GoodCase{"Writeback",
                 "[writeback]\npolicy = \"seed\"\nstart_chunk = \"8MiB\"\nmin_chunk = \"512 KiB\"\n"
                 "max_chunk = \"1 GiB\"\nbuffer = 16777216\n",
                 [](const Config& c) {
                     EXPECT_EQ(c.jobs.rip.writeback.kind, PolicyKind::seed);
                     EXPECT_EQ(c.jobs.rip.writeback.start_bytes, 8 * MiB);
                     EXPECT_EQ(c.jobs.rip.writeback.min_bytes, 512u * 1024);
                     EXPECT_EQ(c.jobs.rip.writeback.max_bytes, 1024 * MiB);
                     EXPECT_EQ(c.jobs.rip.buffer.buffer_bytes, 16 * MiB);
                 }},
        GoodCase{"SizeInBytes",
                 "[writeback]\npolicy = \"fixed\"\nstart_chunk = \"4096 B\"\n"
                 "min_chunk = 4096\n",
                 [](const Config& c) {
                     EXPECT_EQ(c.jobs.rip.writeback.kind, PolicyKind::fixed);
                     EXPECT_EQ(c.jobs.rip.writeback.start_bytes, 4096u);
                     EXPECT_EQ(c.jobs.rip.writeback.min_bytes, 4096u);
                 }},
        GoodCase{"StartClampedBelowMax", "[writeback]\nmax_chunk = \"16 MiB\"\n",
                 [](const Config& c) {
                     EXPECT_EQ(c.jobs.rip.writeback.max_bytes, 16 * MiB);
                     EXPECT_EQ(c.jobs.rip.writeback.start_bytes, 16 * MiB);
                 }},
        GoodCase{"StartClampedAboveMin", "[writeback]\nmin_chunk = \"64 MiB\"\n",
                 [](const Config& c) { EXPECT_EQ(c.jobs.rip.writeback.start_bytes, 64 * MiB); }},
        GoodCase{"Queue", "[queue]\nmax_parallel = 64\n",
                 [](const Config& c) { EXPECT_EQ(c.jobs.max_parallel, 64u); }},
        GoodCase{"MaxExtractBounds", "[queue]\nmax_extract = 64\n",
                 [](const Config& c) { EXPECT_EQ(c.jobs.max_extract, 64u); }},
        GoodCase{"MaxExtractOne", "[queue]\nmax_extract = 1\nmax_parallel = 3\n",
                 [](const Config& c) {
                     EXPECT_EQ(c.jobs.max_extract, 1u);
                     EXPECT_EQ(c.jobs.max_parallel, 3u);
                 }},
        GoodCase{"Video", "[video]\ntitles = \"all\"\nmin_length = \"90s\"\nkeep_image = true\n",
                 [](const Config& c) {
                     EXPECT_EQ(c.jobs.video.titles, TitleSelection::all);
                     EXPECT_EQ(c.jobs.video.min_length, std::chrono::seconds(90));
                     EXPECT_TRUE(c.jobs.video.keep_image);
                 }},
        GoodCase{"VideoBounds", "[video]\ntitles = \"main\"\nmin_length = 0\n",
                 [](const Config& c) {
                     EXPECT_EQ(c.jobs.video.titles, TitleSelection::main);
                     EXPECT_EQ(c.jobs.video.min_length, std::chrono::seconds(0));
                 }},
        GoodCase{"VideoLongest", "[video]\nmin_length = \"24h\"\n",
                 [](const Config& c) {
                     EXPECT_EQ(c.jobs.video.min_length, std::chrono::hours(24));
                     EXPECT_EQ(c.jobs.video.titles, TitleSelection::main) << "the default";
                 }},
        GoodCase{"Drives",
                 "[drives]\nauto_rip = false\neject_when_done = false\n"
                 "watch = [\n  \"/dev/sr*\",\n  \"/dev/disk/by-id/usb-*\",\n]\nignore = "
                 "[\"/dev/sr1\"]\n",
                 [](const Config& c) {
                     EXPECT_FALSE(c.drives.auto_rip);
                     EXPECT_FALSE(c.drives.eject_when_done);
                     EXPECT_EQ(c.drives.watch,
                               (std::vector<std::string>{"/dev/sr*", "/dev/disk/by-id/usb-*"}));
                     EXPECT_EQ(c.drives.ignore, std::vector<std::string>{"/dev/sr1"});
                 }},
        GoodCase{"Audio",
                 "[audio]\nparanoia = \"overlap\"\nretries = 5\nread_offset = -1164\n"
                 "drive_offsets = { \"PLEXTOR  DVDR PX-716A\" = 30, \"ASUS BW-16D1HT\" = 6 }\n"
                 "flac_level = 8\nnaming = \"{album}/{track} {title}\"\n"
                 "album_naming = \"{album}/{album}\"\nmusicbrainz = true\n"
                 "musicbrainz_url = \"http://127.0.0.1:8080/\"\naccuraterip = true\n"
                 "accuraterip_url = \"https://ar.example\"\n",
                 [](const Config& c) {
                     const AudioOptions& a = c.jobs.audio;
                     EXPECT_EQ(a.paranoia, ParanoiaMode::overlap);
                     EXPECT_EQ(a.retries, 5);
                     EXPECT_EQ(a.read_offset, -1164);
                     EXPECT_EQ(a.flac_level, 8);
                     EXPECT_EQ(a.naming, "{album}/{track} {title}");
                     EXPECT_EQ(a.album_naming, "{album}/{album}");
                     EXPECT_TRUE(a.musicbrainz);
                     EXPECT_EQ(a.musicbrainz_url, "http://127.0.0.1:8080/");
                     EXPECT_TRUE(a.accuraterip);
                     EXPECT_EQ(a.accuraterip_url, "https://ar.example");
                     // Found without regard to case or runs of spaces; others get read_offset.
                     EXPECT_EQ(read_offset_for(a, "plextor dvdr   px-716a"), 30);
                     EXPECT_EQ(read_offset_for(a, "ASUS BW-16D1HT"), 6);
                     EXPECT_EQ(read_offset_for(a, "HL-DT-ST BD-RE WH16NS40"), -1164);
                     EXPECT_EQ(read_offset_for(a, ""), 0);  // an image
                 }}),
    [](const auto& info) { return std::string(info.param.name); });

struct BadCase {
    const char* name;
    std::string toml;
    std::string error;  // the exact what()
};

class BadConfig : public testing::TestWithParam<BadCase> {};

TEST_P(BadConfig, GivesTheExactError) {
    try {
        parse_config(GetParam().toml, "test.toml");
        FAIL() << "accepted:\n" << GetParam().toml;
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.what(), GetParam().error);
        EXPECT_EQ(e.file(), "test.toml");
    }
}

// Every value of a key named in an error below is on the line the error gives.
INSTANTIATE_TEST_SUITE_P(
    Configs, BadConfig,
    testing::Values(
        // Tables and keys.
        BadCase{"TableTypo", "[libary]\npath = \"/x\"\n",
                "test.toml:1: libary: unknown table (did you mean 'library'?)"},
        BadCase{"TableTypoInline", "\n\nstat = { dir = \"/x\" }\n",
                "test.toml:3: stat: unknown table (did you mean 'state'?)"},
        BadCase{"UnknownTable", "[foo]\n",
                "test.toml:1: foo: unknown table (tables are library, state, rip, writeback, "
                "queue, drives, images, video, audio)"},
        BadCase{"KeyOutsideItsTable", "naming = \"{label}\"\n",
                "test.toml:1: naming: unknown key (did you mean 'library.naming'?)"},
        BadCase{"NotATable", "library = 3\n",
                "test.toml:1: library: expected a table, got integer"},
        BadCase{"KeyTypo", "[library]\npth = \"/x\"\n",
                "test.toml:2: library.pth: unknown key (did you mean 'path'?)"},
        BadCase{"KeyInTheWrongTable", "[library]\ndir = \"/x\"\n",
                "test.toml:2: library.dir: unknown key (did you mean 'state.dir'?)"},
        BadCase{"UnknownKey", "[rip]\n\nspeed = 4\n",
                "test.toml:3: rip.speed: unknown key (keys in [rip] are ecc_sectors, retries, "
                "repair_budget, checkpoint_interval)"},
        BadCase{"DottedKeyTypo", "library.pth = \"/x\"\n",
                "test.toml:1: library.pth: unknown key (did you mean 'path'?)"},
        BadCase{"SubTable", "[library.extra]\n",
                "test.toml:1: library.extra: unknown key (keys in [library] are path, naming, "
                "on_exists, main_title, extra_title)"},
        // [library]
        BadCase{"PathType", "[library]\npath = 3\n",
                "test.toml:2: library.path: expected a string, got integer"},
        BadCase{"PathArray", "[library]\npath = [\"/x\"]\n",
                "test.toml:2: library.path: expected a string, got array"},
        BadCase{"PathRelative", "[library]\npath = \"lib\"\n",
                "test.toml:2: library.path: must be an absolute path, got 'lib'"},
        BadCase{"PathEmpty", "[library]\npath = \"\"\n",
                "test.toml:2: library.path: must not be empty"},
        BadCase{"OnExistsTypo", "[library]\non_exists = \"numbr\"\n",
                "test.toml:2: library.on_exists: invalid value 'numbr' (did you mean 'number'? "
                "allowed: number, fail)"},
        BadCase{"OnExistsUnknown", "[library]\non_exists = \"overwrite\"\n",
                "test.toml:2: library.on_exists: invalid value 'overwrite' (allowed: number, "
                "fail)"},
        BadCase{"OnExistsType", "[library]\non_exists = true\n",
                "test.toml:2: library.on_exists: expected a string, got boolean"},
        BadCase{"NamingPlaceholderTypo", "[library]\nnaming = \"{lable}\"\n",
                "test.toml:2: library.naming: unknown placeholder '{lable}' (did you mean "
                "'{label}'?)"},
        BadCase{"NamingTraversal", "[library]\nnaming = \"../{label}\"\n",
                "test.toml:2: library.naming: template must not contain a '..' component"},
        BadCase{"NamingAbsolute", "[library]\nnaming = \"/srv/{label}\"\n",
                "test.toml:2: library.naming: template must be a relative path inside the "
                "library, not an absolute path"},
        BadCase{"NamingEmpty", "[library]\nnaming = \"\"\n",
                "test.toml:2: library.naming: template is empty"},
        BadCase{"NamingNul", "[library]\nnaming = \"{label}\\u0000\"\n",
                "test.toml:2: library.naming: template contains a NUL character at position 8"},
        BadCase{"MainTitleOutsideTheFolder", "[library]\nmain_title = \"{name}\"\n",
                "test.toml:2: library.main_title: title template '{name}': it names the folder, "
                "not a file in it"},
        BadCase{"ExtraTitlePlaceholderTypo", "[library]\nextra_title = \"{name}/{titel}\"\n",
                "test.toml:2: library.extra_title: title template '{name}/{titel}': unknown "
                "placeholder {titel}"},
        BadCase{"StateDirRelative", "[state]\ndir = \"state\"\n",
                "test.toml:2: state.dir: must be an absolute path, got 'state'"},
        // [rip]
        BadCase{"EccNotMultiple", "[rip]\necc_sectors = 20\n",
                "test.toml:2: rip.ecc_sectors: must be 0 (by disc type) or a multiple of 16 up "
                "to 1024, got 20"},
        BadCase{"EccTooLarge", "[rip]\necc_sectors = 2048\n",
                "test.toml:2: rip.ecc_sectors: must be 0 (by disc type) or a multiple of 16 up "
                "to 1024, got 2048"},
        BadCase{"EccNegative", "[rip]\necc_sectors = -16\n",
                "test.toml:2: rip.ecc_sectors: must be 0 (by disc type) or a multiple of 16 up "
                "to 1024, got -16"},
        BadCase{"RetriesTooMany", "[rip]\nretries = 101\n",
                "test.toml:2: rip.retries: must be between 0 and 100, got 101"},
        BadCase{"RetriesNegative", "[rip]\nretries = -1\n",
                "test.toml:2: rip.retries: must be between 0 and 100, got -1"},
        BadCase{"RetriesString", "[rip]\nretries = \"3\"\n",
                "test.toml:2: rip.retries: expected an integer, got string"},
        BadCase{"RetriesFloat", "[rip]\nretries = 3.0\n",
                "test.toml:2: rip.retries: expected an integer, got float"},
        BadCase{"DurationWords", "[rip]\nrepair_budget = \"10 minutes\"\n",
                "test.toml:2: rip.repair_budget: invalid duration '10 minutes' (use a number "
                "with s, m or h, e.g. \"90s\", \"10m\", \"1h\", or integer seconds)"},
        BadCase{"DurationNoUnit", "[rip]\nrepair_budget = \"600\"\n",
                "test.toml:2: rip.repair_budget: invalid duration '600' (use a number with s, m "
                "or h, e.g. \"90s\", \"10m\", \"1h\", or integer seconds)"},
        BadCase{"DurationTooLong", "[rip]\nrepair_budget = \"200h\"\n",
                "test.toml:2: rip.repair_budget: must be between 0s and 168h, got 200h"},
        BadCase{"DurationNegative", "[rip]\nrepair_budget = -5\n",
                "test.toml:2: rip.repair_budget: must not be negative, got -5"},
        BadCase{"DurationFloat", "[rip]\nrepair_budget = 1.5\n",
                "test.toml:2: rip.repair_budget: expected a duration (\"90s\", \"10m\", \"1h\" "
                "or integer seconds), got float"},
        BadCase{"CheckpointZero", "[rip]\ncheckpoint_interval = \"0s\"\n",
                "test.toml:2: rip.checkpoint_interval: must be between 1s and 1h, got 0s"},
        BadCase{"CheckpointTooLong", "[rip]\ncheckpoint_interval = 3601\n",
                "test.toml:2: rip.checkpoint_interval: must be between 1s and 1h, got 3601s"},
        // [writeback]
        BadCase{"PolicyTypo", "[writeback]\npolicy = \"balance\"\n",
                "test.toml:2: writeback.policy: invalid value 'balance' (did you mean "
                "'balanced'? allowed: balanced, seed, fixed)"},
        BadCase{"PolicyUnknown", "[writeback]\npolicy = \"adaptive\"\n",
                "test.toml:2: writeback.policy: invalid value 'adaptive' (allowed: balanced, "
                "seed, fixed)"},
        BadCase{"SizeDecimalUnit", "[writeback]\nstart_chunk = \"32MB\"\n",
                "test.toml:2: writeback.start_chunk: invalid size '32MB' (use a number with B, "
                "KiB, MiB or GiB, e.g. \"32 MiB\", or integer bytes)"},
        BadCase{"SizeFraction", "[writeback]\nstart_chunk = \"1.5 GiB\"\n",
                "test.toml:2: writeback.start_chunk: invalid size '1.5 GiB' (use a number with "
                "B, KiB, MiB or GiB, e.g. \"32 MiB\", or integer bytes)"},
        BadCase{"SizeOverflow", "[writeback]\nmax_chunk = \"99999999999999999999 GiB\"\n",
                "test.toml:2: writeback.max_chunk: invalid size '99999999999999999999 GiB' (use "
                "a number with B, KiB, MiB or GiB, e.g. \"32 MiB\", or integer bytes)"},
        BadCase{"SizeType", "[writeback]\nbuffer = true\n",
                "test.toml:2: writeback.buffer: expected a size (\"32 MiB\", \"1 GiB\" or "
                "integer bytes), got boolean"},
        BadCase{"ChunkNotAligned", "[writeback]\nstart_chunk = 5000\n",
                "test.toml:2: writeback.start_chunk: must be a multiple of 4 KiB, got 5000 "
                "bytes"},
        BadCase{"ChunkZero", "[writeback]\nmin_chunk = 0\n",
                "test.toml:2: writeback.min_chunk: must be at least 4 KiB, got 0 bytes"},
        BadCase{"ChunkNegative", "[writeback]\nmin_chunk = -4096\n",
                "test.toml:2: writeback.min_chunk: must not be negative, got -4096"},
        BadCase{"ChunkTooLarge", "[writeback]\nmax_chunk = \"8 GiB\"\n",
                "test.toml:2: writeback.max_chunk: must be at most 4 GiB, got 8 GiB"},
        BadCase{"MinAboveMax", "[writeback]\nmin_chunk = \"64 MiB\"\nmax_chunk = \"16 MiB\"\n",
                "test.toml:2: writeback.min_chunk: min chunk (67108864) exceeds max chunk "
                "(16777216)"},
        BadCase{"MaxBelowDefaultMin", "[writeback]\n\nmax_chunk = \"2 MiB\"\n",
                "test.toml:3: writeback.max_chunk: min chunk (4194304) exceeds max chunk "
                "(2097152)"},
        BadCase{"StartAboveMax", "[writeback]\nstart_chunk = \"512 MiB\"\n",
                "test.toml:2: writeback.start_chunk: start chunk (536870912) is outside "
                "[4194304, 268435456]"},
        BadCase{"StartBelowMin", "[writeback]\nmin_chunk = \"8 MiB\"\nstart_chunk = \"4 MiB\"\n",
                "test.toml:3: writeback.start_chunk: start chunk (4194304) is outside [8388608, "
                "268435456]"},
        BadCase{"BufferTooSmall", "[writeback]\nbuffer = \"1 MiB\"\n",
                "test.toml:2: writeback.buffer: buffer (1048576 bytes) must hold at least two "
                "blocks of 1048576 bytes"},
        BadCase{"BufferTooLarge", "[writeback]\nbuffer = \"5 GiB\"\n",
                "test.toml:2: writeback.buffer: must be at most 4 GiB, got 5 GiB"},
        // [queue] and [drives]
        BadCase{"ParallelZero", "[queue]\nmax_parallel = 0\n",
                "test.toml:2: queue.max_parallel: must be between 1 and 64, got 0"},
        BadCase{"ParallelTooMany", "[queue]\nmax_parallel = 65\n",
                "test.toml:2: queue.max_parallel: must be between 1 and 64, got 65"},
        BadCase{"MaxExtractZero", "[queue]\nmax_extract = 0\n",
                "test.toml:2: queue.max_extract: must be between 1 and 64, got 0"},
        BadCase{"MaxExtractTooMany", "[queue]\n\nmax_extract = 65\n",
                "test.toml:3: queue.max_extract: must be between 1 and 64, got 65"},
        BadCase{"MaxExtractType", "[queue]\nmax_extract = \"2\"\n",
                "test.toml:2: queue.max_extract: expected an integer, got string"},
        BadCase{"MaxExtractTypo", "[queue]\nmax_extrct = 2\n",
                "test.toml:2: queue.max_extrct: unknown key (did you mean 'max_extract'?)"},
        // [video]
        BadCase{"TitlesTypo", "[video]\ntitles = \"mian\"\n",
                "test.toml:2: video.titles: invalid value 'mian' (did you mean 'main'? allowed: "
                "main, all)"},
        BadCase{"TitlesUnknown", "[video]\ntitles = \"longest\"\n",
                "test.toml:2: video.titles: invalid value 'longest' (allowed: main, all)"},
        BadCase{"TitlesArray", "[video]\ntitles = [1, 3]\n",
                "test.toml:2: video.titles: expected a string, got array"},
        BadCase{"MinLengthTooLong", "[video]\nmin_length = \"25h\"\n",
                "test.toml:2: video.min_length: must be between 0s and 24h, got 25h"},
        BadCase{"MinLengthNegative", "[video]\nmin_length = -1\n",
                "test.toml:2: video.min_length: must not be negative, got -1"},
        BadCase{"MinLengthNoUnit", "[video]\nmin_length = \"2 minutes\"\n",
                "test.toml:2: video.min_length: invalid duration '2 minutes' (use a number with "
                "s, m or h, e.g. \"90s\", \"10m\", \"1h\", or integer seconds)"},
        BadCase{"KeepImageType", "[video]\nkeep_image = \"no\"\n",
                "test.toml:2: video.keep_image: expected a boolean, got string"},
        BadCase{"VideoKeyTypo", "[video]\nkeep_imag = true\n",
                "test.toml:2: video.keep_imag: unknown key (did you mean 'keep_image'?)"},
        BadCase{"VideoKeyElsewhere", "[queue]\nmin_length = \"2m\"\n",
                "test.toml:2: queue.min_length: unknown key (did you mean 'video.min_length'?)"},
        BadCase{"VideoTableTypo", "[vidoe]\ntitles = \"all\"\n",
                "test.toml:1: vidoe: unknown table (did you mean 'video'?)"},
        BadCase{"HistoryTooLong", "[queue]\nhistory = 10001\n",
                "test.toml:2: queue.history: must be between 0 and 10000, got 10001"},
        BadCase{"BoolAsString", "[drives]\nauto_rip = \"yes\"\n",
                "test.toml:2: drives.auto_rip: expected a boolean, got string"},
        BadCase{"BoolAsInteger", "[drives]\neject_when_done = 1\n",
                "test.toml:2: drives.eject_when_done: expected a boolean, got integer"},
        BadCase{"WatchNotArray", "[drives]\nwatch = \"/dev/sr*\"\n",
                "test.toml:2: drives.watch: expected an array of strings, got string"},
        BadCase{"WatchElementType", "[drives]\nwatch = [\"/dev/sr0\", 3]\n",
                "test.toml:2: drives.watch[1]: expected a string, got integer"},
        BadCase{"WatchNotUnderDev", "[drives]\nwatch = [\n  \"/dev/sr0\",\n  \"sr1\",\n]\n",
                "test.toml:4: drives.watch[1]: must be a device path or glob under /dev/, e.g. "
                "\"/dev/sr*\", got 'sr1'"},
        BadCase{"IgnoreBareDev", "[drives]\nignore = [\"/dev/\"]\n",
                "test.toml:2: drives.ignore[0]: must be a device path or glob under /dev/, e.g. "
                "\"/dev/sr*\", got '/dev/'"},
        // The first error in the file is the one reported, whatever the order of the keys.
        BadCase{"FirstTableInFile", "[rip]\nretries = 101\n[library]\npath = 3\n",
                "test.toml:2: rip.retries: must be between 0 and 100, got 101"},
        BadCase{"FirstKeyInFile", "[rip]\nretries = -1\necc_sectors = 3\n",
                "test.toml:2: rip.retries: must be between 0 and 100, got -1"},
        BadCase{"AudioParanoia", "[audio]\nparanoia = \"ful\"\n",
                "test.toml:2: audio.paranoia: invalid value 'ful' (did you mean 'full'? allowed: "
                "full, overlap, off)"},
        BadCase{"AudioRetries", "[audio]\nretries = 0\n",
                "test.toml:2: audio.retries: must be between 1 and 1000, got 0"},
        BadCase{"AudioOffset", "[audio]\nread_offset = 20000\n",
                "test.toml:2: audio.read_offset: must be between -10000 and 10000 samples, got "
                "20000"},
        BadCase{"AudioDriveOffsetType", "[audio]\ndrive_offsets = { \"X Y\" = \"30\" }\n",
                "test.toml:2: audio.drive_offsets.\"X Y\": expected an integer, got string"},
        BadCase{"AudioDriveOffsetsNotTable", "[audio]\ndrive_offsets = 30\n",
                "test.toml:2: audio.drive_offsets: expected a table such as { \"PLEXTOR DVDR "
                "PX-716A\" = 30 }, got integer"},
        BadCase{"AudioFlacLevel", "[audio]\nflac_level = 9\n",
                "test.toml:2: audio.flac_level: must be between 0 and 8, got 9"},
        BadCase{"AudioTrackOutsideAlbum", "[audio]\nnaming = \"{artist}/{track:02} - {title}\"\n",
                "test.toml:2: audio.naming: a track ('Artist/01 - Title.flac') must lie inside "
                "the album's folder ('Artist/Album', from album_naming)"},
        BadCase{"AudioTracksNotApart", "[audio]\nnaming = \"{artist}/{album}/{title}\"\n",
                "test.toml:2: audio.naming: naming must tell the tracks apart: use {track} or "
                "{track:02}, early enough that a long name does not cut it off"},
        BadCase{"AudioTrackNumberCutOff",
                "[audio]\nnaming = \"{artist}/{album}/{title} {album} {track}\"\n",
                "test.toml:2: audio.naming: naming must tell the tracks apart: use {track} or "
                "{track:02}, early enough that a long name does not cut it off"},
        BadCase{"AudioAlbumNamingBlamedWithBothSet",
                "[audio]\nnaming = \"{album}/{track} {title}\"\nalbum_naming = \"{album}\"\n",
                "test.toml:3: audio.album_naming: album_naming must name a folder for the album, "
                "e.g. \"{artist}/{album}/{album}\""},
        BadCase{"AudioAlbumInLibraryRoot", "[audio]\nalbum_naming = \"{album}\"\n",
                "test.toml:2: audio.album_naming: album_naming must name a folder for the album, "
                "e.g. \"{artist}/{album}/{album}\""},
        BadCase{"AudioUrl", "[audio]\nmusicbrainz_url = \"ftp://x\"\n",
                "test.toml:2: audio.musicbrainz_url: must be an http:// or https:// URL such as "
                "\"https://musicbrainz.org\", got 'ftp://x'"}),
    [](const auto& info) { return std::string(info.param.name); });

struct SyntaxCase {
    const char* name;
    std::string toml;
    unsigned line;
    unsigned column;
    std::string error;  // the exact what(), with toml++ 3.3's description
};

class SyntaxError : public testing::TestWithParam<SyntaxCase> {};

TEST_P(SyntaxError, GivesFileLineAndColumn) {
    const SyntaxCase& c = GetParam();
    try {
        parse_config(c.toml, "test.toml");
        FAIL() << "accepted:\n" << c.toml;
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.what(), c.error);
        EXPECT_EQ(e.line(), c.line);
        EXPECT_EQ(e.column(), c.column);
        EXPECT_EQ(e.key(), "");
    }
}

INSTANTIATE_TEST_SUITE_P(
    Syntax, SyntaxError,
    testing::Values(
        SyntaxCase{"UnclosedHeader", "\n[library\n", 2, 9,
                   "test.toml:2:9: Error while parsing table header: expected ']', saw '\\n'"},
        SyntaxCase{"UnclosedString", "[library]\npath = \"/x\n", 2, 11,
                   "test.toml:2:11: Error while parsing string: unescaped control characters "
                   "other than TAB (U+0009) are explicitly prohibited"},
        SyntaxCase{"DuplicateKey", "[rip]\nretries = 1\nretries = 2\n", 3, 11,
                   "test.toml:3:11: Error while parsing key-value pair: cannot redefine existing "
                   "integer 'retries'"},
        SyntaxCase{"DuplicateTable", "[rip]\n[rip]\n", 2, 1,
                   "test.toml:2:1: Error while parsing table header: cannot redefine existing "
                   "table 'rip'"},
        SyntaxCase{"MissingValue", "[rip]\nretries =\n", 2, 10,
                   "test.toml:2:10: Error while parsing key-value pair: expected value, saw '\\n'"},
        SyntaxCase{"NotUtf8", "[library]\npath = \"/\xff\"\n", 2, 9,
                   "test.toml:2:9: Encountered invalid utf-8 sequence"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ConfigError, Accessors) {
    try {
        parse_config("[rip]\nretries = 101\n", "/etc/freemkvd/freemkvd.toml");
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.file(), "/etc/freemkvd/freemkvd.toml");
        EXPECT_EQ(e.line(), 2u);
        EXPECT_EQ(e.column(), 0u);
        EXPECT_EQ(e.key(), "rip.retries");
        EXPECT_EQ(e.message(), "must be between 0 and 100, got 101");
    }
}

TEST(ConfigError, LeavesOutWhatIsUnknown) {
    EXPECT_STREQ(ConfigError("f.toml", 0, "state.dir", "bad").what(), "f.toml: state.dir: bad");
    EXPECT_STREQ(ConfigError("f.toml", 3, "", "bad").what(), "f.toml:3: bad");
    EXPECT_STREQ(ConfigError("f.toml", 3, "k", "bad", 7).what(), "f.toml:3:7: k: bad");
}

class LoadConfig : public testing::Test {
  protected:
    test::TempDir dir;
};

TEST_F(LoadConfig, ReadsAFile) {
    fs::path file = dir / "freemkvd.toml";
    std::ofstream(file) << "[queue]\nmax_parallel = 4\n";
    EXPECT_EQ(load_config(file).jobs.max_parallel, 4u);
}

TEST_F(LoadConfig, ErrorsNameTheFile) {
    fs::path file = dir / "freemkvd.toml";
    std::ofstream(file) << "[queue]\nmax_parallel = 0\n";
    try {
        load_config(file);
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.what(),
                  file.string() + ":2: queue.max_parallel: must be between 1 and 64, got 0");
    }
}

TEST_F(LoadConfig, MissingFile) {
    fs::path file = dir / "missing.toml";
    try {
        load_config(file);
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.what(),
                  file.string() + ": cannot read the configuration: No such file or directory");
        EXPECT_EQ(e.file(), file);
    }
}

TEST_F(LoadConfig, DirectoryIsNotAConfiguration) {
    try {
        load_config(dir.path());
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.what(),
                  dir.path().string() + ": cannot read the configuration: not a regular file");
    }
}

// Opening a FIFO for reading blocks until a writer comes; load_config must not wait for one. If it
// does, the test fails after the timeout and then unblocks it by opening the FIFO for writing.
TEST_F(LoadConfig, FifoIsRefusedWithoutWaitingForAWriter) {
    fs::path fifo = dir / "fifo.toml";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
    auto loaded = std::async(std::launch::async, [&]() -> std::string {
        try {
            load_config(fifo);
            return "no error";
        } catch (const ConfigError& e) {
            return e.what();
        }
    });
    if (loaded.wait_for(seconds(30)) != std::future_status::ready) {
        ADD_FAILURE() << "load_config is still waiting in open() after 30 s";
        close(::open(fifo.c_str(), O_WRONLY));
    }
    EXPECT_EQ(loaded.get(), fifo.string() + ": cannot read the configuration: not a regular file");
}

class CheckEnvironment : public testing::Test {
  protected:
    Config config_in(const fs::path& library, const fs::path& state) {
        Config c;
        c.jobs.library = library;
        c.jobs.state_dir = state;
        return c;
    }

    std::string error(const Config& c) {
        try {
            check_environment(c, "test.toml");
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "";
    }

    test::TempDir dir;
};

TEST_F(CheckEnvironment, ExistingWritableDirectories) {
    EXPECT_EQ(error(config_in(dir.path(), dir.path())), "");
}

TEST_F(CheckEnvironment, CreatableDirectories) {
    EXPECT_EQ(error(config_in(dir / "a/b/library", dir / "state")), "");
    EXPECT_FALSE(fs::exists(dir / "a")) << "checking creates nothing";
}

TEST_F(CheckEnvironment, LibraryIsAFile) {
    std::ofstream(dir / "file") << "x";
    EXPECT_EQ(error(config_in(dir / "file", dir.path())),
              "test.toml: library.path: '" + (dir / "file").string() + "' is not a directory");
}

TEST_F(CheckEnvironment, LibraryUnderAFile) {
    std::ofstream(dir / "file") << "x";
    fs::path library = dir / "file/sub/library";
    EXPECT_EQ(error(config_in(library, dir.path())),
              "test.toml: library.path: cannot create '" + library.string() + "': '" +
                  (dir / "file").string() + "' is not a directory");
}

TEST_F(CheckEnvironment, NamesTheLineWhereTheFileSetsTheKey) {
    std::ofstream(dir / "file") << "x";
    Config c =
        parse_config("[library]\n\npath = \"" + (dir / "file").string() + "\"\n", "test.toml");
    EXPECT_EQ(error(c),
              "test.toml:3: library.path: '" + (dir / "file").string() + "' is not a directory");
}

TEST_F(CheckEnvironment, StateDirUnderAFile) {
    std::ofstream(dir / "file") << "x";
    EXPECT_EQ(error(config_in(dir.path(), dir / "file/state")),
              "test.toml: state.dir: cannot create '" + (dir / "file/state").string() + "': '" +
                  (dir / "file").string() + "' is not a directory");
}

// Root passes every W_OK check, so these run in a child that drops to nobody first.
void check_as_nobody(const Config& config) {
    if (::geteuid() == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) {
            std::fprintf(stderr, "cannot drop privileges\n");
            std::_Exit(2);
        }
    }
    try {
        check_environment(config, "test.toml");
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "%s\n", e.what());
        std::_Exit(0);
    }
    std::_Exit(1);
}

TEST_F(CheckEnvironment, UnwritableParent) {
    Config c = config_in("/freemkvd-config-test-missing/library", "/tmp");
    EXPECT_EXIT(check_as_nobody(c), testing::ExitedWithCode(0),
                "test.toml: library.path: cannot create "
                "'/freemkvd-config-test-missing/library': '/' is not writable \\(");
}

TEST_F(CheckEnvironment, UnwritableDirectory) {
    Config c = config_in("/tmp", "/");
    EXPECT_EXIT(check_as_nobody(c), testing::ExitedWithCode(0),
                "test.toml: state.dir: '/' is not writable \\(");
}

// --- a desktop user's freemkvd (--user) ---

std::function<std::string(const char*)> env_of(std::map<std::string, std::string> vars) {
    return [vars](const char* name) {
        auto it = vars.find(name);
        return it == vars.end() ? std::string() : it->second;
    };
}

TEST(UserSetup, XdgDefaultsUnderHome) {
    UserSetup setup = user_setup(env_of({{"HOME", "/home/ann"}}));
    EXPECT_EQ(setup.config_file, "/home/ann/.config/freemkvd/freemkvd.toml");
    EXPECT_EQ(setup.defaults.jobs.library, "/home/ann/Videos");
    EXPECT_EQ(setup.defaults.jobs.state_dir, "/home/ann/.local/state/freemkvd");
    EXPECT_EQ(setup.defaults.jobs.naming.pattern, Config{}.jobs.naming.pattern)
        << "the rest as for the system";
}

TEST(UserSetup, XdgVariablesAndTheUsersVideosFolder) {
    test::TempDir dir;
    std::filesystem::create_directories(dir / "config");
    std::ofstream(dir / "config" / "user-dirs.dirs")
        << "# written by xdg-user-dirs-update\nXDG_MUSIC_DIR=\"$HOME/Musik\"\n"
        << "XDG_VIDEOS_DIR=\"$HOME/Filme\"\n";
    UserSetup setup = user_setup(env_of({{"HOME", "/home/ann"},
                                         {"XDG_CONFIG_HOME", (dir / "config").string()},
                                         {"XDG_STATE_HOME", "/var/state/ann"}}));
    EXPECT_EQ(setup.config_file, dir / "config" / "freemkvd" / "freemkvd.toml");
    EXPECT_EQ(setup.defaults.jobs.library, "/home/ann/Filme");
    EXPECT_EQ(setup.defaults.jobs.state_dir, "/var/state/ann/freemkvd");

    std::ofstream(dir / "config" / "user-dirs.dirs") << "XDG_VIDEOS_DIR=\"/srv/media/ann\"\n";
    EXPECT_EQ(
        user_setup(env_of({{"HOME", "/home/ann"}, {"XDG_CONFIG_HOME", (dir / "config").string()}}))
            .defaults.jobs.library,
        "/srv/media/ann");
}

TEST(UserSetup, RelativeXdgVariablesAreIgnoredAsTheSpecSays) {
    UserSetup setup = user_setup(env_of({{"HOME", "/home/ann"}, {"XDG_STATE_HOME", "state"}}));
    EXPECT_EQ(setup.defaults.jobs.state_dir, "/home/ann/.local/state/freemkvd");
}

TEST(UserSetup, NoHomeIsAnError) {
    EXPECT_THROW(user_setup(env_of({})), ConfigError);
    EXPECT_THROW(user_setup(env_of({{"HOME", "relative"}})), ConfigError);
}

TEST(UserSetup, TheFileOverridesOnlyTheKeysItSets) {
    Config defaults = user_setup(env_of({{"HOME", "/home/ann"}})).defaults;
    Config c = parse_config("[queue]\nmax_parallel = 1\n", "user.toml", defaults);
    EXPECT_EQ(c.jobs.library, "/home/ann/Videos");
    EXPECT_EQ(c.jobs.max_parallel, 1u);
    c = parse_config("[library]\npath = \"/media/nas\"\n", "user.toml", defaults);
    EXPECT_EQ(c.jobs.library, "/media/nas");
    EXPECT_EQ(c.jobs.state_dir, "/home/ann/.local/state/freemkvd");
}

}  // namespace
}  // namespace freemkv
