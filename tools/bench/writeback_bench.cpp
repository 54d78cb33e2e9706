// writeback_bench: every way of writing a rip to disk, side by side on the same data.
//
// A producer (the "drive") hands out 1 MiB blocks, unlimited or paced at an optical drive's
// rate, and each method writes them to TARGET_DIR. For each method it prints throughput
// including the final flush, peak Dirty+Writeback (sampled from /proc/meminfo at 100 Hz), the
// file's pages left in the page cache, per-write latency, the time the producer spent inside
// write calls, CPU time, and the chunk sizes an adaptive pipeline went through.
//
//   writeback_bench [--size BYTES] [--rate MB/s] [--chunk BYTES] [--buffer BYTES]
//                   [--methods a,b,...] [--title TEXT] TARGET_DIR

#include <fcntl.h>
#include <getopt.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "async_writer.hpp"
#include "bench_common.hpp"
#include "io_error.hpp"
#include "output_file.hpp"
#include "page_cache.hpp"
#include "unique_fd.hpp"

using namespace freemkv;
using namespace freemkv::bench;
using Clock = std::chrono::steady_clock;
using std::chrono::duration;

namespace {

constexpr std::size_t block_size = 1 * MiB;

struct Options {
    std::filesystem::path target;
    std::uint64_t size = 2048 * MiB;
    double rate_mbps = 0;  // 0: unlimited
    std::uint64_t chunk = 32 * MiB;
    std::size_t buffer = 64 * MiB;
    std::vector<std::string> methods = {"naive",        "fdatasync",   "direct",
                                        "fixed",        "seed",        "balanced",
                                        "fixed+buffer", "seed+buffer", "balanced+buffer"};
    std::string title;
};

double secs(Clock::duration d) {
    return duration<double>(d).count();
}
double msecs(Nanos d) {
    return duration<double, std::milli>(d).count();
}

// Samples at 100 Hz, keeping the peaks: Dirty + Writeback from /proc/meminfo (the whole
// machine), and the output file's own dirty + writeback pages (cachestat), which other writers
// on the machine cannot inflate.
class DirtySampler {
  public:
    explicit DirtySampler(std::filesystem::path output)
        : output_(std::move(output)), thread_([this] { run(); }) {}
    ~DirtySampler() {
        stop_ = true;
        thread_.join();
    }
    std::uint64_t peak() const { return peak_; }
    std::uint64_t peak_own() const { return peak_own_; }

  private:
    void run() {
        UniqueFd file;
        while (!stop_) {
            peak_ = std::max<std::uint64_t>(peak_, machine_dirty_bytes());
            if (!file) {
                // The pipeline writes "<name>.part" until it publishes.
                for (const auto& p : {output_, std::filesystem::path(output_.string() + ".part")}) {
                    if (!file) {
                        file = UniqueFd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
                    }
                }
            }
            if (file) {
                peak_own_ = std::max<std::uint64_t>(peak_own_, dirty_bytes(file.get()).value_or(0));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    std::filesystem::path output_;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> peak_{0};
    std::atomic<std::uint64_t> peak_own_{0};
    std::thread thread_;
};

class ChunkTracker : public WritebackObserver {
  public:
    void on_chunk(const ChunkEvent& e) override {
        min = std::min(min, e.chunk_bytes);
        max = std::max(max, e.chunk_bytes);
        last = e.chunk_bytes;
    }
    void on_resize(const Resize&) override { ++resizes; }
    std::uint64_t min = UINT64_MAX, max = 0, last = 0;
    int resizes = 0;
};

// What a method does with the stream of blocks.
class Sink {
  public:
    virtual ~Sink() = default;
    virtual void write(std::span<const std::byte> block) = 0;
    virtual void finish() = 0;  // everything durable
    virtual const ChunkTracker* chunks() const { return nullptr; }
};

void write_all(int fd, std::span<const std::byte> data, const std::filesystem::path& path,
               std::uint64_t& pos) {
    while (!data.empty()) {
        ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(pos));
        if (n < 0) {
            throw IoError("write", path, pos, errno);
        }
        data = data.subspan(static_cast<std::size_t>(n));
        pos += static_cast<std::uint64_t>(n);
    }
}

UniqueFd open_out(const std::filesystem::path& path, int extra) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | extra, 0644));
    if (!fd) {
        throw IoError("open", path, 0, errno);
    }
    return fd;
}

void sync_fd(int fd, const std::filesystem::path& path, std::uint64_t pos) {
    if (::fdatasync(fd) != 0) {
        throw IoError("sync", path, pos, errno);
    }
}

// Plain buffered write(); optionally fdatasync after every `sync_every` bytes.
class BufferedSink : public Sink {
  public:
    BufferedSink(std::filesystem::path path, std::uint64_t sync_every)
        : path_(std::move(path)), fd_(open_out(path_, 0)), sync_every_(sync_every) {}
    void write(std::span<const std::byte> block) override {
        write_all(fd_.get(), block, path_, pos_);
        if (sync_every_ && pos_ % sync_every_ == 0) {
            sync_fd(fd_.get(), path_, pos_);
        }
    }
    void finish() override { sync_fd(fd_.get(), path_, pos_); }

  private:
    std::filesystem::path path_;
    UniqueFd fd_;
    std::uint64_t sync_every_;
    std::uint64_t pos_ = 0;
};

// O_DIRECT: blocks are gathered into an aligned buffer of `chunk` bytes and written from it.
class DirectSink : public Sink {
  public:
    DirectSink(std::filesystem::path path, std::size_t chunk)
        : path_(std::move(path)), fd_(open_out(path_, O_DIRECT)), chunk_(chunk) {
        void* p = nullptr;
        if (::posix_memalign(&p, 4096, chunk_) != 0) {
            throw std::bad_alloc();
        }
        buf_.reset(static_cast<std::byte*>(p));
    }
    void write(std::span<const std::byte> block) override {
        std::memcpy(buf_.get() + fill_, block.data(), block.size());
        fill_ += block.size();
        if (fill_ == chunk_) {
            flush();
        }
    }
    void finish() override {
        flush();
        sync_fd(fd_.get(), path_, pos_);
    }

  private:
    void flush() {
        write_all(fd_.get(), std::span(buf_.get(), fill_), path_, pos_);
        fill_ = 0;
    }
    struct Free {
        void operator()(std::byte* p) const { std::free(p); }
    };
    std::filesystem::path path_;
    UniqueFd fd_;
    std::size_t chunk_;
    std::unique_ptr<std::byte, Free> buf_;
    std::size_t fill_ = 0;
    std::uint64_t pos_ = 0;
};

// The writeback pipeline, written to directly or through the bounded buffer.
class PipelineSink : public Sink {
  public:
    PipelineSink(const std::filesystem::path& path, const PolicyConfig& policy,
                 std::optional<BufferConfig> buffer)
        : file_(path, policy, OutputFile::Mode::truncate, &tracker_) {
        if (buffer) {
            writer_ = std::make_unique<AsyncWriter>(file_, *buffer);
        }
    }
    void write(std::span<const std::byte> block) override {
        if (writer_) {
            writer_->write(block);
        } else {
            file_.write(block);
        }
    }
    void finish() override {
        if (writer_) {
            writer_->close();
        }
        file_.publish();
    }
    const ChunkTracker* chunks() const override { return &tracker_; }

  private:
    ChunkTracker tracker_;
    OutputFile file_;
    std::unique_ptr<AsyncWriter> writer_;
};

std::unique_ptr<Sink> make_sink(const std::string& method, const Options& o,
                                const std::filesystem::path& path) {
    if (method == "naive") {
        return std::make_unique<BufferedSink>(path, 0);
    }
    if (method == "fdatasync") {
        return std::make_unique<BufferedSink>(path, o.chunk);
    }
    if (method == "direct") {
        return std::make_unique<DirectSink>(path, o.chunk);
    }
    std::string policy_name = method;
    std::optional<BufferConfig> buffer;
    if (auto plus = method.find("+buffer"); plus != std::string::npos) {
        policy_name = method.substr(0, plus);
        buffer = BufferConfig{.buffer_bytes = o.buffer, .block_bytes = block_size};
    }
    auto kind = parse_policy_kind(policy_name);
    if (!kind) {
        throw std::invalid_argument("unknown method '" + method + "'");
    }
    PolicyConfig policy;
    policy.kind = *kind;
    policy.start_bytes = o.chunk;
    return std::make_unique<PipelineSink>(path, policy, buffer);
}

struct Result {
    double mbps;
    std::uint64_t peak_dirty;
    std::uint64_t peak_own_dirty;
    std::uint64_t cache_left;
    Nanos p50, p99, max;
    double blocked_s;
    double cpu_s;
    std::string chunks;
};

Result run_method(const std::string& method, const Options& o,
                  const std::vector<std::byte>& pattern) {
    auto path = o.target / ("bench-" + method + ".out");
    std::filesystem::remove(path);
    ::sync();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));

    std::vector<Nanos> latencies;
    latencies.reserve(o.size / block_size);
    Result r{};
    double cpu0 = cpu_seconds();
    auto start = Clock::now();
    {
        DirtySampler sampler(path);
        auto sink = make_sink(method, o, path);
        std::uint64_t produced = 0;
        while (produced < o.size) {
            if (o.rate_mbps > 0) {
                // The drive delivers the next block no earlier than its rate allows.
                std::this_thread::sleep_until(
                    start + std::chrono::duration_cast<Clock::duration>(
                                duration<double>(produced / (o.rate_mbps * 1e6))));
            }
            std::size_t off = (produced / block_size) % (pattern.size() / block_size) * block_size;
            auto t0 = Clock::now();
            sink->write(std::span(pattern).subspan(off, block_size));
            latencies.push_back(Clock::now() - t0);
            produced += block_size;
        }
        sink->finish();
        auto elapsed = Clock::now() - start;
        r.mbps = static_cast<double>(o.size) / 1e6 / secs(elapsed);
        r.peak_dirty = sampler.peak();
        r.peak_own_dirty = sampler.peak_own();
        if (const ChunkTracker* c = sink->chunks(); c && c->max > 0) {
            std::ostringstream s;
            s << c->last / MiB << "/" << c->min / MiB << "/" << c->max / MiB;
            r.chunks = s.str();
        } else {
            r.chunks = "-";
        }
    }
    r.cpu_s = cpu_seconds() - cpu0;
    r.cache_left = cached_bytes(path);
    Nanos blocked{0};
    for (auto l : latencies) {
        blocked += l;
    }
    r.blocked_s = secs(blocked);
    std::sort(latencies.begin(), latencies.end());
    r.p50 = latencies[latencies.size() / 2];
    r.p99 = latencies[latencies.size() * 99 / 100];
    r.max = latencies.back();
    std::filesystem::remove(path);
    return r;
}

Options parse(int argc, char** argv) {
    Options o;
    static option longopts[] = {{"size", required_argument, nullptr, 's'},
                                {"rate", required_argument, nullptr, 'r'},
                                {"chunk", required_argument, nullptr, 'c'},
                                {"buffer", required_argument, nullptr, 'b'},
                                {"methods", required_argument, nullptr, 'm'},
                                {"title", required_argument, nullptr, 't'},
                                {nullptr, 0, nullptr, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, nullptr)) != -1) {
        switch (c) {
            case 's':
                o.size = parse_size(optarg) / block_size * block_size;
                break;
            case 'r':
                o.rate_mbps = std::stod(optarg);
                break;
            case 'c':
                o.chunk = parse_size(optarg);
                break;
            case 'b':
                o.buffer = parse_size(optarg);
                break;
            case 'm': {
                o.methods.clear();
                std::stringstream list(optarg);
                for (std::string m; std::getline(list, m, ',');) {
                    o.methods.push_back(m);
                }
                break;
            }
            case 't':
                o.title = optarg;
                break;
            default:
                throw std::invalid_argument("see the usage at the top of writeback_bench.cpp");
        }
    }
    if (optind + 1 != argc) {
        throw std::invalid_argument("usage: writeback_bench [options] TARGET_DIR");
    }
    o.target = argv[optind];
    if (!std::filesystem::is_directory(o.target)) {
        throw std::invalid_argument("target '" + o.target.string() + "' is not a directory");
    }
    if (o.chunk % block_size != 0 || o.chunk < 4 * MiB) {
        throw std::invalid_argument("--chunk must be a multiple of 1 MiB and at least 4 MiB");
    }
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    // Resizes are in the table; log lines would only interleave with it.
    spdlog::set_level(spdlog::level::warn);
    try {
        Options o = parse(argc, argv);
        std::vector<std::byte> pattern(64 * MiB);
        std::mt19937_64 rng(42);
        for (auto& b : pattern) {
            b = static_cast<std::byte>(rng());
        }
        std::printf("\n### %s\n\n", o.title.empty() ? o.target.c_str() : o.title.c_str());
        std::printf(
            "%s MiB to %s, source %s, chunk %llu MiB, buffer %zu MiB; "
            "Dirty+Writeback before: %.1f MiB\n\n",
            std::to_string(o.size / MiB).c_str(), o.target.c_str(),
            o.rate_mbps > 0 ? (std::to_string(static_cast<int>(o.rate_mbps)) + " MB/s").c_str()
                            : "unlimited",
            static_cast<unsigned long long>(o.chunk / MiB), o.buffer / MiB,
            static_cast<double>(machine_dirty_bytes()) / MiB);
        std::printf(
            "| method | MB/s | peak Dirty+WB MiB (machine) | peak dirty+WB MiB (file) "
            "| cache left MiB | write p50/p99/max ms | producer blocked s | CPU s "
            "| chunk MiB final/min/max |\n");
        std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (const auto& m : o.methods) {
            Result r = run_method(m, o, pattern);
            std::printf(
                "| %s | %.0f | %.0f | %.0f | %.0f | %.2f / %.1f / %.0f | %.2f | %.2f | %s |\n",
                m.c_str(), r.mbps, static_cast<double>(r.peak_dirty) / MiB,
                static_cast<double>(r.peak_own_dirty) / MiB,
                static_cast<double>(r.cache_left) / MiB, msecs(r.p50), msecs(r.p99), msecs(r.max),
                r.blocked_s, r.cpu_s, r.chunks.c_str());
            std::fflush(stdout);
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "writeback_bench: %s\n", e.what());
        return 1;
    }
}
