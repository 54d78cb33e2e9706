#pragma once

// The generated test DVD-Video images (tests/fixtures/make-dvd, and make-css-dvd's copy with its
// packets marked scrambled), or a loud skip naming the missing tools; under CI a skip is a
// failure. A suite that uses them gets their paths from meson (dvd_css_args, dvd_css_depends).

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

#ifdef FREEMKV_DVD_VIDEO_MISSING
#define FREEMKV_DVD_MISSING_TOOLS FREEMKV_DVD_VIDEO_MISSING
#else
#define FREEMKV_DVD_MISSING_TOOLS ""
#endif

#define REQUIRE_DVD_IMAGES()                                                                  \
    do {                                                                                      \
        if (::freemkv::test::dvd_video_image().empty()) {                                     \
            std::string why = "the test DVD-Video image needs " FREEMKV_DVD_MISSING_TOOLS     \
                              " (tools/install-deps installs them)";                          \
            if (::freemkv::test::in_ci()) {                                                   \
                FAIL() << why;                                                                \
            }                                                                                 \
            GTEST_SKIP() << "SKIPPED LOUDLY: " << why;                                        \
        }                                                                                     \
        for (const auto& image :                                                              \
             {::freemkv::test::dvd_video_image(), ::freemkv::test::dvd_css_image()}) {        \
            ASSERT_TRUE(std::filesystem::exists(image))                                       \
                << image << " is missing: run the test through meson (meson test -C build), " \
                << "which makes it";                                                          \
        }                                                                                     \
    } while (0)

}  // namespace freemkv::test
