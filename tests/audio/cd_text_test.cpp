#include "cd_text.hpp"

#include <gtest/gtest.h>

namespace freemkv {
namespace {

TEST(CueText, Utf8CueTextThatLibcdioReadAsLatinOneIsRepaired) {
    // "Café" written in UTF-8, decoded by libcdio as Latin-1 and encoded again.
    EXPECT_EQ(cue_text("Caf\xc3\x83\xc2\xa9"), "Caf\xc3\xa9");
}

TEST(CueText, LatinOneCueTextStaysAsLibcdioConvertedIt) {
    // "Café" written in Latin-1: libcdio's conversion is right.
    EXPECT_EQ(cue_text("Caf\xc3\xa9"), "Caf\xc3\xa9");
    EXPECT_EQ(cue_text("plain ASCII"), "plain ASCII");
}

TEST(CueText, NeverInvalidUtf8OrControls) {
    EXPECT_EQ(cue_text("a\xff"
                       "b"),
              "a\xef\xbf\xbd"
              "b");
    EXPECT_EQ(cue_text("a\x01"
                       "b"),
              "a\xef\xbf\xbd"
              "b");
    EXPECT_EQ(cue_text("\xe2\x82\xac"), "\xe2\x82\xac");  // beyond Latin-1: kept
}

}  // namespace
}  // namespace freemkv
