#include "iso639.hpp"

#include <gtest/gtest.h>

namespace freemkv {
namespace {

// Matroska wants the bibliographic code where ISO 639-2 has two (fre, not fra).
TEST(Iso639, MapsTheIfosTwoLetterCodesToMatroskas) {
    EXPECT_EQ(matroska_language("en"), "eng");
    EXPECT_EQ(matroska_language("fr"), "fre");
    EXPECT_EQ(matroska_language("de"), "ger");
    EXPECT_EQ(matroska_language("nl"), "dut");
    EXPECT_EQ(matroska_language("ja"), "jpn");
    EXPECT_EQ(matroska_language("es"), "spa");
    EXPECT_EQ(matroska_language("aa"), "aar");  // the table's first
    EXPECT_EQ(matroska_language("zu"), "zul");  // and last
}

TEST(Iso639, AnEmptyOrUnknownCodeIsUndetermined) {
    EXPECT_EQ(matroska_language(""), "und");
    EXPECT_EQ(matroska_language("qq"), "und");
    EXPECT_EQ(matroska_language("eng"), "und");
    EXPECT_EQ(matroska_language("EN"), "und");
}

}  // namespace
}  // namespace freemkv
