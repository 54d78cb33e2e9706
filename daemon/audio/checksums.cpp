#include "checksums.hpp"

#include "audio_error.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <bit>

namespace freemkv {

namespace {

constexpr std::uint32_t kFrame450First = 450 * kCdSamplesPerFrame + 1;  // 1-based positions
constexpr std::uint32_t kFrame450Last = 451 * kCdSamplesPerFrame;

std::uint32_t little_endian_word(const std::byte* p) {
    return std::to_integer<std::uint32_t>(p[0]) | std::to_integer<std::uint32_t>(p[1]) << 8 |
           std::to_integer<std::uint32_t>(p[2]) << 16 | std::to_integer<std::uint32_t>(p[3]) << 24;
}

}  // namespace

TrackPosition track_position(const CdToc& toc, int number) {
    const auto audio = toc.audio_tracks();
    for (std::size_t i = 0; i < audio.size(); ++i) {
        if (audio[i]->number == number) {
            return {.first = i == 0, .last = i + 1 == audio.size()};
        }
    }
    throw AudioError(fmt::format("track {} is not an audio track of the disc", number));
}

TrackChecksummer::TrackChecksummer(TrackPosition position) : position_(position) {
    if (position_.last) {
        tail_.resize(kAccurateRipSkipSamples);
    }
}

void TrackChecksummer::update(std::span<const std::byte> pcm) {
    if (pcm.empty()) {
        return;
    }
    crc_ = static_cast<std::uint32_t>(
        crc32_z(crc_, reinterpret_cast<const Bytef*>(pcm.data()), pcm.size()));

    std::size_t i = 0;
    while (partial_bytes_ != 0 && i < pcm.size()) {
        partial_[partial_bytes_++] = pcm[i++];
        if (partial_bytes_ == kCdSampleBytes) {
            add(little_endian_word(partial_));
            partial_bytes_ = 0;
        }
    }
    for (; i + kCdSampleBytes <= pcm.size(); i += kCdSampleBytes) {
        add(little_endian_word(pcm.data() + i));
    }
    for (; i < pcm.size(); ++i) {
        partial_[partial_bytes_++] = pcm[i];
    }
}

void TrackChecksummer::update(std::span<const std::int16_t> pcm) {
    if constexpr (std::endian::native == std::endian::little) {
        update(std::as_bytes(pcm));
    } else {
        std::vector<std::byte> bytes;
        bytes.reserve(pcm.size_bytes());
        for (std::int16_t s : pcm) {
            const auto u = static_cast<std::uint16_t>(s);
            bytes.push_back(static_cast<std::byte>(u & 0xff));
            bytes.push_back(static_cast<std::byte>(u >> 8));
        }
        update(std::span<const std::byte>(bytes));
    }
}

void TrackChecksummer::add(std::uint32_t sample) {
    const auto position = static_cast<std::uint32_t>(++samples_);
    if (!position_.first || position >= kAccurateRipSkipSamples) {
        const std::uint64_t product = std::uint64_t{sample} * position;
        v1_ += static_cast<std::uint32_t>(product);
        hi_ += static_cast<std::uint32_t>(product >> 32);
    }
    if (position >= kFrame450First && position <= kFrame450Last) {
        frame450_ += sample * (position - kFrame450First + 1);
    }
    if (position_.last) {
        tail_[(position - 1) % kAccurateRipSkipSamples] = sample;
    }
}

TrackChecksums TrackChecksummer::finish() const {
    if (partial_bytes_ != 0) {
        throw AudioError(fmt::format("the track's PCM ends {} bytes into sample {}", partial_bytes_,
                                     samples_ + 1));
    }
    TrackChecksums out;
    out.samples = samples_;
    out.crc32 = crc_;
    std::uint32_t v1 = v1_;
    std::uint32_t hi = hi_;
    // A last track shorter than the skip keeps every term: EAC's end position wraps.
    if (position_.last && samples_ >= kAccurateRipSkipSamples) {
        const auto end = static_cast<std::uint32_t>(samples_);
        for (std::uint32_t position = end - kAccurateRipSkipSamples + 1; position <= end;
             ++position) {
            if (position_.first && position < kAccurateRipSkipSamples) {
                continue;
            }
            const std::uint32_t sample = tail_[(position - 1) % kAccurateRipSkipSamples];
            const std::uint64_t product = std::uint64_t{sample} * position;
            v1 -= static_cast<std::uint32_t>(product);
            hi -= static_cast<std::uint32_t>(product >> 32);
        }
    }
    out.accuraterip_v1 = v1;
    out.accuraterip_v2 = v1 + hi;
    if (samples_ >= kFrame450Last) {
        out.accuraterip_frame450 = frame450_;
    }
    return out;
}

}  // namespace freemkv
