#pragma once

// The generated test DVD-Video images (tests/fixtures/make-dvd, see there for what is on it, and
// make-css-dvd's copy with its packets marked scrambled), or a loud skip naming the missing
// tools; under CI a skip is a failure. A suite gets their paths from meson: dvd_video_args and
// dvd_video_depends for the DVD-Video image, dvd_css_args and dvd_css_depends for both.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/test_support.hpp"

namespace freemkv::test {

inline std::filesystem::path dvd_video_image() {
#ifdef FREEMKV_DVD_VIDEO_ISO
    return FREEMKV_DVD_VIDEO_ISO;
#else
    return {};
#endif
}

inline std::filesystem::path dvd_css_image() {
#ifdef FREEMKV_DVD_CSS_ISO
    return FREEMKV_DVD_CSS_ISO;
#else
    return {};
#endif
}

// make-dvd's LPCM disc (AUDIO=lpcm), for suites with dvd_lpcm_args.
inline std::filesystem::path dvd_lpcm_image() {
#ifdef FREEMKV_DVD_LPCM_ISO
    return FREEMKV_DVD_LPCM_ISO;
#else
    return {};
#endif
}

inline const char* dvd_missing_tools() {
#ifdef FREEMKV_DVD_VIDEO_MISSING
    return FREEMKV_DVD_VIDEO_MISSING;
#else
    return "";
#endif
}

}  // namespace freemkv::test

#define FREEMKV_REQUIRE_DVD(...)                                                              \
    do {                                                                                      \
        if (::freemkv::test::dvd_video_image().empty()) {                                     \
            std::string why = std::string("the test DVD-Video image needs ") +                \
                              ::freemkv::test::dvd_missing_tools() +                          \
                              " (tools/install-deps installs them)";                          \
            if (::freemkv::test::in_ci()) {                                                   \
                FAIL() << why;                                                                \
            }                                                                                 \
            GTEST_SKIP() << "SKIPPED LOUDLY: " << why;                                        \
        }                                                                                     \
        for (const std::filesystem::path& image : {__VA_ARGS__}) {                            \
            ASSERT_TRUE(std::filesystem::exists(image))                                       \
                << image << " is missing: run the test through meson (meson test -C build), " \
                << "which makes it";                                                          \
        }                                                                                     \
    } while (0)

// The DVD-Video image, for suites with dvd_video_args.
#define REQUIRE_DVD_VIDEO_IMAGE() FREEMKV_REQUIRE_DVD(::freemkv::test::dvd_video_image())
// It and the scrambled copy, for suites with dvd_css_args.
#define REQUIRE_DVD_IMAGES() \
    FREEMKV_REQUIRE_DVD(::freemkv::test::dvd_video_image(), ::freemkv::test::dvd_css_image())
