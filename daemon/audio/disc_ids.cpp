#include "disc_ids.hpp"

#include "audio_error.hpp"

#include <discid/discid.h>
#include <fmt/format.h>

#include <array>
#include <memory>
#include <stdexcept>

namespace freemkv {

namespace {

void check(const CdToc& toc) {
    try {
        check_toc(toc);
    } catch (const std::invalid_argument& e) {
        throw AudioError(fmt::format("bad table of contents: {}", e.what()));
    }
}

struct DiscIdFree {
    void operator()(DiscId* d) const { discid_free(d); }
};

int digit_sum(std::uint32_t n) {
    int sum = 0;
    for (; n > 0; n /= 10) {
        sum += static_cast<int>(n % 10);
    }
    return sum;
}

}  // namespace

std::string musicbrainz_disc_id(const CdToc& toc) {
    check(toc);
    const auto audio = toc.audio_tracks();
    const int first = toc.tracks.front().number;
    const int last = audio.back()->number;
    std::array<int, 100> offsets{};
    offsets[0] = static_cast<int>(toc.audio_leadout() + kCdLeadInFrames);
    for (const auto& t : toc.tracks) {
        if (t.number <= last) {
            offsets[static_cast<std::size_t>(t.number)] =
                static_cast<int>(t.start + kCdLeadInFrames);
        }
    }
    const std::unique_ptr<DiscId, DiscIdFree> disc(discid_new());
    if (!disc) {
        throw std::bad_alloc();
    }
    if (discid_put(disc.get(), first, last, offsets.data()) == 0) {
        throw AudioError(fmt::format("libdiscid refuses the table of tracks {}..{}: {}", first,
                                     last, discid_get_error_msg(disc.get())));
    }
    return discid_get_id(disc.get());
}

std::string musicbrainz_lookup_path(const CdToc& toc) {
    return "/ws/2/discid/" + musicbrainz_disc_id(toc);
}

std::uint32_t cddb_disc_id(const CdToc& toc) {
    check(toc);
    int sum = 0;
    for (const auto& t : toc.tracks) {
        sum += digit_sum((t.start + kCdLeadInFrames) / kCdFramesPerSecond);
    }
    const std::uint32_t seconds =
        toc.leadout / kCdFramesPerSecond - toc.tracks.front().start / kCdFramesPerSecond;
    return static_cast<std::uint32_t>(sum % 255) << 24 | (seconds & 0xffff) << 8 |
           (static_cast<std::uint32_t>(toc.tracks.size()) & 0xff);
}

AccurateRipDiscId accuraterip_disc_id(const CdToc& toc) {
    check(toc);
    AccurateRipDiscId id;
    for (const auto* t : toc.audio_tracks()) {
        id.id1 += t->start;
        id.id2 += (t->start == 0 ? 1 : t->start) * static_cast<std::uint32_t>(t->number);
        ++id.audio_tracks;
    }
    id.id1 += toc.leadout;
    id.id2 += toc.leadout * static_cast<std::uint32_t>(id.audio_tracks + 1);
    id.cddb = cddb_disc_id(toc);
    return id;
}

std::string to_string(const AccurateRipDiscId& id) {
    return fmt::format("{:03}-{:08x}-{:08x}-{:08x}", id.audio_tracks, id.id1, id.id2, id.cddb);
}

std::string accuraterip_path(const AccurateRipDiscId& id) {
    const std::string id1 = fmt::format("{:08x}", id.id1);
    return fmt::format("{}/{}/{}/dBAR-{}.bin", id1[7], id1[6], id1[5], to_string(id));
}

}  // namespace freemkv
