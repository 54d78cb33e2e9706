#include "paranoia_reader.hpp"

#include <cdio/cdio.h>
#include <cdio/paranoia/cdda.h>
#include <cdio/paranoia/paranoia.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "audio_error.hpp"
#include "utf8.hpp"

namespace freemkv {

namespace {

constexpr std::int64_t kFrameSamples = kCdSamplesPerFrame;

// Paranoia's callback and read function take no user pointer: the read in progress on this
// thread is found here.
thread_local TrackReadStats* current_stats = nullptr;
thread_local int current_bin_fd = -1;

void count(long position, paranoia_cb_mode_t mode) {
    TrackReadStats* stats = current_stats;
    if (stats == nullptr) {
        return;
    }
    switch (mode) {
        case PARANOIA_CB_READ:
            ++stats->reads;
            break;
        case PARANOIA_CB_VERIFY:
            ++stats->verifies;
            break;
        case PARANOIA_CB_FIXUP_EDGE:
        case PARANOIA_CB_FIXUP_ATOM:
        case PARANOIA_CB_FIXUP_DROPPED:
        case PARANOIA_CB_FIXUP_DUPED:
            ++stats->fixups;
            break;
        case PARANOIA_CB_SKIP:
            ++stats->skips;
            // Paranoia counts in 16-bit words: two a stereo sample.
            stats->skip_positions.push_back(position > 0 ? static_cast<std::uint64_t>(position) / 2
                                                         : 0);
            break;
        case PARANOIA_CB_READERR:
            ++stats->read_errors;
            break;
        default:
            break;
    }
}

// Reads `frames` frames at `first` from the BIN; false on a read error. Past its end (a BIN cut
// short inside its last frame) the frames are zeros.
bool pread_frames(char* out, lsn_t first, long frames) {
    std::size_t want = static_cast<std::size_t>(frames) * kCdFrameBytes;
    std::size_t done = 0;
    off_t offset = static_cast<off_t>(first) * kCdFrameBytes;
    while (done < want) {
        ssize_t n =
            ::pread(current_bin_fd, out + done, want - done, offset + static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return false;
        }
        if (n == 0) {
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    std::memset(out + done, 0, want - done);
    return true;
}

// Paranoia's read function for an image: the BIN through its descriptor. Like a drive, a read
// that fails part way delivers the frames before the bad one (paranoia retries the rest), and
// fails when the first is bad. Paranoia passes no buffer when it only moves the drive's cache
// away (cache busting): nothing to read then.
long read_from_bin(cdrom_drive_t* /*drive*/, void* buffer, lsn_t begin, long sectors) {
    if (buffer == nullptr || begin < 0) {
        return buffer == nullptr ? sectors : -1;
    }
    auto* out = static_cast<char*>(buffer);
    if (pread_frames(out, begin, sectors)) {
        return sectors;
    }
    for (long i = 0; i < sectors; ++i) {
        if (!pread_frames(out + i * kCdFrameBytes, begin + static_cast<lsn_t>(i), 1)) {
            spdlog::debug("reading the BIN at frame {}: {}", begin + i, std::strerror(errno));
            return i > 0 ? i : -1;
        }
    }
    return sectors;
}

void log_lines(const std::string& from, char* text, bool error) {
    if (text == nullptr) {
        return;
    }
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.empty()) {
            continue;
        }
        if (error) {
            spdlog::warn("{}: paranoia: {}", from, safe_text(line));
        } else {
            spdlog::debug("{}: paranoia: {}", from, safe_text(line));
        }
    }
    cdio_cddap_free_messages(text);
}

}  // namespace

ParanoiaMode parse_paranoia_mode(const std::string& name) {
    if (name == "full") {
        return ParanoiaMode::full;
    }
    if (name == "overlap") {
        return ParanoiaMode::overlap;
    }
    if (name == "off") {
        return ParanoiaMode::off;
    }
    throw AudioError(
        fmt::format("paranoia mode \"{}\" is not one of full, overlap, off", safe_text(name)));
}

const char* paranoia_mode_name(ParanoiaMode mode) {
    switch (mode) {
        case ParanoiaMode::full:
            return "full";
        case ParanoiaMode::overlap:
            return "overlap";
        case ParanoiaMode::off:
            return "off";
    }
    return "?";
}

struct ParanoiaReader::State {
    cdrom_drive_t* drive = nullptr;
    cdrom_paranoia_t* paranoia = nullptr;

    void drain(const std::string& from) const {
        log_lines(from, cdio_cddap_messages(drive), false);
        log_lines(from, cdio_cddap_errors(drive), true);
    }
    ~State() {
        if (paranoia != nullptr) {
            cdio_paranoia_free(paranoia);
        }
        if (drive != nullptr) {
            // cdio_cddap_close would also close the CdIo handle, which the CdSource owns.
            cdio_cddap_close_no_free_cdio(drive);
        }
    }
};

ParanoiaReader::ParanoiaReader(const CdSource& source, ParanoiaOptions options)
    : source_(source), options_(options), state_(std::make_unique<State>()) {
    char* messages = nullptr;
    state_->drive = cdio_cddap_identify_cdio(source.cdio(), CDDA_MESSAGE_LOGIT, &messages);
    log_lines(source.name(), messages, false);
    if (state_->drive == nullptr) {
        throw AudioError(source.name() + ": paranoia cannot use it as an audio CD");
    }
    cdio_cddap_verbose_set(state_->drive, CDDA_MESSAGE_LOGIT, CDDA_MESSAGE_LOGIT);
    int opened = cdio_cddap_open(state_->drive);
    state_->drain(source.name());
    if (opened != 0) {
        throw AudioError(
            fmt::format("{}: paranoia cannot open it (error {})", source.name(), opened));
    }
    state_->drive->bigendianp = 0;
    if (source.bin_fd() >= 0) {
        state_->drive->read_audio = &read_from_bin;
    }
    state_->paranoia = cdio_paranoia_init(state_->drive);
    if (state_->paranoia == nullptr) {
        throw AudioError(source.name() + ": paranoia cannot start");
    }
    int flags = PARANOIA_MODE_DISABLE;
    switch (options_.mode) {
        case ParanoiaMode::full:
            // Without NEVERSKIP: after `retries` paranoia gives up on a sector (a skip) rather
            // than retry forever, as cdparanoia does by default.
            flags = PARANOIA_MODE_FULL ^ PARANOIA_MODE_NEVERSKIP;
            break;
        case ParanoiaMode::overlap:
            flags = PARANOIA_MODE_OVERLAP;
            break;
        case ParanoiaMode::off:
            flags = PARANOIA_MODE_DISABLE;
            break;
    }
    cdio_paranoia_modeset(state_->paranoia, flags);
}

ParanoiaReader::~ParanoiaReader() = default;

TrackReadStats ParanoiaReader::read_track(int number, const SampleSink& sink, std::stop_token stop,
                                          const ReadProgress& progress) {
    const CdToc& toc = source_.toc();
    const CdTrack* track = toc.track(number);
    if (track == nullptr || !track->audio) {
        throw AudioError(
            fmt::format("{}: track {} is not an audio track of the disc", source_.name(), number));
    }
    return read_frames(track->start, toc.frames(*track), fmt::format("track {}", number), sink,
                       std::move(stop), progress);
}

TrackReadStats ParanoiaReader::read_hidden(const SampleSink& sink, std::stop_token stop,
                                           const ReadProgress& progress) {
    return read_frames(0, source_.toc().hidden_frames(), "the hidden track one audio", sink,
                       std::move(stop), progress);
}

TrackReadStats ParanoiaReader::read_frames(std::uint32_t first, std::uint32_t frames,
                                           const std::string& what, const SampleSink& sink,
                                           std::stop_token stop, const ReadProgress& progress) {
    TrackReadStats stats;
    current_stats = &stats;
    current_bin_fd = source_.bin_fd();
    struct Reset {
        ~Reset() {
            current_stats = nullptr;
            current_bin_fd = -1;
        }
    } reset;

    const std::int64_t audio_end = std::int64_t{source_.toc().audio_leadout()} * kFrameSamples;
    std::int64_t pos = std::int64_t{first} * kFrameSamples + options_.read_offset;
    std::int64_t remaining = std::int64_t{frames} * kFrameSamples;
    std::vector<std::int16_t> block(static_cast<std::size_t>(kFrameSamples) * 2);

    auto deliver = [&](const std::int16_t* samples, std::int64_t n) {
        std::span<const std::int16_t> out(samples, static_cast<std::size_t>(n) * 2);
        if constexpr (std::endian::native == std::endian::big) {
            std::transform(out.begin(), out.end(), block.begin(), [](std::int16_t s) {
                auto u = static_cast<std::uint16_t>(s);
                return static_cast<std::int16_t>(static_cast<std::uint16_t>((u << 8) | (u >> 8)));
            });
            out = std::span<const std::int16_t>(block.data(), out.size());
        }
        if (stats.silent) {
            stats.silent =
                std::all_of(out.begin(), out.end(), [](std::int16_t s) { return s == 0; });
        }
        sink(out);
        stats.samples += static_cast<std::uint64_t>(n);
        pos += n;
        remaining -= n;
        if (progress) {
            progress(stats.samples);
        }
    };
    // Zeros where the offset reaches outside the disc's audio.
    auto zeros = [&](std::int64_t n) {
        std::vector<std::int16_t> silence(static_cast<std::size_t>(kFrameSamples) * 2, 0);
        while (n > 0 && !stop.stop_requested()) {
            std::int64_t now = std::min(n, kFrameSamples);
            deliver(silence.data(), now);
            n -= now;
        }
    };

    if (pos < 0) {
        zeros(std::min(remaining, -pos));
    }
    if (remaining > 0 && pos < audio_end && !stop.stop_requested()) {
        auto lsn = static_cast<lsn_t>(pos / kFrameSamples);
        std::int64_t skip = pos % kFrameSamples;
        cdio_paranoia_seek(state_->paranoia, lsn, SEEK_SET);
        while (remaining > 0 && pos < audio_end) {
            if (stop.stop_requested()) {
                break;
            }
            std::int16_t* sector =
                cdio_paranoia_read_limited(state_->paranoia, &count, options_.retries);
            state_->drain(source_.name());
            if (sector == nullptr) {
                throw AudioError(fmt::format("{}: {}: paranoia cannot read frame {}",
                                             source_.name(), what, pos / kFrameSamples));
            }
            std::int64_t n = std::min({kFrameSamples - skip, remaining, audio_end - pos});
            deliver(sector + skip * 2, n);
            skip = 0;
        }
    }
    if (remaining > 0) {
        zeros(remaining);
    }
    stats.cancelled = stop.stop_requested() && remaining > 0;
    if (stats.skips > 0) {
        spdlog::warn("{}: {}: {} uncorrectable errors", source_.name(), what, stats.skips);
    }
    return stats;
}

}  // namespace freemkv
