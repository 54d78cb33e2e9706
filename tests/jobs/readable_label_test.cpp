#include <gtest/gtest.h>

#include <string>

#include "naming.hpp"

namespace freemkv {
namespace {

struct ReadableCase {
    const char* name;
    std::string label;
    std::string expected;
};

class ReadableLabel : public testing::TestWithParam<ReadableCase> {};

TEST_P(ReadableLabel, ReadsLikeATitle) {
    EXPECT_EQ(readable_label(GetParam().label), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Labels, ReadableLabel,
    testing::Values(
        ReadableCase{"AllCaps", "THE_BIG_LEBOWSKI", "The Big Lebowski"},
        ReadableCase{"DigitsInAWord", "STAR_WARS_EP4", "Star Wars Ep4"},
        ReadableCase{"SmallWords", "THE_ART_OF_WAR_AND_PEACE_IN_A_DAY",
                     "The Art of War and Peace in a Day"},
        ReadableCase{"SmallWordFirst", "A_BUGS_LIFE", "A Bugs Life"},
        ReadableCase{"OfTheFirst", "OF_MICE_AND_MEN", "Of Mice and Men"},
        ReadableCase{"RomanNumeral", "ROCKY_II", "Rocky II"},
        ReadableCase{"RomanNumerals", "STAR_TREK_IV_VI_IX_XIII", "Star Trek IV VI IX XIII"},
        ReadableCase{"PronounI", "I_ROBOT", "I Robot"},
        ReadableCase{"NotANumeral", "MIX_CIVIL_IVY", "Mix Civil Ivy"},
        ReadableCase{"DiscMarkerShort", "THE_GODFATHER_D1", "The Godfather D1"},
        ReadableCase{"DiscMarkerWords", "FRIENDS_S1_DISC_2", "Friends S1 Disc 2"},
        ReadableCase{"DiscMarkerJoined", "SHREK_DISC1", "Shrek Disc 1"},
        ReadableCase{"DiskMarkerJoined", "SHREK_DISK12", "Shrek Disc 12"},
        ReadableCase{"Hyphen", "SPIDER-MAN_2", "Spider-Man 2"},
        ReadableCase{"Apostrophe", "DON'T_LOOK_UP", "Don't Look Up"},
        ReadableCase{"Ordinal", "THE_2ND_JUNGLE_BOOK", "The 2nd Jungle Book"},
        ReadableCase{"Units", "AVATAR_3D_4K", "Avatar 3D 4K"},
        ReadableCase{"Latin1", "LES_MIS\xc3\x89RABLES", "Les Mis\xc3\xa9rables"},
        ReadableCase{"Latin1First", "\xc3\x89T\xc3\x89_2004", "\xc3\x89t\xc3\xa9 2004"},
        ReadableCase{"OtherScriptsStay", "\xe5\xa4\x8f_SUMMER", "\xe5\xa4\x8f Summer"},
        ReadableCase{"MixedCaseKept", "Star_Wars_the_CLONE_wars", "Star Wars the CLONE wars"},
        ReadableCase{"LowerCaseKept", "the_big_lebowski", "the big lebowski"},
        ReadableCase{"Latin1LowerIsMixed", "CAF\xc3\xa9", "CAF\xc3\xa9"},
        ReadableCase{"Spaces", "  THE   MATRIX  ", "The Matrix"},
        ReadableCase{"Separators", "ALIEN/\\_\t\nRESURRECTION", "Alien Resurrection"},
        ReadableCase{"InvalidUtf8", "ALIEN\xff\xfeRESURRECTION", "Alien Resurrection"},
        ReadableCase{"CutUtf8", "AM\xc3", "Am"},
        ReadableCase{"C1Control",
                     "A\xc2\x9b"
                     "B",
                     "A B"},
        ReadableCase{"LeadingDots", "..HIDDEN", "Hidden"}, ReadableCase{"OnlyDots", ".. X", "X"},
        ReadableCase{"DotsAfterDots", ". .X_Y", "X Y"}, ReadableCase{"DotDotDotDot", "../..", ""},
        ReadableCase{"Empty", "", ""}, ReadableCase{"NothingReadable", "_ /\xff", ""},
        ReadableCase{"DotDot", "..", ""}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ReadableLabelLength, CutOnACharacterBoundary) {
    std::string label;
    for (int i = 0; i < 100; ++i) {
        label += "\xc3\x89_";  // É and a separator
    }
    std::string got = readable_label(label);
    EXPECT_LE(got.size(), max_label_bytes);
    EXPECT_GE(got.size(), max_label_bytes - 3);
    EXPECT_EQ(got.back(), '\x89') << "whole characters, no trailing space";
}

TEST(ReadableLabelLength, OneLongWordIsCut) {
    std::string got = readable_label(std::string(300, 'X'));
    EXPECT_EQ(got, "X" + std::string(max_label_bytes - 1, 'x'));
}

}  // namespace
}  // namespace freemkv
