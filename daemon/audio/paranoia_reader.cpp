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
#include <chrono>
#include <cstring>
#include <set>
#include <sstream>

#include "audio_error.hpp"
#include "utf8.hpp"

namespace freemkv {

namespace {

constexpr std::int64_t kFrameSamples = kCdSamplesPerFrame;

using ReadAudio = long (*)(cdrom_drive_t*, void*, lsn_t, long);

// The read in progress on this thread: paranoia's callback and read function take no user
// pointer.
struct ReadContext {
    TrackReadStats* stats = nullptr;
    const CdSource* source = nullptr;
    bool removed = false;  // the medium went away: every read from then on is a stand-in
    int bin_fd = -1;
    ReadAudio drive_read = nullptr;  // the drive's own read function, when not a BIN
    // The samples this read delivers, from the disc's LBA 0: errors outside them (paranoia reads
    // far ahead and back) belong to another track.
    std::int64_t first_sample = 0;
    std::int64_t end_sample = 0;
    int attempts = 1;  // failed reads of one frame before it is given up
    std::chrono::steady_clock::duration error_time{};
    std::chrono::steady_clock::duration error_budget{};
    std::set<lsn_t> given_up;

    bool covers_frame(lsn_t frame) const {
        return std::int64_t{frame} * kFrameSamples < end_sample &&
               (std::int64_t{frame} + 1) * kFrameSamples > first_sample;
    }
    bool covers_sample(std::int64_t sample) const {
        return sample >= first_sample && sample < end_sample;
    }
};
thread_local ReadContext* current = nullptr;

void count(long position, paranoia_cb_mode_t mode) {
    ReadContext* context = current;
    if (context == nullptr || context->stats == nullptr) {
        return;
    }
    TrackReadStats* stats = context->stats;
    // Paranoia counts in 16-bit words: two a stereo sample.
    const std::int64_t sample = position > 0 ? position / 2 : 0;
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
            if (context->covers_sample(sample)) {
                ++stats->skips;
                stats->skip_positions.push_back(static_cast<std::uint64_t>(sample));
            }
            break;
        case PARANOIA_CB_READERR:
            if (context->covers_sample(sample)) {
                ++stats->read_errors;
            }
            break;
        default:
            break;
    }
}

// Reads `frames` frames at `first` from the BIN; false on a read error, and on an end of file
// before `size`, its size when it was opened (the file shrank: its medium went away). Past `size`
// (a BIN cut short inside its last frame) the frames are zeros.
bool pread_frames(int fd, char* out, lsn_t first, long frames, std::uint64_t size) {
    std::size_t want = static_cast<std::size_t>(frames) * kCdFrameBytes;
    std::size_t done = 0;
    off_t offset = static_cast<off_t>(first) * kCdFrameBytes;
    while (done < want) {
        ssize_t n = ::pread(fd, out + done, want - done, offset + static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return false;
        }
        if (n == 0) {
            if (static_cast<std::uint64_t>(offset) + done < size) {
                errno = ENODATA;
                return false;
            }
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    std::memset(out + done, 0, want - done);
    return true;
}

// A failed read's errno that says the medium is gone rather than a frame unreadable.
bool medium_gone(int error) {
    return error == ENOMEDIUM || error == ENODEV || error == ENXIO || error == ESTALE ||
           error == ENOTCONN || error == ENODATA;
}

bool read_run(const ReadContext& context, cdrom_drive_t* drive, char* out, lsn_t first,
              long frames) {
    if (context.bin_fd >= 0) {
        return pread_frames(context.bin_fd, out, first, frames, context.source->bin_size());
    }
    return context.drive_read(drive, out, first, frames) == frames;
}

// How many of `frames` frames at `first` read, frame by frame after a failed run read: the
// frames before the first bad one.
long good_prefix(const ReadContext& context, cdrom_drive_t* drive, char* out, lsn_t first,
                 long frames) {
    if (read_run(context, drive, out, first, frames)) {
        return frames;
    }
    for (long i = 0; i < frames; ++i) {
        if (!read_run(context, drive, out + i * kCdFrameBytes, first + static_cast<lsn_t>(i), 1)) {
            return i;
        }
    }
    return frames;
}

// What a given-up frame reads as: the same noise on every read, so paranoia verifies it; the
// track gets zeros for it (read_frames). Not zeros themselves: paranoia places reads by matching
// their content and takes runs of silence down a path of their own (i_silence_match); a pattern
// unique to the frame keeps given-up frames out of it. (Zeros also pass the tests here.)
void stand_in(char* out, lsn_t frame) {
    auto state = static_cast<std::uint32_t>(frame) * 2654435761u + 1u;
    for (std::size_t i = 0; i < kCdFrameBytes; ++i) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        out[i] = static_cast<char>(state & 0xff);
    }
}

// Paranoia's read function: the BIN through its descriptor, or the drive's own. A frame that
// fails is read again at once, up to `attempts` reads in all (one once the error time is spent);
// when none succeeds it is given up: it reads as its stand-in from then on, counted as a skip
// where this read covers it. Paranoia so never sees a failed read (see the header for why).
// Paranoia passes no buffer when it only moves the drive's cache away (cache busting).
long read_bounded(cdrom_drive_t* drive, void* buffer, lsn_t begin, long sectors) {
    ReadContext* context = current;
    if (context == nullptr) {
        return -1;
    }
    if (buffer == nullptr) {
        return context->bin_fd >= 0 ? sectors : context->drive_read(drive, buffer, begin, sectors);
    }
    if (begin < 0) {
        return -1;
    }
    auto* out = static_cast<char*>(buffer);
    long at = 0;
    while (at < sectors) {
        const lsn_t frame = begin + static_cast<lsn_t>(at);
        char* frame_out = out + at * kCdFrameBytes;
        if (context->removed || context->given_up.contains(frame)) {
            stand_in(frame_out, frame);
            ++at;
            continue;
        }
        long run = 1;
        while (at + run < sectors &&
               !context->given_up.contains(begin + static_cast<lsn_t>(at + run))) {
            ++run;
        }
        auto started = std::chrono::steady_clock::now();
        const long good = good_prefix(*context, drive, frame_out, frame, run);
        const int read_error = errno;
        at += good;
        if (good == run) {
            continue;
        }
        const lsn_t bad = begin + static_cast<lsn_t>(at);
        char* bad_out = out + at * kCdFrameBytes;
        // A drive's read function may leave errno from another call: only ENOMEDIUM is its own.
        const bool gone = context->bin_fd >= 0 ? medium_gone(read_error) : read_error == ENOMEDIUM;
        if (gone || !context->source->medium_present()) {
            // Not a scratch: no retry can help, and the rip must stop, not write zeros.
            context->removed = true;
            continue;
        }
        const bool inside = context->covers_frame(bad) && context->stats != nullptr;
        bool read = false;
        for (int attempt = 1; !read; ++attempt) {
            spdlog::debug("reading frame {} (attempt {}): {}", bad, attempt, std::strerror(errno));
            if (inside) {
                ++context->stats->read_errors;
            }
            const auto now = std::chrono::steady_clock::now();
            context->error_time += now - started;
            started = now;
            if (attempt >= context->attempts || context->error_time >= context->error_budget) {
                break;
            }
            read = read_run(*context, drive, bad_out, bad, 1);
        }
        if (!read) {
            context->given_up.insert(bad);
            stand_in(bad_out, bad);
            if (inside) {
                ++context->stats->skips;
                context->stats->skip_positions.push_back(
                    static_cast<std::uint64_t>(std::int64_t{bad} * kFrameSamples));
            }
        }
        ++at;
    }
    return sectors;
}

// Paranoia checks its retry count against max_retries only every fifth retry: any other value
// never matches and it retries on until its overlap window is at its widest.
int paranoia_retries(int retries) {
    return std::max((retries + 4) / 5 * 5, 5);
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
    ReadAudio drive_read = nullptr;

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
    // Before the open, which otherwise guesses the byte order by reading every track from its
    // start to where it finds sound: on an image that is the whole (sparse, silent) stand-in,
    // 14 % of a rip's CPU in tools/bench-audio; on a drive, reads and seeks before the rip.
    state_->drive->bigendianp = 0;
    int opened = cdio_cddap_open(state_->drive);
    state_->drain(source.name());
    if (opened != 0) {
        throw AudioError(
            fmt::format("{}: paranoia cannot open it (error {})", source.name(), opened));
    }
    state_->drive->bigendianp = 0;
    state_->drive_read = state_->drive->read_audio;
    state_->drive->read_audio = &read_bounded;
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
    const std::int64_t audio_end = std::int64_t{source_.toc().audio_leadout()} * kFrameSamples;
    std::int64_t pos = std::int64_t{first} * kFrameSamples + options_.read_offset;
    std::int64_t remaining = std::int64_t{frames} * kFrameSamples;

    ReadContext context;
    context.stats = &stats;
    context.source = &source_;
    context.bin_fd = source_.bin_fd();
    context.drive_read = state_->drive_read;
    context.first_sample = pos;
    context.end_sample = pos + remaining;
    context.attempts = std::max(options_.retries, 1);
    context.error_budget = options_.error_time;
    current = &context;
    struct Reset {
        ~Reset() { current = nullptr; }
    } reset;
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
    const std::vector<std::int16_t> silence(static_cast<std::size_t>(kFrameSamples) * 2, 0);
    // Zeros where the offset reaches outside the disc's audio.
    auto zeros = [&](std::int64_t n) {
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
            std::int16_t* sector = cdio_paranoia_read_limited(state_->paranoia, &count,
                                                              paranoia_retries(options_.retries));
            state_->drain(source_.name());
            if (context.removed) {
                throw MediumRemoved(
                    fmt::format("{}: the disc was removed while reading {}", source_.name(), what));
            }
            if (sector == nullptr) {
                throw AudioError(fmt::format("{}: {}: paranoia cannot read frame {}",
                                             source_.name(), what, pos / kFrameSamples));
            }
            std::int64_t n = std::min({kFrameSamples - skip, remaining, audio_end - pos});
            deliver((context.given_up.contains(lsn) ? silence.data() : sector) + skip * 2, n);
            ++lsn;
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
