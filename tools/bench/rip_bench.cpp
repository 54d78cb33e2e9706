// rip_bench: one whole rip, source to library, through freemkv::rip() with the product's
// defaults (balanced policy, 64 MiB buffer) unless told otherwise. Prints one markdown table row:
// rip throughput (bytes / wall time including the final publish) and its fraction of the source's
// nominal speed, the peak of the output file's own dirty + under-writeback pages (cachestat(2))
// and of Dirty+Writeback system-wide (and its value at the start), peak RSS of this process,
// CPU time per GB, the chunk sizes the writeback policy went through, and the longest time the
// ripping thread went without reading (a stalled reader: the buffer was full, or the source itself
// paused). /proc is sampled at 100 Hz on a thread whose own CPU time is not counted. The output is
// deleted afterwards; SIGINT/SIGTERM cancel the rip and delete it too.
//
//   rip_bench [--rate-mbps N] [--buffer SIZE] [--policy balanced|seed|fixed] [--title T]
//             [--header] SOURCE LIBRARY_DIR
//   rip_bench --header        (just the table header)
//
// --rate-mbps is only the source's nominal speed for the fraction column (tools/bench-rip
// throttles the source itself with faultfs). --header prints the table header before the row.

#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>

#include "bench_common.hpp"
#include "page_cache.hpp"
#include "ripper.hpp"
#include "unique_fd.hpp"

using namespace freemkv;
using namespace freemkv::bench;
using Clock = std::chrono::steady_clock;
using std::chrono::duration;

namespace {

struct Options {
    std::filesystem::path source;
    std::filesystem::path library;
    double rate_mbps = 0;  // 0: unknown (no fraction)
    std::optional<std::size_t> buffer;
    std::optional<PolicyKind> policy;
    std::string title;
    bool header = false;
};

double secs(Clock::duration d) {
    return duration<double>(d).count();
}
double mib(std::uint64_t bytes) {
    return static_cast<double>(bytes) / MiB;
}

std::uint64_t proc_value(const std::string& path, std::string_view key) {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with(key)) {
            return std::strtoull(line.c_str() + key.size(), nullptr, 10);
        }
    }
    return 0;
}

// Samples at 100 Hz: Dirty+Writeback, the output's own dirty pages, this process's VmRSS, and the
// bytes the ripping thread has read (its own rchar), to find the longest gap between two reads.
// Also takes SIGINT/SIGTERM (blocked in every thread) and turns them into a cancel.
class Sampler {
  public:
    static constexpr auto period = std::chrono::milliseconds(10);

    Sampler(pid_t reader_tid, std::filesystem::path part, std::stop_source cancel)
        : reader_io_("/proc/self/task/" + std::to_string(reader_tid) + "/io"),
          part_(std::move(part)),
          cancel_(std::move(cancel)),
          thread_([this] { run(); }) {}
    ~Sampler() { stop(); }

    void stop() {
        if (thread_.joinable()) {
            stop_ = true;
            thread_.join();
        }
    }

    // Valid after stop().
    std::uint64_t peak_dirty = 0;
    std::optional<std::uint64_t> peak_file_dirty;  // unset: no cachestat(2)
    std::uint64_t peak_rss = 0;
    Clock::duration max_read_gap{0};
    double own_cpu_s = 0;
    int signal = 0;

  private:
    void run() {
        sigset_t signals;
        sigemptyset(&signals);
        sigaddset(&signals, SIGINT);
        sigaddset(&signals, SIGTERM);
        const timespec poll{};
        std::uint64_t last_rchar = proc_value(reader_io_, "rchar:");
        std::optional<Clock::time_point> last_read;
        while (!stop_) {
            if (int sig = ::sigtimedwait(&signals, nullptr, &poll); sig > 0) {
                signal = sig;
                cancel_.request_stop();
            }
            peak_dirty = std::max(peak_dirty, machine_dirty_bytes());
            sample_file();
            peak_rss = std::max(peak_rss, proc_kb("/proc/self/status", {"VmRSS:"}));
            // Gaps count only between two reads: not before the first (opening, the mapfile) nor
            // after the last (the final sync and publish).
            std::uint64_t rchar = proc_value(reader_io_, "rchar:");
            if (rchar != last_rchar) {
                auto now = Clock::now();
                if (last_read) {
                    max_read_gap = std::max(max_read_gap, now - *last_read);
                }
                last_read = now;
                last_rchar = rchar;
            }
            std::this_thread::sleep_for(period);
        }
        timespec cpu{};
        ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
        own_cpu_s = static_cast<double>(cpu.tv_sec) + static_cast<double>(cpu.tv_nsec) / 1e9;
    }

    void sample_file() {
        if (!file_) {
            // The rip creates it; the descriptor still reads the file once it is renamed.
            file_ = UniqueFd(::open(part_.c_str(), O_RDONLY | O_CLOEXEC));
            if (!file_) {
                return;
            }
        }
        if (auto bytes = dirty_bytes(file_.get())) {
            peak_file_dirty = std::max(peak_file_dirty.value_or(0), *bytes);
        }
    }

    std::string reader_io_;
    std::filesystem::path part_;
    UniqueFd file_;
    std::stop_source cancel_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// The chunk sizes the policy went through; resizes come on the writer thread.
class ChunkTracker : public RipObserver {
  public:
    explicit ChunkTracker(std::uint64_t start) : min(start), max(start), last(start) {}
    void on_resize(const Resize& r) override {
        std::lock_guard lock(mutex_);
        min = std::min(min, r.new_bytes);
        max = std::max(max, r.new_bytes);
        last = r.new_bytes;
    }
    std::uint64_t min, max, last;

  private:
    std::mutex mutex_;
};

Options parse(int argc, char** argv) {
    Options o;
    static option longopts[] = {
        {"rate-mbps", required_argument, nullptr, 'r'}, {"buffer", required_argument, nullptr, 'b'},
        {"policy", required_argument, nullptr, 'p'},    {"title", required_argument, nullptr, 't'},
        {"header", no_argument, nullptr, 'H'},          {nullptr, 0, nullptr, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, nullptr)) != -1) {
        switch (c) {
            case 'r':
                o.rate_mbps = std::stod(optarg);
                break;
            case 'b':
                o.buffer = parse_size(optarg);
                break;
            case 'p':
                o.policy = parse_policy_kind(optarg);
                if (!o.policy) {
                    throw std::invalid_argument(std::string("unknown policy '") + optarg +
                                                "' (balanced, seed, fixed)");
                }
                break;
            case 't':
                o.title = optarg;
                break;
            case 'H':
                o.header = true;
                break;
            default:
                throw std::invalid_argument("see the usage at the top of rip_bench.cpp");
        }
    }
    if (o.header && optind == argc) {
        return o;
    }
    if (optind + 2 != argc) {
        throw std::invalid_argument("usage: rip_bench [options] SOURCE LIBRARY_DIR");
    }
    o.source = argv[optind];
    o.library = argv[optind + 1];
    if (!std::filesystem::is_directory(o.library)) {
        throw std::invalid_argument("library '" + o.library.string() + "' is not a directory");
    }
    if (o.title.empty()) {
        o.title = o.source.string();
    }
    return o;
}

void print_header() {
    std::printf(
        "| run | source MB/s | rip MB/s | of source | output dirty+WB MiB peak "
        "| system Dirty+Writeback MiB start/peak | peak RSS MiB | VmHWM MiB | CPU s/GB | chunk MiB "
        "final/min/max | reader max gap ms |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
}

void remove_output(const std::filesystem::path& final_path) {
    std::error_code ignored;
    std::filesystem::remove(final_path, ignored);
    std::filesystem::remove(final_path.string() + ".part", ignored);
    std::filesystem::remove(mapfile_path(final_path), ignored);
}

int run_bench(const Options& o) {
    RipOptions options;
    options.block_sectors = 32;
    if (o.buffer) {
        options.buffer.buffer_bytes = *o.buffer;
    }
    if (o.policy) {
        options.writeback.kind = *o.policy;
    }
    validate(options.buffer);
    validate(options.writeback);

    auto out = o.library / ("rip-bench-" + std::to_string(::getpid()) + ".iso");
    remove_output(out);
    // Start from a clean page cache, so earlier dirty data is not counted against this rip.
    ::sync();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));

    // System-wide: anything else writing meanwhile counts too, so the baseline is in the row.
    std::uint64_t dirty_start = machine_dirty_bytes();
    ChunkTracker chunks(options.writeback.start_bytes);
    std::stop_source cancel;
    double cpu0 = cpu_seconds();
    Sampler sampler(::gettid(), out.string() + ".part", cancel);
    auto t0 = Clock::now();
    RipResult result = rip(o.source, out, options, &chunks, cancel.get_token());
    auto wall = Clock::now() - t0;
    sampler.stop();
    double cpu = cpu_seconds() - cpu0 - sampler.own_cpu_s;
    std::uint64_t hwm = proc_kb("/proc/self/status", {"VmHWM:"});
    remove_output(out);

    if (sampler.signal) {
        std::fprintf(stderr, "rip_bench: %s, output deleted\n", strsignal(sampler.signal));
        return 128 + sampler.signal;
    }
    if (result.outcome != RipOutcome::ok) {
        std::fprintf(stderr, "rip_bench: rip %s: %s\n",
                     std::string(to_string(result.outcome)).c_str(), result.reason.c_str());
        return 1;
    }
    double bytes = static_cast<double>(result.bytes_read);
    double mbps = bytes / 1e6 / secs(wall);
    std::string nominal = "-", fraction = "-";
    if (o.rate_mbps > 0) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.0f", o.rate_mbps);
        nominal = buf;
        std::snprintf(buf, sizeof buf, "%.1f %%", 100 * mbps / o.rate_mbps);
        fraction = buf;
    }
    if (o.header) {
        print_header();
    }
    std::string file_dirty = "-";
    if (sampler.peak_file_dirty) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.0f", mib(*sampler.peak_file_dirty));
        file_dirty = buf;
    }
    std::printf(
        "| %s | %s | %.1f | %s | %s | %.0f / %.0f | %.1f | %.1f | %.2f | %.0f / %.0f / %.0f "
        "| %.0f |\n",
        o.title.c_str(), nominal.c_str(), mbps, fraction.c_str(), file_dirty.c_str(),
        mib(dirty_start), mib(sampler.peak_dirty), mib(sampler.peak_rss), mib(hwm),
        cpu / (bytes / 1e9), mib(chunks.last), mib(chunks.min), mib(chunks.max),
        duration<double, std::milli>(sampler.max_read_gap).count());
    std::fflush(stdout);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // The row is the result; the rip's log lines would only interleave with the table.
    spdlog::set_level(spdlog::level::warn);
    // Blocked before any thread starts, so every thread inherits it and only the sampler's
    // sigtimedwait() takes these: the rip is cancelled and its output deleted.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    try {
        Options o = parse(argc, argv);
        if (o.source.empty()) {
            print_header();
            return 0;
        }
        return run_bench(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rip_bench: %s\n", e.what());
        return 1;
    }
}
