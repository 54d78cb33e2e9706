#pragma once

// The generated test audio CDs (tests/fixtures/make-audio-cd: BIN/CUE plus a JSON of what is on
// them), or a loud skip naming the missing tool; under CI a skip is a failure. A suite gets their
// paths from meson: audio_cd_args and audio_cd_depends.

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace freemkv::test {

inline std::filesystem::path audio_cd_cue(bool hidden_track = false) {
#ifdef FREEMKV_AUDIO_CD_PLAIN
    return hidden_track ? FREEMKV_AUDIO_CD_HTOA : FREEMKV_AUDIO_CD_PLAIN;
#else
    (void)hidden_track;
    return {};
#endif
}

#ifdef FREEMKV_AUDIO_CD_MISSING
#define FREEMKV_NEED_AUDIO_CD()                                                    \
    do {                                                                           \
        if (::freemkv::test::in_ci()) {                                            \
            FAIL() << "no " FREEMKV_AUDIO_CD_MISSING " to make the test audio CD"; \
        }                                                                          \
        GTEST_SKIP() << "SKIPPED LOUDLY: no " FREEMKV_AUDIO_CD_MISSING             \
                        " to make the test "                                       \
                        "audio CD (tools/install-deps installs it)";               \
    } while (false)
#else
#define FREEMKV_NEED_AUDIO_CD() \
    do {                        \
    } while (false)
#endif

struct AudioCd {
    std::filesystem::path cue;
    std::filesystem::path bin;
    nlohmann::json truth;
    std::vector<char> bytes;  // the whole BIN

    explicit AudioCd(bool hidden_track = false) : cue(audio_cd_cue(hidden_track)) {
        if (cue.empty()) {
            return;
        }
        bin = cue;
        bin.replace_extension(".bin");
        std::filesystem::path json = cue;
        json.replace_extension(".json");
        std::ifstream in(json);
        truth = nlohmann::json::parse(in);
        std::ifstream b(bin, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(b), std::istreambuf_iterator<char>());
    }

    // The cue sheet's text with its FILE line naming `bin` instead (a copy served elsewhere).
    std::string cue_with_bin(const std::string& bin_name) const {
        std::ifstream in(cue);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto at = text.find("FILE \"") + 6;
        text.replace(at, text.find('"', at) - at, bin_name);
        return text;
    }

    // The BIN's samples (little-endian interleaved stereo) from stereo sample `from` on, `count`
    // of them, with zeros where that reaches outside the BIN.
    std::vector<std::int16_t> samples(std::int64_t from, std::int64_t count) const {
        std::vector<std::int16_t> out(static_cast<std::size_t>(count) * 2, 0);
        auto total = static_cast<std::int64_t>(bytes.size() / 4);
        for (std::int64_t i = 0; i < count; ++i) {
            std::int64_t s = from + i;
            if (s < 0 || s >= total) {
                continue;
            }
            for (int c = 0; c < 2; ++c) {
                auto at = static_cast<std::size_t>(s * 4 + c * 2);
                auto lo = static_cast<unsigned char>(bytes[at]);
                auto hi = static_cast<unsigned char>(bytes[at + 1]);
                out[static_cast<std::size_t>(i * 2 + c)] =
                    static_cast<std::int16_t>(static_cast<std::uint16_t>(lo | (hi << 8)));
            }
        }
        return out;
    }
};

}  // namespace freemkv::test
