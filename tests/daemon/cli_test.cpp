// The freemkvd binary as a person or a script runs it: exit statuses, messages on stdout and
// stderr, and rips that are killed or stopped and then resumed by the next run. Every case runs
// the real executable; the ones with a throttled disc need root (loop devices, FUSE).

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <algorithm>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <regex>
#include <thread>

#include "chunk_policy.hpp"
#include "mapfile.hpp"
#include "support/process.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::FaultFs;
using test::LoopDevice;
using test::random_bytes;
using test::read_file;
using test::TempDir;
using test::write_file;

// One freemkvd process, its stdout and stderr going to files beside each other. Killed and reaped
// at destruction if still running.
class Freemkvd : public test::Process {
  public:
    Freemkvd(const fs::path& dir, const std::string& name, const std::vector<std::string>& args)
        : Process(FREEMKV_BINARY, args, dir / (name + ".stdout"), dir / (name + ".stderr")) {}
};

// A configuration with the library and the state directory inside `dir`.
fs::path write_config(const TempDir& dir, const std::string& extra = "") {
    fs::path config = dir / "freemkvd.toml";
    std::ofstream(config) << "[library]\npath = \"" << (dir / "library").string()
                          << "\"\n\n[state]\ndir = \"" << (dir / "state").string()
                          << "\"\n\n[rip]\ncheckpoint_interval = \"1s\"\n"
                          << extra;
    return config;
}

std::vector<fs::path> files_in(const fs::path& dir) {
    std::vector<fs::path> files;
    if (fs::is_directory(dir)) {
        for (const auto& entry : fs::directory_iterator(dir)) {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::optional<fs::path> find_mapfile(const fs::path& library) {
    for (const fs::path& f : files_in(library)) {
        if (f.extension() == ".map") {
            return f;
        }
    }
    return std::nullopt;
}

std::uint64_t finished_bytes(const fs::path& mapfile) {
    return Mapfile::load(mapfile).bytes_with(BlockStatus::finished);
}

// Waits until the running rip has checkpointed some finished bytes and at least `min_time` has
// passed since `started`; returns its mapfile. Fails if the process ends first.
fs::path wait_for_checkpoint(Freemkvd& daemon, const fs::path& library, Clock::time_point started,
                             Clock::duration min_time) {
    auto deadline = started + 30s;
    while (Clock::now() < deadline) {
        if (!daemon.running()) {
            throw std::runtime_error("freemkvd ended before the test could interrupt it\n" +
                                     daemon.output());
        }
        if (auto map = find_mapfile(library); map && Clock::now() >= started + min_time) {
            try {
                if (finished_bytes(*map) > 0) {
                    return *map;
                }
            } catch (const MapfileError&) {
            }
        }
        std::this_thread::sleep_for(20ms);
    }
    throw std::runtime_error("no checkpoint with finished bytes within 30 s\n" + daemon.output());
}

fs::path iso_for(const fs::path& mapfile) {
    return fs::path(mapfile).replace_extension(".iso");
}

fs::path part_for(const fs::path& mapfile) {
    return iso_for(mapfile).string() + ".part";
}

// What the mapfile calls finished really is in the .part.
void expect_finished_ranges_match(const fs::path& mapfile, const std::vector<std::byte>& source) {
    Mapfile map = Mapfile::load(mapfile);
    auto part = read_file(part_for(mapfile));
    ASSERT_EQ(part.size(), source.size());
    for (const MapRange& r : map.ranges_with(BlockStatus::finished)) {
        ASSERT_TRUE(std::equal(part.begin() + static_cast<std::ptrdiff_t>(r.pos),
                               part.begin() + static_cast<std::ptrdiff_t>(r.end()),
                               source.begin() + static_cast<std::ptrdiff_t>(r.pos)))
            << "finished range at " << r.pos << " differs from the disc";
    }
}

struct Resumed {
    std::uint64_t rescued = 0;  // "N of M bytes already rescued"
    std::uint64_t total = 0;
    std::uint64_t read = 0;  // "(read N bytes)" at the end of the job
};

// Parses the resume and end-of-job lines of a run that resumed `source` from `part`.
std::optional<Resumed> parse_resume(const std::string& err, const fs::path& source,
                                    const fs::path& part) {
    // Paths in these tests have no regex metacharacters but '.', which matches itself too.
    std::smatch m;
    std::regex resuming("resuming " + source.string() + " from " + part.string() +
                        ": ([0-9]+) of ([0-9]+) bytes already rescued");
    if (!std::regex_search(err, m, resuming)) {
        return std::nullopt;
    }
    Resumed r;
    r.rescued = std::stoull(m[1]);
    r.total = std::stoull(m[2]);
    if (!std::regex_search(err, m, std::regex("job [0-9]+ ok \\(read ([0-9]+) bytes\\)"))) {
        return std::nullopt;
    }
    r.read = std::stoull(m[1]);
    return r;
}

// --- --check-config ---

TEST(CheckConfig, ShippedConfigPasses) {
    FREEMKV_REQUIRE_ROOT();  // its library and state directory are under /var/lib
    TempDir dir;
    Freemkvd check(dir.path(), "check", {"--check-config", FREEMKV_DEFAULT_CONFIG});
    ASSERT_EQ(check.exit_code(), 0) << check.output();
    EXPECT_EQ(check.out(), std::string(FREEMKV_DEFAULT_CONFIG) + ": ok\n");
    EXPECT_EQ(check.err(), "");
}

TEST(CheckConfig, UnknownKeyNamesFileLineAndKeyWithAGuess) {
    TempDir dir;
    fs::path config = write_config(dir, "retrys = 5\n");  // line 9
    Freemkvd check(dir.path(), "check", {"--check-config", config.string()});
    ASSERT_EQ(check.exit_code(), 2) << check.output();
    EXPECT_NE(
        check.err().find(config.string() + ":9: rip.retrys: unknown key (did you mean 'retries'?)"),
        std::string::npos)
        << check.err();
    EXPECT_EQ(check.out(), "");
}

TEST(CheckConfig, MissingFileIsNamed) {
    TempDir dir;
    fs::path missing = dir / "nowhere.toml";
    Freemkvd check(dir.path(), "check", {"--check-config", missing.string()});
    ASSERT_EQ(check.exit_code(), 2) << check.output();
    EXPECT_NE(check.err().find(missing.string()), std::string::npos) << check.err();

    // The same file given to --config for a rip is bad usage too, and nothing is ripped.
    write_file(dir / "disc.img", random_bytes(64 * 2048, 60));
    Freemkvd rip(dir.path(), "rip",
                 {"--config", missing.string(), "rip", (dir / "disc.img").string()});
    ASSERT_EQ(rip.exit_code(), 2) << rip.output();
    EXPECT_NE(rip.err().find(missing.string()), std::string::npos) << rip.err();
}

// A FIFO is refused at once, not opened to wait for a writer that never comes. exit_code's
// timeout is only the bound on a hang; a refusal takes milliseconds.
TEST(CheckConfig, FifoIsRefusedPromptly) {
    TempDir dir;
    fs::path fifo = dir / "fifo.toml";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
    std::string refused = fifo.string() + ": cannot read the configuration: not a regular file";
    Freemkvd check(dir.path(), "check", {"--check-config", fifo.string()});
    ASSERT_EQ(check.exit_code(60s), 2) << check.output();
    EXPECT_NE(check.err().find(refused), std::string::npos) << check.err();

    write_file(dir / "disc.img", random_bytes(64 * 2048, 64));
    Freemkvd rip(dir.path(), "rip",
                 {"--config", fifo.string(), "rip", (dir / "disc.img").string()});
    ASSERT_EQ(rip.exit_code(60s), 2) << rip.output();
    EXPECT_NE(rip.err().find(refused), std::string::npos) << rip.err();
}

// An empty name is bad usage, not the option left out: before, the rip below went ahead with
// the other options as if --check-config had not been given.
TEST(CheckConfig, EmptyFileNameIsBadUsage) {
    TempDir dir;
    fs::path config = write_config(dir);
    write_file(dir / "disc.img", random_bytes(64 * 2048, 65));
    Freemkvd check(
        dir.path(), "check",
        {"--check-config", "", "--config", config.string(), "rip", (dir / "disc.img").string()});
    ASSERT_EQ(check.exit_code(60s), 2) << check.output();
    EXPECT_NE(check.err().find("--check-config"), std::string::npos) << check.err();
    EXPECT_EQ(check.out(), "");
    EXPECT_EQ(files_in(dir / "library"), std::vector<fs::path>{});

    // --config refused an empty name already; this keeps it so.
    Freemkvd rip(dir.path(), "rip", {"--config", "", "rip", (dir / "disc.img").string()});
    ASSERT_EQ(rip.exit_code(60s), 2) << rip.output();
    EXPECT_NE(rip.err().find("--config"), std::string::npos) << rip.err();
}

// Every key, one line each with its description indented below, straight from the parser's table.
TEST(HelpConfig, ListsEveryKeyWithItsBounds) {
    TempDir dir;
    Freemkvd help(dir.path(), "help", {"--help-config"});
    ASSERT_EQ(help.exit_code(), 0) << help.output();
    EXPECT_EQ(help.err(), "");
    EXPECT_NE(help.out().find("queue.max_parallel\n    drives ripping at the same time, 1 to 64\n"),
              std::string::npos)
        << help.out();
    EXPECT_NE(help.out().find("writeback.policy\n    how the chunk size adapts: balanced, seed, "
                              "fixed\n"),
              std::string::npos)
        << help.out();
    EXPECT_TRUE(help.out().starts_with("library.path\n")) << help.out();
    EXPECT_NE(help.out().find("images.import_folders\n    on the system bus, folders where anyone "
                              "allowed to rip may name an image by path (absolute paths; empty: "
                              "only root may)\n"),
              std::string::npos)
        << help.out();
    EXPECT_NE(help.out().find("video.titles\n    which titles of a DVD-Video become files: main, "
                              "all\n"),
              std::string::npos)
        << help.out();
    EXPECT_NE(
        help.out().find("audio.read_offset\n    the drive's read offset in samples, -10000 to "
                        "10000\n"),
        std::string::npos)
        << help.out();
    EXPECT_TRUE(help.out().ends_with(
        "audio.accuraterip_url\n    the AccurateRip server, an http:// or https:// URL\n"))
        << help.out();
}

TEST(CheckConfig, LibraryUnderARegularFileIsReported) {
    TempDir dir;
    write_file(dir / "file", random_bytes(16, 61));
    fs::path config = dir / "bad.toml";
    std::ofstream(config) << "[library]\npath = \"" << (dir / "file" / "library").string()
                          << "\"\n\n[state]\ndir = \"" << (dir / "state").string() << "\"\n";
    Freemkvd check(dir.path(), "check", {"--check-config", config.string()});
    ASSERT_EQ(check.exit_code(), 2) << check.output();
    EXPECT_NE(check.err().find(config.string() + ":2: library.path: "), std::string::npos)
        << check.err();
    EXPECT_NE(check.err().find("not a directory"), std::string::npos) << check.err();
}

// --- rip: bad and good input ---

TEST(RipCommand, MissingSourceFailsNamingIt) {
    TempDir dir;
    fs::path config = write_config(dir);
    fs::path missing = dir / "no-such-disc.img";
    Freemkvd rip(dir.path(), "rip", {"--config", config.string(), "rip", missing.string()});
    ASSERT_EQ(rip.exit_code(), 1) << rip.output();
    EXPECT_NE(rip.err().find(missing.string()), std::string::npos) << rip.err();
    EXPECT_NE(rip.err().find("No such file or directory"), std::string::npos) << rip.err();
    EXPECT_EQ(rip.out(), "");
    EXPECT_EQ(files_in(dir / "library"), std::vector<fs::path>{});
}

TEST(RipCommand, TruncatedImageFails) {
    TempDir dir;
    fs::path config = write_config(dir);
    write_file(dir / "short.img", random_bytes(100 * 2048 + 1000, 62));
    Freemkvd rip(dir.path(), "rip",
                 {"--config", config.string(), "rip", (dir / "short.img").string()});
    ASSERT_EQ(rip.exit_code(), 1) << rip.output();
    EXPECT_NE(rip.err().find("not a whole number of 2048-byte sectors"), std::string::npos)
        << rip.err();
    EXPECT_NE(rip.err().find((dir / "short.img").string()), std::string::npos) << rip.err();
    EXPECT_EQ(rip.out(), "");
    EXPECT_EQ(files_in(dir / "library"), std::vector<fs::path>{});
}

TEST(RipCommand, GoodImagePrintsOnlyTheOutputPath) {
    TempDir dir;
    fs::path config = write_config(dir);
    auto source = random_bytes(8 * MiB, 63);
    write_file(dir / "disc.img", source);
    Freemkvd rip(dir.path(), "rip",
                 {"--config", config.string(), "rip", (dir / "disc.img").string()});
    ASSERT_EQ(rip.exit_code(), 0) << rip.output();
    auto library = files_in(dir / "library");
    ASSERT_EQ(library.size(), 1u) << "only the .iso, no .part or .map left";
    EXPECT_EQ(library[0].extension(), ".iso");
    EXPECT_EQ(rip.out(), library[0].string() + "\n");
    EXPECT_EQ(read_file(library[0]), source);
}

// A drive holds one disc. Before, the second source's job was refused only after the first had
// started, and leaving then cancelled the first.
TEST(RipCommand, OneDriveWithTwoSourcesIsBadUsageAndNothingStarts) {
    TempDir dir;
    fs::path config = write_config(dir);
    write_file(dir / "a.img", random_bytes(8 * MiB, 65));
    write_file(dir / "b.img", random_bytes(8 * MiB, 66));
    Freemkvd rip(dir.path(), "rip",
                 {"--config", config.string(), "rip", "--drive", "sr0", (dir / "a.img").string(),
                  (dir / "b.img").string()});
    ASSERT_EQ(rip.exit_code(), 2) << rip.output();
    EXPECT_NE(rip.err().find("--drive sr0 names one drive"), std::string::npos) << rip.err();
    EXPECT_EQ(rip.out(), "");
    EXPECT_EQ(files_in(dir / "library"), std::vector<fs::path>{});
}

// A source the queue refuses (here the same image again, which is busy) fails alone: the rips
// already started finish. Before, the refusal ended the run and cancelled them.
TEST(RipCommand, ARefusedSourceDoesNotCancelTheOthers) {
    TempDir dir;
    fs::path config = write_config(dir);
    auto source = random_bytes(8 * MiB, 67);
    write_file(dir / "disc.img", source);
    Freemkvd rip(dir.path(), "rip",
                 {"--config", config.string(), "rip", (dir / "disc.img").string(),
                  (dir / "disc.img").string()});
    ASSERT_EQ(rip.exit_code(), 1) << rip.output();
    EXPECT_NE(rip.err().find("already has job"), std::string::npos) << rip.err();
    auto library = files_in(dir / "library");
    ASSERT_EQ(library.size(), 1u) << rip.output();
    EXPECT_EQ(rip.out(), library[0].string() + "\n");
    EXPECT_EQ(read_file(library[0]), source);
}

// A scratch over the volume descriptors (sectors 16..256) does not stop the rip: the disc is
// ripped with those sectors zeroed and listed in the mapfile, and the run succeeds.
TEST(RipCommand, ScratchedStartOfTheDiscIsRippedAnyway) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    fs::path config = write_config(dir, "retries = 1\n");
    auto source = random_bytes(8 * MiB, 64);
    write_file(dir / "disc.img", source);
    FaultFs scratched(dir / "disc.img", "--read-only --eio 65536:32768");  // sectors 32..47
    LoopDevice loop(scratched.disk());
    Freemkvd rip(dir.path(), "rip", {"--config", config.string(), "rip", loop.device()});
    ASSERT_EQ(rip.exit_code(), 0) << rip.output();
    EXPECT_NE(rip.out().find("(16 unreadable sectors"), std::string::npos) << rip.output();
    EXPECT_NE(rip.err().find("volume descriptors are unreadable"), std::string::npos);
    auto mapfile = find_mapfile(dir / "library");
    ASSERT_TRUE(mapfile);
    auto image = read_file(iso_for(*mapfile));
    ASSERT_EQ(image.size(), source.size());
    EXPECT_TRUE(std::equal(image.begin() + 98304, image.end(), source.begin() + 98304));
    EXPECT_TRUE(std::all_of(image.begin() + 65536, image.begin() + 98304,
                            [](std::byte b) { return b == std::byte{0}; }));
}

// --- interrupted rips ---

constexpr std::uint64_t kThrottledBytesPerSecond = 48'000'000;

TEST(RipCommand, KilledRipResumesWhereItsCheckpointWas) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    fs::path config = write_config(dir);
    fs::path image = dir / "disc.img";
    auto source = random_bytes(192 * MiB, 64);
    write_file(image, source);

    fs::path mapfile;
    std::uint64_t rescued_at_kill = 0;
    {
        // About 4 s for the whole disc: killed halfway.
        FaultFs slow(image,
                     "--read-bps " + std::to_string(kThrottledBytesPerSecond) + " --read-only");
        LoopDevice loop(slow.disk());
        auto started = Clock::now();
        Freemkvd first(dir.path(), "first", {"--config", config.string(), "rip", loop.device()});
        mapfile = wait_for_checkpoint(first, dir / "library", started, 2s);
        first.signal(SIGKILL);
        ASSERT_EQ(first.exit_code(5s), -SIGKILL) << first.output();

        EXPECT_TRUE(fs::exists(part_for(mapfile)));
        EXPECT_FALSE(fs::exists(iso_for(mapfile)));
        rescued_at_kill = finished_bytes(mapfile);
        ASSERT_GT(rescued_at_kill, 0u);
        ASSERT_LT(rescued_at_kill, source.size()) << "killed too late to show a resume";
        expect_finished_ranges_match(mapfile, source);
    }

    // The same disc, now as its image file and at full speed.
    Freemkvd second(dir.path(), "second", {"--config", config.string(), "rip", image.string()});
    ASSERT_EQ(second.exit_code(), 0) << second.output();
    EXPECT_EQ(second.out(), iso_for(mapfile).string() + "\n");
    EXPECT_EQ(read_file(iso_for(mapfile)), source);
    EXPECT_FALSE(fs::exists(part_for(mapfile)));
    EXPECT_FALSE(fs::exists(mapfile));

    auto resumed = parse_resume(second.err(), image, part_for(mapfile));
    ASSERT_TRUE(resumed) << second.err();
    EXPECT_EQ(resumed->rescued, rescued_at_kill) << "resumed from the last checkpoint";
    EXPECT_EQ(resumed->total, source.size());
    EXPECT_EQ(resumed->read, source.size() - rescued_at_kill) << "read only what was missing";
}

TEST(RipCommand, SigtermCancelsPromptlyAndTheNextRunResumes) {
    FREEMKV_REQUIRE_ROOT();
    TempDir dir;
    fs::path config = write_config(dir);
    fs::path image = dir / "disc.img";
    auto source = random_bytes(192 * MiB, 65);
    write_file(image, source);
    FaultFs slow(image, "--read-bps " + std::to_string(kThrottledBytesPerSecond) + " --read-only");
    LoopDevice loop(slow.disk());

    auto started = Clock::now();
    Freemkvd first(dir.path(), "first", {"--config", config.string(), "rip", loop.device()});
    fs::path mapfile = wait_for_checkpoint(first, dir / "library", started, 1500ms);
    std::uint64_t rescued_at_signal = finished_bytes(mapfile);
    auto signalled = Clock::now();
    first.signal(SIGTERM);
    int code = first.exit_code(10s);
    auto took = Clock::now() - signalled;
    ASSERT_EQ(code, 1) << first.output();
    EXPECT_LT(took, 5s) << first.output();
    std::printf("SIGTERM to exit: %.2f s\n", std::chrono::duration<double>(took).count());
    EXPECT_NE(first.err().find("cancelled"), std::string::npos) << first.err();
    EXPECT_EQ(first.out(), "");

    ASSERT_TRUE(fs::exists(part_for(mapfile)));
    ASSERT_TRUE(fs::exists(mapfile));
    EXPECT_FALSE(fs::exists(iso_for(mapfile)));
    // Cancelling checkpoints everything read so far.
    std::uint64_t rescued = finished_bytes(mapfile);
    EXPECT_GE(rescued, rescued_at_signal);
    ASSERT_LT(rescued, source.size()) << "signalled too late to show a resume";
    expect_finished_ranges_match(mapfile, source);

    // The same drive again.
    Freemkvd second(dir.path(), "second", {"--config", config.string(), "rip", loop.device()});
    ASSERT_EQ(second.exit_code(), 0) << second.output();
    EXPECT_EQ(second.out(), iso_for(mapfile).string() + "\n");
    EXPECT_EQ(read_file(iso_for(mapfile)), source);
    EXPECT_FALSE(fs::exists(part_for(mapfile)));

    auto resumed = parse_resume(second.err(), loop.device(), part_for(mapfile));
    ASSERT_TRUE(resumed) << second.err();
    EXPECT_EQ(resumed->rescued, rescued);
    EXPECT_EQ(resumed->total, source.size());
    EXPECT_EQ(resumed->read, source.size() - rescued);
}

}  // namespace
}  // namespace freemkv
