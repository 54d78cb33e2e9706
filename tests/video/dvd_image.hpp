#pragma once

// The DVD-Video image tests/fixtures/make-dvd wrote (see there for what is on it), for tests that
// list it in `depends:` with dvd_video_args; REQUIRE_DVD_IMAGE() skips loudly (fails under CI)
// when the tools to make it are missing.

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

inline const char* dvd_video_missing_tools() {
#ifdef FREEMKV_DVD_VIDEO_MISSING
    return FREEMKV_DVD_VIDEO_MISSING;
#else
    return "";
#endif
}

}  // namespace freemkv::test

#define REQUIRE_DVD_VIDEO_IMAGE()                                                                \
    do {                                                                                         \
        if (::freemkv::test::dvd_video_image().empty()) {                                        \
            std::string why = std::string("the test DVD-Video image needs ") +                   \
                              ::freemkv::test::dvd_video_missing_tools() +                       \
                              " (tools/install-deps installs them)";                             \
            if (::freemkv::test::in_ci()) {                                                      \
                FAIL() << why;                                                                   \
            }                                                                                    \
            GTEST_SKIP() << "SKIPPED LOUDLY: " << why;                                           \
        }                                                                                        \
        ASSERT_TRUE(std::filesystem::exists(::freemkv::test::dvd_video_image()))                 \
            << ::freemkv::test::dvd_video_image() << " is missing: run the test through meson, " \
            << "which makes it";                                                                 \
    } while (0)
