// audio_bench: one album rip timed, for tools/bench-audio, which sets it beside the flac CLI.
//
//   audio_bench CUE OUT_DIR PARANOIA LEVEL
//       rips every audio track of CUE (its BIN read with pread, as a handed-over image is) with
//       rip_album into OUT_DIR, which must not exist (rip_album would keep a finished track from
//       an earlier run): ParanoiaReader in mode PARANOIA (full, overlap, off), FLAC at LEVEL (0-8)
//       through each track's OutputFile (default writeback policy; publish fdatasyncs).
//
// Prints one machine-readable line, of the whole rip_album call:
//   wall_s=12.345 user_s=11.000 sys_s=0.500 maxrss_kib=12345 output_bytes=456789 samples=123
//   reads=1000 verifies=1000
// wall is steady_clock; user and sys are getrusage(RUSAGE_SELF), ru_maxrss the process's peak
// (it reads the BIN with pread, so the BIN's page cache is not in it); output_bytes is the sum of
// the FLAC files' sizes, samples the stereo samples the tracks hold, reads and verifies paranoia's
// callbacks summed over the tracks (TrackReadStats). OUT_DIR is left in place.

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "album_rip.hpp"
#include "cd_source.hpp"

using namespace freemkv;
namespace fs = std::filesystem;

namespace {

double seconds(timeval t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
    spdlog::set_level(spdlog::level::warn);
    if (argc != 5) {
        std::fprintf(stderr, "usage: audio_bench CUE OUT_DIR full|overlap|off LEVEL\n");
        return 2;
    }
    try {
        fs::path cue = argv[1];
        fs::path out = argv[2];
        if (fs::exists(out)) {
            throw std::invalid_argument(out.string() + " exists: the rip would keep its tracks");
        }
        AlbumOptions options;
        options.paranoia.mode = parse_paranoia_mode(argv[3]);
        options.flac.compression_level = std::stoi(argv[4]);
        options.program = "audio_bench";

        auto source = CdSource::open_cue(cue);
        AlbumNaming naming;
        naming.track_file = [](const CdTrack& t) {
            char name[16];
            std::snprintf(name, sizeof name, "%02d.flac", t.number);
            return fs::path(name);
        };

        auto t0 = std::chrono::steady_clock::now();
        AlbumResult result =
            rip_album(*source, AlbumMeta::from_toc(source->toc()), out, naming, options);
        double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        rusage ru{};
        ::getrusage(RUSAGE_SELF, &ru);

        if (result.errors || result.cancelled) {
            throw std::runtime_error("the rip reported read errors or was cancelled");
        }
        std::uintmax_t bytes = 0;
        std::uint64_t samples = 0, reads = 0, verifies = 0;
        for (const auto& t : result.tracks) {
            if (!t.file.empty()) {  // a silent hidden track one audio has no file
                bytes += fs::file_size(out / t.file);
            }
            samples += t.stats.samples;
            reads += t.stats.reads;
            verifies += t.stats.verifies;
        }
        std::printf(
            "wall_s=%.3f user_s=%.3f sys_s=%.3f maxrss_kib=%ld output_bytes=%ju samples=%ju "
            "reads=%ju verifies=%ju\n",
            wall, seconds(ru.ru_utime), seconds(ru.ru_stime), ru.ru_maxrss, bytes,
            static_cast<std::uintmax_t>(samples), static_cast<std::uintmax_t>(reads),
            static_cast<std::uintmax_t>(verifies));
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "audio_bench: %s\n", e.what());
        return 1;
    }
}
