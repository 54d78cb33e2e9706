// extract_bench: one DVD-Video title to MKV, timed and watched; or any other command that writes
// an MKV (mkvmerge), watched the same way, for the side-by-side table of tools/bench-extract.
//
//   extract_bench [--header] [--name NAME] IMAGE TITLE OUT.mkv
//       remuxes TITLE of IMAGE with freemkvd's remux_title() into OUT.mkv through an OutputFile
//       (the writeback pipeline, default policy), as the extract stage does
//   extract_bench [--header] [--name NAME] --command TITLE_BYTES OUT.mkv INPUT... -- CMD ARGS...
//       runs CMD, which reads INPUT... and writes OUT.mkv
//
// Before a run the inputs' pages are dropped from the page cache, so both read cold. One markdown
// row: title MB/s (the title's bytes on the disc over wall time, until the MKV is durable: our run
// publishes, which fdatasyncs; the command is followed by an fdatasync of OUT.mkv, timed too), CPU
// seconds per GB of title (user + system, of this process or of the command), the inputs' and the
// MKV's bytes left in the page cache afterwards (mincore), the MKV's own peak of dirty and
// under-writeback pages (cachestat(2), sampled at 100 Hz) and the machine's peak Dirty+Writeback.
// OUT.mkv is deleted afterwards.

#include <fcntl.h>
#include <getopt.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.hpp"
#include "byte_sink.hpp"
#include "dvd_titles.hpp"
#include "output_file.hpp"
#include "page_cache.hpp"
#include "remux.hpp"
#include "unique_fd.hpp"

using namespace freemkv;
using namespace freemkv::bench;
using Clock = std::chrono::steady_clock;

namespace {

double mib(std::uint64_t bytes) {
    return static_cast<double>(bytes) / MiB;
}

// Samples the MKV's own dirty pages and the machine's Dirty+Writeback at 100 Hz.
class DirtySampler {
  public:
    explicit DirtySampler(std::filesystem::path file)
        : file_(std::move(file)), thread_([this] { run(); }) {}
    ~DirtySampler() { stop(); }
    void stop() {
        if (thread_.joinable()) {
            stop_ = true;
            thread_.join();
        }
    }
    std::uint64_t peak_machine = 0;
    std::optional<std::uint64_t> peak_file;

  private:
    void run() {
        UniqueFd fd;
        while (!stop_) {
            peak_machine = std::max(peak_machine, machine_dirty_bytes());
            if (!fd) {
                fd = UniqueFd(::open(file_.c_str(), O_RDONLY | O_CLOEXEC));
            }
            if (fd) {
                if (auto bytes = dirty_bytes(fd.get())) {
                    peak_file = std::max(peak_file.value_or(0), *bytes);
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    std::filesystem::path file_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

void drop_cache(const std::filesystem::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd || ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED) != 0) {
        throw std::runtime_error("cannot drop the page cache of " + path.string());
    }
}

struct Row {
    std::string name;
    std::uint64_t title_bytes = 0;
    double wall_s = 0;
    double cpu_s = 0;
    std::uint64_t inputs_cached = 0;
    std::uint64_t mkv_bytes = 0;
    std::uint64_t mkv_cached = 0;
    std::optional<std::uint64_t> mkv_dirty_peak;
    std::uint64_t machine_dirty_peak = 0;
};

void print_header() {
    std::printf(
        "| run | title MiB | MKV MiB | MB/s of title | CPU s/GB | input cached after MiB "
        "| MKV cached after MiB | MKV dirty+WB peak MiB | machine Dirty+WB peak MiB |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
}

void print_row(const Row& r) {
    std::string dirty =
        r.mkv_dirty_peak ? std::to_string(std::llround(mib(*r.mkv_dirty_peak))) : "-";
    double gb = static_cast<double>(r.title_bytes) / 1e9;
    std::printf("| %s | %.0f | %.0f | %.1f | %.2f | %.1f | %.1f | %s | %.0f |\n", r.name.c_str(),
                mib(r.title_bytes), mib(r.mkv_bytes),
                static_cast<double>(r.title_bytes) / 1e6 / r.wall_s, r.cpu_s / gb,
                mib(r.inputs_cached), mib(r.mkv_cached), dirty.c_str(), mib(r.machine_dirty_peak));
    std::fflush(stdout);
}

class FileSink : public ByteSink {
  public:
    explicit FileSink(OutputFile& file) : file_(file) {}
    void write_at(std::uint64_t offset, std::span<const std::byte> data) override {
        file_.write_at(offset, data);
    }

  private:
    OutputFile& file_;
};

Row run_ours(const std::filesystem::path& image, int number, const std::filesystem::path& out) {
    auto titles = list_titles(image);
    auto it = std::find_if(titles.begin(), titles.end(),
                           [&](const TitleInfo& t) { return t.number == number; });
    if (it == titles.end()) {
        throw std::invalid_argument("the image has no title " + std::to_string(number));
    }
    drop_cache(image);
    Row row;
    row.title_bytes = it->sectors * 2048;
    double cpu0 = cpu_seconds();
    DirtySampler sampler(out.string() + ".part");
    auto t0 = Clock::now();
    {
        OutputFile file(out, PolicyConfig{});
        FileSink sink(file);
        remux_title(
            image, *it, sink, [](const RemuxProgress&) {}, std::stop_token{});
        file.publish();
    }
    row.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
    sampler.stop();
    row.cpu_s = cpu_seconds() - cpu0;
    row.inputs_cached = cached_bytes(image);
    row.mkv_bytes = std::filesystem::file_size(out);
    row.mkv_cached = cached_bytes(out);
    row.mkv_dirty_peak = sampler.peak_file;
    row.machine_dirty_peak = sampler.peak_machine;
    return row;
}

Row run_command(std::uint64_t title_bytes, const std::filesystem::path& out,
                const std::vector<std::filesystem::path>& inputs, char** argv) {
    for (const auto& input : inputs) {
        drop_cache(input);
    }
    Row row;
    row.title_bytes = title_bytes;
    DirtySampler sampler(out);
    auto t0 = Clock::now();
    pid_t pid = ::fork();
    if (pid < 0) {
        throw std::runtime_error("fork failed");
    }
    if (pid == 0) {
        ::execvp(argv[0], argv);
        std::perror(argv[0]);
        ::_exit(127);
    }
    int status = 0;
    rusage ru{};
    if (::wait4(pid, &status, 0, &ru) != pid) {
        throw std::runtime_error("wait4 failed");
    }
    // mkvmerge exits 1 on warnings and 2 on errors.
    if (!WIFEXITED(status) || WEXITSTATUS(status) >= 2) {
        throw std::runtime_error(std::string(argv[0]) + " failed");
    }
    UniqueFd fd(::open(out.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd || ::fdatasync(fd.get()) != 0) {
        throw std::runtime_error("cannot sync " + out.string());
    }
    row.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
    sampler.stop();
    auto tv = [](timeval t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    row.cpu_s = tv(ru.ru_utime) + tv(ru.ru_stime);
    for (const auto& input : inputs) {
        row.inputs_cached += cached_bytes(input);
    }
    row.mkv_bytes = std::filesystem::file_size(out);
    row.mkv_cached = cached_bytes(out);
    row.mkv_dirty_peak = sampler.peak_file;
    row.machine_dirty_peak = sampler.peak_machine;
    return row;
}

}  // namespace

int main(int argc, char** argv) {
    spdlog::set_level(spdlog::level::warn);
    bool header = false, command = false;
    std::string name;
    static option longopts[] = {{"header", no_argument, nullptr, 'H'},
                                {"name", required_argument, nullptr, 'n'},
                                {"command", no_argument, nullptr, 'c'},
                                {nullptr, 0, nullptr, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "+", longopts, nullptr)) != -1) {
        switch (c) {
            case 'H':
                header = true;
                break;
            case 'n':
                name = optarg;
                break;
            case 'c':
                command = true;
                break;
            default:
                std::fprintf(stderr, "extract_bench: see the usage in extract_bench.cpp\n");
                return 2;
        }
    }
    try {
        if (header) {
            print_header();
        }
        if (optind == argc && header) {
            return 0;
        }
        Row row;
        if (!command) {
            if (argc - optind != 3) {
                throw std::invalid_argument("usage: extract_bench IMAGE TITLE OUT.mkv");
            }
            std::filesystem::path out = argv[optind + 2];
            row = run_ours(argv[optind], std::stoi(argv[optind + 1]), out);
            std::filesystem::remove(out);
        } else {
            if (argc - optind < 4) {
                throw std::invalid_argument(
                    "usage: extract_bench --command TITLE_BYTES OUT.mkv INPUT... -- CMD ARGS...");
            }
            std::uint64_t title_bytes = std::stoull(argv[optind]);
            std::filesystem::path out = argv[optind + 1];
            std::vector<std::filesystem::path> inputs;
            int i = optind + 2;
            for (; i < argc && std::string_view(argv[i]) != "--"; ++i) {
                inputs.emplace_back(argv[i]);
            }
            if (i + 1 >= argc) {
                throw std::invalid_argument("extract_bench --command: no command after --");
            }
            row = run_command(title_bytes, out, inputs, argv + i + 1);
            std::filesystem::remove(out);
        }
        row.name = name.empty() ? (command ? "command" : "freemkvd") : name;
        print_row(row);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "extract_bench: %s\n", e.what());
        return 1;
    }
}
