// DVD-Video titles over the API: StartRip's "titles" option, ListTitles and ListTitlesImage on
// the generated test disc (tests/fixtures/make-dvd), and `freemkvctl titles` and
// `freemkvctl rip --titles`, against freemkvd on a private session bus.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sdbus-c++/sdbus-c++.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "dvd_titles.hpp"
#include "main_feature.hpp"
#include "support/bus_fixture.hpp"
#include "support/dvd_images.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

namespace fs = std::filesystem;
using namespace test;

using Dict = std::map<std::string, sdbus::Variant>;
using Options = std::map<std::string, sdbus::Variant>;
using Audio = std::vector<sdbus::Struct<std::string, std::string, std::uint16_t>>;

// One method call from this process, its answer or its error's name.
struct Call {
    std::vector<Dict> titles;
    std::string job;
    std::string error;  // the error's name, "" when it succeeded
    std::string message;
};

class Client {
  public:
    explicit Client(const Service& service)
        : connection_(sdbus::createSessionBusConnectionWithAddress(service.address())),
          manager_(sdbus::createProxy(*connection_, kName, kRoot)) {}

    Call list_titles(const std::string& source) {
        return call([&](Call& out) {
            manager_->callMethod("ListTitles")
                .onInterface(kManager)
                .withArguments(source)
                .storeResultsTo(out.titles);
        });
    }
    Call list_titles_image(int fd) {
        return call([&](Call& out) {
            manager_->callMethod("ListTitlesImage")
                .onInterface(kManager)
                .withArguments(sdbus::UnixFd(fd))
                .storeResultsTo(out.titles);
        });
    }
    Call start_rip(const std::string& source, const Options& options) {
        return call([&](Call& out) {
            sdbus::ObjectPath job;
            manager_->callMethod("StartRip")
                .onInterface(kManager)
                .withArguments(source, options)
                .storeResultsTo(job);
            out.job = job;
        });
    }
    Call start_rip_image(int fd, const Options& options) {
        return call([&](Call& out) {
            sdbus::ObjectPath job;
            manager_->callMethod("StartRipImage")
                .onInterface(kManager)
                .withArguments(sdbus::UnixFd(fd), options)
                .storeResultsTo(job);
            out.job = job;
        });
    }

  private:
    template <typename F>
    Call call(F f) {
        Call out;
        try {
            f(out);
        } catch (const sdbus::Error& e) {
            out.error = e.getName();
            out.message = e.getMessage();
        }
        return out;
    }

    std::unique_ptr<sdbus::IConnection> connection_;
    std::unique_ptr<sdbus::IProxy> manager_;
};

int open_or_throw(const fs::path& path, int flags) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) {
        throw std::system_error(errno, std::generic_category(), path.string());
    }
    return fd;
}

template <typename T>
T value(const Dict& dict, const std::string& key) {
    auto it = dict.find(key);
    if (it == dict.end()) {
        throw std::runtime_error("no key " + key);
    }
    if (!it->second.containsValueOfType<T>()) {
        throw std::runtime_error(key + " has type " + it->second.peekValueType());
    }
    return it->second.get<T>();
}

// ListTitles' answer says what list_titles() reads from the same image, in the documented types.
void expect_as_listed(const std::vector<Dict>& got, const fs::path& image) {
    std::vector<TitleInfo> expected = list_titles(image);
    std::optional<int> main = choose_main_feature(expected);
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        const Dict& d = got[i];
        const TitleInfo& t = expected[i];
        SCOPED_TRACE("title " + std::to_string(t.number));
        EXPECT_EQ(d.size(), 9u) << "the documented keys, no more";
        EXPECT_EQ(value<std::uint16_t>(d, "number"), t.number);
        EXPECT_EQ(value<std::uint16_t>(d, "titleset"), t.titleset);
        EXPECT_EQ(value<std::uint64_t>(d, "duration_ms"),
                  static_cast<std::uint64_t>(t.duration.count()));
        EXPECT_EQ(value<std::uint16_t>(d, "chapters"), t.chapters);
        EXPECT_EQ(value<std::uint16_t>(d, "angles"), t.angles);
        EXPECT_EQ(value<std::uint64_t>(d, "sectors"), t.sectors);
        EXPECT_EQ(value<bool>(d, "main"), main == t.number);
        Audio audio = value<Audio>(d, "audio");
        ASSERT_EQ(audio.size(), t.audio.size());
        for (std::size_t a = 0; a < audio.size(); ++a) {
            EXPECT_EQ(audio[a].get<0>(), t.audio[a].codec);
            EXPECT_EQ(audio[a].get<1>(), t.audio[a].language);
            EXPECT_EQ(audio[a].get<2>(), t.audio[a].channels);
        }
        auto subpictures = value<std::vector<std::string>>(d, "subpictures");
        ASSERT_EQ(subpictures.size(), t.subpictures.size());
        for (std::size_t s = 0; s < subpictures.size(); ++s) {
            EXPECT_EQ(subpictures[s], t.subpictures[s].language);
        }
    }
}

TEST(ListTitles, AnImagePathGivesWhatItsIfosSay) {
    REQUIRE_DVD_VIDEO_IMAGE();
    TempDir dir;
    Service service(dir);
    Client client(service);
    Call listed = client.list_titles(test::dvd_video_image().string());
    ASSERT_EQ(listed.error, "") << listed.message;
    expect_as_listed(listed.titles, test::dvd_video_image());
    // The generated disc: three titles, the first the movie.
    ASSERT_EQ(listed.titles.size(), 3u);
    EXPECT_TRUE(value<bool>(listed.titles[0], "main"));
    EXPECT_EQ(value<std::uint16_t>(listed.titles[0], "chapters"), 3);
    EXPECT_EQ(value<Audio>(listed.titles[0], "audio").size(), 2u);

    // Listing queued nothing.
    EXPECT_EQ(service.busctl_call(kRoot, kManager, "ListJobs").output, "ao 0\n");
}

TEST(ListTitles, WhatIsNoDvdVideoGetsNamedErrors) {
    TempDir dir;
    fs::path data = make_image(dir / "data.iso", 2 * MiB, 11);
    Service service(dir);
    Client client(service);

    Call not_dvd = client.list_titles(data.string());
    EXPECT_EQ(not_dvd.error, "org.freemkv.Rip1.Error.NotDvdVideo");
    EXPECT_TRUE(contains(not_dvd.message, data.string())) << not_dvd.message;
    EXPECT_TRUE(contains(not_dvd.message, "not a DVD-Video")) << not_dvd.message;
    EXPECT_EQ(client.list_titles((dir / "missing.iso").string()).error,
              "org.freemkv.Rip1.Error.NotFound");
    Call drive = client.list_titles("sr9");
    EXPECT_EQ(drive.error, "org.freemkv.Rip1.Error.NotFound");
    EXPECT_TRUE(contains(drive.message, "no drive named 'sr9'")) << drive.message;
    EXPECT_EQ(client.list_titles("/dev/sda").error, "org.freemkv.Rip1.Error.NotFound");
    EXPECT_EQ(client.list_titles("").error, "org.freemkv.Rip1.Error.InvalidArgs");
    EXPECT_EQ(client.list_titles("images/data.iso").error, "org.freemkv.Rip1.Error.InvalidArgs");
    EXPECT_EQ(client.list_titles("/proc/self/status").error, "org.freemkv.Rip1.Error.InvalidArgs");
    EXPECT_EQ(client.list_titles(dir.path().string()).error, "org.freemkv.Rip1.Error.InvalidArgs");

    // busctl shows the error too, and the daemon goes on serving.
    Shell busctl = service.busctl_call(kRoot, kManager, "ListTitles", "s " + quote(data.string()));
    EXPECT_FALSE(busctl.ok());
    EXPECT_TRUE(contains(busctl.output, "not a DVD-Video")) << busctl.output;
    EXPECT_TRUE(service.busctl_call(kRoot, kManager, "ListJobs").ok());
}

TEST(ListTitlesImage, ReadsThroughTheDescriptorOnly) {
    REQUIRE_DVD_VIDEO_IMAGE();
    TempDir dir;
    fs::path copy = dir / "disc.iso";
    fs::copy_file(test::dvd_video_image(), copy);
    Service service(dir);
    Client client(service);

    int fd = open_or_throw(copy, O_RDONLY);
    // The path is gone (a FIFO in its place would hang a re-open): only the descriptor reads.
    fs::remove(copy);
    ASSERT_EQ(::mkfifo(copy.c_str(), 0600), 0);
    Call listed = client.list_titles_image(fd);
    ::close(fd);
    ASSERT_EQ(listed.error, "") << listed.message;
    expect_as_listed(listed.titles, test::dvd_video_image());
}

TEST(ListTitlesImage, WhatIsNoDvdVideoImageIsRefusedWithANamedError) {
    TempDir dir;
    fs::path data = make_image(dir / "data.iso", 2 * MiB, 12);
    std::ofstream(dir / "empty.iso").close();
    Service service(dir);
    Client client(service);

    auto error_of = [&](int fd) {
        Call c = client.list_titles_image(fd);
        ::close(fd);
        return c;
    };
    Call not_dvd = error_of(open_or_throw(data, O_RDONLY));
    EXPECT_EQ(not_dvd.error, "org.freemkv.Rip1.Error.NotDvdVideo");
    EXPECT_TRUE(contains(not_dvd.message, data.string())) << not_dvd.message;
    EXPECT_EQ(error_of(open_or_throw(data, O_WRONLY)).error,
              "org.freemkv.Rip1.Error.NotAuthorized");
    EXPECT_EQ(error_of(open_or_throw(dir / "empty.iso", O_RDONLY)).error,
              "org.freemkv.Rip1.Error.InvalidArgs");
    EXPECT_EQ(error_of(open_or_throw("/proc/self/status", O_RDONLY)).error,
              "org.freemkv.Rip1.Error.InvalidArgs");
}

// A ListTitles whose image cannot be looked up (a faultfs gate: whoever stats the image waits
// there) holds up no other call: the reading is the worker's, not the loop's.
TEST(ListTitles, AHangingImageHoldsUpNoOtherCall) {
    FREEMKV_REQUIRE_ROOT();
    REQUIRE_DVD_VIDEO_IMAGE();
    TempDir dir;
    fs::path gate = dir / "gate";
    fs::path log = dir / "faultfs.log";
    std::ofstream(gate).close();
    FaultFs faultfs(test::dvd_video_image(),
                    "--read-only --stat-gate " + gate.string() + " --log " + log.string());
    Service service(dir);

    std::atomic<bool> done = false;
    Call listed;
    std::thread slow([&] {
        listed = Client(service).list_titles(faultfs.disk().string());
        done = true;
    });
    bool waited = wait_until([&] { return contains(slurp(log), "gate "); }, 60s);
    // Answered while ListTitles waits at the gate: the loop did not wait for it.
    Shell queue_length = service.busctl("--timeout=30 get-property " + std::string(kName) + " " +
                                        kRoot + " " + kManager + " QueueLength");
    bool done_early = done;
    fs::remove(gate);
    slow.join();
    ASSERT_TRUE(waited) << "ListTitles never looked";
    EXPECT_TRUE(queue_length.ok()) << queue_length.output;
    EXPECT_FALSE(done_early) << "ListTitles ended before the gate opened";
    ASSERT_EQ(listed.error, "") << listed.message;
    expect_as_listed(listed.titles, test::dvd_video_image());
}

// --- StartRip's titles option ---

TEST(StartRipTitles, TitleNumbersAreTakenAndBadOnesGetInvalidArgs) {
    TempDir dir;
    fs::path img = make_image(dir / "disc.img", 32 * 2048, 21);
    Service service(dir);
    Client client(service);

    auto titles = [](std::vector<std::uint16_t> numbers) {
        return Options{{"titles", sdbus::Variant(numbers)}};
    };
    struct Bad {
        const char* name;
        Options options;
        const char* message;  // a part of the error's message
    };
    std::vector<Bad> bad = {
        {"empty", titles({}), "option 'titles' is empty"},
        {"zero", titles({0}), "title numbers are 1 to 99"},
        {"hundred", titles({1, 100}), "has 100"},
        {"twice", titles({3, 1, 3}), "names title 3 twice"},
        {"uint32", {{"titles", sdbus::Variant(std::vector<std::uint32_t>{1})}}, "(aq), got 'au'"},
        {"string", {{"titles", sdbus::Variant(std::string("1,3"))}}, "(aq), got 's'"},
        {"one number", {{"titles", sdbus::Variant(std::uint16_t{1})}}, "(aq), got 'q'"},
        {"unknown key",
         {{"title", sdbus::Variant(std::vector<std::uint16_t>{1})}},
         "unknown option 'title'"},
    };
    int fd = open_or_throw(img, O_RDONLY);
    for (const Bad& b : bad) {
        SCOPED_TRACE(b.name);
        Call by_path = client.start_rip(img.string(), b.options);
        EXPECT_EQ(by_path.error, "org.freemkv.Rip1.Error.InvalidArgs");
        EXPECT_TRUE(contains(by_path.message, b.message)) << by_path.message;
        EXPECT_TRUE(contains(by_path.message, "StartRip")) << by_path.message;
        Call by_fd = client.start_rip_image(fd, b.options);
        EXPECT_EQ(by_fd.error, "org.freemkv.Rip1.Error.InvalidArgs");
        EXPECT_TRUE(contains(by_fd.message, b.message)) << by_fd.message;
    }
    EXPECT_EQ(service.busctl_call(kRoot, kManager, "ListJobs").output, "ao 0\n")
        << "a refused call queued nothing";

    // Good ones queue a job, through both methods and through busctl.
    Call by_path = client.start_rip(img.string(), titles({1, 99, 3}));
    ASSERT_EQ(by_path.error, "") << by_path.message;
    EXPECT_EQ(service.wait_for_result(by_path.job), "ok");
    Call by_fd = client.start_rip_image(fd, titles({2}));
    ::close(fd);
    ASSERT_EQ(by_fd.error, "") << by_fd.message;
    EXPECT_EQ(service.wait_for_result(by_fd.job), "ok");
    Shell busctl = service.busctl_call(kRoot, kManager, "StartRip",
                                       "sa{sv} " + quote(img.string()) + " 1 titles aq 2 1 3");
    ASSERT_TRUE(busctl.ok()) << busctl.output;
    EXPECT_EQ(service.wait_for_result(Service::job_of(busctl)), "ok");
    Shell gdbus_bad = service.start_rip_gdbus(img.string(), quote("{'titles': <@aq [5, 5]>}"));
    EXPECT_EQ(gdbus_error(gdbus_bad), "org.freemkv.Rip1.Error.InvalidArgs");
}

// --- freemkvctl ---

Shell ctl(const Service& service, const std::string& args) {
    return sh(service.shell_env() + " " FREEMKV_CTL " --user " + args);
}

TEST(FreemkvctlTitles, ATableAndJsonOfTheImagesTitles) {
    REQUIRE_DVD_VIDEO_IMAGE();
    TempDir dir;
    // In a directory the daemon could not read by path: freemkvctl hands the image over open.
    fs::path copy = dir / "private" / "disc.iso";
    fs::create_directory(dir / "private");
    fs::copy_file(test::dvd_video_image(), copy);
    Service service(dir);
    std::vector<TitleInfo> expected = list_titles(test::dvd_video_image());
    ASSERT_EQ(expected.size(), 3u);

    Shell table = ctl(service, "titles " + quote(copy.string()));
    ASSERT_TRUE(table.ok()) << table.output;
    std::vector<std::string> lines = lines_of(table.output);
    ASSERT_EQ(lines.size(), 5u) << table.output;
    EXPECT_TRUE(lines[0].starts_with("TITLE  DURATION  CHAPTERS  SIZE MiB  AUDIO")) << lines[0];
    EXPECT_TRUE(std::regex_search(
        lines[1], std::regex(R"(^ +\*1  0:01:00 +3 +[0-9.]+  en ac3 2ch, fr ac3 2ch +en$)")))
        << lines[1];
    EXPECT_TRUE(
        std::regex_search(lines[2], std::regex(R"(^ +2  0:00:10 +1 +[0-9.]+  en ac3 2ch +-$)")))
        << lines[2];
    EXPECT_TRUE(std::regex_search(lines[3], std::regex(R"(^ +3  0:00:08 +)"))) << lines[3];
    EXPECT_EQ(lines[4], "* main feature");

    Shell json = ctl(service, "titles --json " + quote(copy.string()));
    ASSERT_TRUE(json.ok()) << json.output;
    const TitleInfo& movie = expected[0];
    std::string first = "{\"source\":\"" + copy.string() +
                        "\",\"titles\":[{\"number\":1,\"titleset\":1,\"main\":true,"
                        "\"duration_ms\":" +
                        std::to_string(movie.duration.count()) +
                        ",\"duration\":\"0:01:00\",\"chapters\":3,\"angles\":1,\"audio\":["
                        "{\"codec\":\"ac3\",\"language\":\"en\",\"channels\":2},"
                        "{\"codec\":\"ac3\",\"language\":\"fr\",\"channels\":2}],"
                        "\"subtitles\":[\"en\"],\"sectors\":" +
                        std::to_string(movie.sectors) +
                        ",\"bytes\":" + std::to_string(movie.sectors * 2048) + "},";
    EXPECT_TRUE(json.output.starts_with(first)) << json.output << "\nexpected\n" << first;
    EXPECT_EQ(all_matches(json.output, R"("number":([0-9]+))"),
              (std::vector<std::string>{"1", "2", "3"}));

    Shell data = ctl(service, "titles " + quote(make_image(dir / "d.iso", MiB, 3).string()));
    EXPECT_EQ(data.status, 4) << data.output;
    EXPECT_TRUE(contains(data.output, "org.freemkv.Rip1.Error.NotDvdVideo")) << data.output;
    Shell drive = ctl(service, "titles sr9");
    EXPECT_EQ(drive.status, 4) << drive.output;
    EXPECT_TRUE(contains(drive.output, "org.freemkv.Rip1.Error.NotFound")) << drive.output;
}

TEST(FreemkvctlRip, TitlesArePassedAndCheckedByTheDaemon) {
    TempDir dir;
    fs::path img = make_image(dir / "disc.img", 32 * 2048, 31);
    Service service(dir);

    Shell ok = ctl(service, "rip --wait " + quote(img.string()) + " --titles 1,3");
    EXPECT_EQ(ok.status, 0) << ok.output;
    Shell twice = ctl(service, "rip " + quote(img.string()) + " --titles 3,3");
    EXPECT_EQ(twice.status, 4) << twice.output;
    EXPECT_TRUE(contains(twice.output, "org.freemkv.Rip1.Error.InvalidArgs")) << twice.output;
    EXPECT_TRUE(contains(twice.output, "names title 3 twice")) << twice.output;
    Shell syntax = ctl(service, "rip " + quote(img.string()) + " --titles 1-3");
    EXPECT_EQ(syntax.status, 2) << syntax.output;
    EXPECT_TRUE(contains(syntax.output, "--titles '1-3'")) << syntax.output;
    EXPECT_EQ(all_matches(service.busctl_call(kRoot, kManager, "ListJobs").output,
                          R"re("(/org/freemkv/Rip1/job/[0-9]+)")re")
                  .size(),
              1u)
        << "only the good one queued a job";
}

}  // namespace
}  // namespace freemkv
