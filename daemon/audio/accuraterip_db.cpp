#include "accuraterip_db.hpp"

#include <spdlog/spdlog.h>

namespace freemkv {
namespace {

constexpr std::size_t kHeaderBytes = 1 + 3 * 4;
constexpr std::size_t kEntryBytes = 1 + 2 * 4;

std::uint32_t le32(std::string_view data, std::size_t at) {
    auto byte = [&](std::size_t i) {
        return std::uint32_t(static_cast<unsigned char>(data[at + i]));
    };
    return byte(0) | byte(1) << 8 | byte(2) << 16 | byte(3) << 24;
}

bool hex(std::string_view s) {
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

bool digits(std::string_view s) {
    for (char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

// "a/b/c/dBAR-NNN-xxxxxxxx-xxxxxxxx-xxxxxxxx.bin"
bool entry_path(std::string_view p) {
    if (p.size() != 6 + 39 || p.substr(6, 5) != "dBAR-" || p.substr(41) != ".bin") {
        return false;
    }
    for (std::size_t i : {1u, 3u, 5u}) {
        if (p[i] != '/') {
            return false;
        }
    }
    for (std::size_t i : {14u, 23u, 32u}) {
        if (p[i] != '-') {
            return false;
        }
    }
    return hex(p.substr(0, 1)) && hex(p.substr(2, 1)) && hex(p.substr(4, 1)) &&
           digits(p.substr(11, 3)) && hex(p.substr(15, 8)) && hex(p.substr(24, 8)) &&
           hex(p.substr(33, 8));
}

}  // namespace

std::string accuraterip_url(const std::string& base, const std::string& path) {
    std::string_view p = path;
    if (p.starts_with('/')) {
        p.remove_prefix(1);
    }
    if (p.starts_with("accuraterip/")) {
        p.remove_prefix(12);
    }
    if (!entry_path(p)) {
        throw AudioError("not an AccurateRip entry path: \"" + path + "\"");
    }
    std::string root = base;
    while (!root.empty() && root.back() == '/') {
        root.pop_back();
    }
    return root + "/accuraterip/" + std::string(p);
}

std::vector<ArResponse> parse_accuraterip(std::string_view data, const std::string& source) {
    auto fail = [&](std::size_t at, const std::string& what) {
        throw AudioError("AccurateRip entry " + source + ": " + what + " at byte " +
                         std::to_string(at));
    };
    if (data.empty()) {
        fail(0, "empty");
    }
    std::vector<ArResponse> responses;
    std::size_t at = 0;
    while (at < data.size()) {
        std::size_t left = data.size() - at;
        if (left < kHeaderBytes) {
            fail(at, "a response header cut short (" + std::to_string(left) + " bytes)");
        }
        std::size_t count = static_cast<unsigned char>(data[at]);
        if (count == 0) {
            fail(at, "a response of no tracks");
        }
        if (left - kHeaderBytes < count * kEntryBytes) {
            fail(at, "a response of " + std::to_string(count) + " tracks cut short (" +
                         std::to_string(left) + " bytes)");
        }
        ArResponse response;
        response.ids = {le32(data, at + 1), le32(data, at + 5), le32(data, at + 9)};
        at += kHeaderBytes;
        for (std::size_t i = 0; i < count; ++i, at += kEntryBytes) {
            response.tracks.push_back(
                {static_cast<unsigned char>(data[at]), le32(data, at + 1), le32(data, at + 5)});
        }
        responses.push_back(std::move(response));
    }
    return responses;
}

std::optional<std::vector<ArResponse>> fetch_accuraterip(const std::string& path,
                                                         const AccurateRipOptions& options,
                                                         std::stop_token stop) {
    std::string url = accuraterip_url(options.base, path);
    HttpResponse response = http_get(url, options.http, stop);
    if (response.status == 404) {
        spdlog::info("AccurateRip has no entry {}", url);
        return std::nullopt;
    }
    if (response.status != 200) {
        throw AudioError("GET " + url + ": HTTP " + std::to_string(response.status));
    }
    return parse_accuraterip(response.body, url);
}

std::vector<ArTrackVerdict> accuraterip_verdict(const std::vector<ArResponse>& responses,
                                                const ArDiscIds& ids,
                                                const std::vector<ArChecksums>& ours) {
    std::vector<ArTrackVerdict> verdicts(ours.size());
    for (std::size_t i = 0; i < ours.size(); ++i) {
        struct Kind {
            ArMatch match;
            std::uint32_t crc;
            unsigned best = 0;
            unsigned total = 0;
            bool found = false;
        };
        Kind kinds[] = {{ArMatch::v1, ours[i].v1}, {ArMatch::v2, ours[i].v2}};
        ArTrackVerdict& verdict = verdicts[i];
        bool any = false;
        for (const ArResponse& response : responses) {
            if (response.ids != ids || response.tracks.size() != ours.size()) {
                continue;
            }
            const ArEntry& entry = response.tracks[i];
            if (!any || entry.confidence > verdict.max_confidence) {
                verdict.max_confidence = entry.confidence;
                verdict.db_crc = entry.crc;
                any = true;
            }
            for (Kind& kind : kinds) {
                if (entry.crc == kind.crc) {
                    kind.found = true;
                    kind.best = std::max(kind.best, entry.confidence);
                    kind.total += entry.confidence;
                }
            }
        }
        for (const Kind& kind : kinds) {  // v2 last: it wins a tie
            if (kind.found && (verdict.match == ArMatch::none || kind.best >= verdict.confidence)) {
                verdict.match = kind.match;
                verdict.confidence = kind.best;
                verdict.total_confidence = kind.total;
                verdict.db_crc = kind.crc;
            }
        }
    }
    return verdicts;
}

bool accurately_ripped(const std::vector<ArTrackVerdict>& verdicts) {
    for (const ArTrackVerdict& verdict : verdicts) {
        if (verdict.match == ArMatch::none) {
            return false;
        }
    }
    return !verdicts.empty();
}

}  // namespace freemkv
