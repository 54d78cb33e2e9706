#include "utf8.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace freemkv {
namespace {

using namespace std::string_literals;

const std::string fffd = "\xef\xbf\xbd";

struct TextCase {
    const char* name;
    std::string in;
    std::string expected;
};

class SafeText : public testing::TestWithParam<TextCase> {};

TEST_P(SafeText, Cleans) {
    EXPECT_EQ(safe_text(GetParam().in), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SafeText,
    testing::Values(TextCase{"Empty", "", ""},
                    TextCase{"AsciiUnchanged", "MOVIE_2024 (disc 1)", "MOVIE_2024 (disc 1)"},
                    TextCase{"Utf8Unchanged",
                             "Caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x92\xbf",
                             "Caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x92\xbf"},
                    TextCase{"Latin1ByteIsReplaced", "CAF\xe9", "CAF" + fffd},
                    TextCase{"EachInvalidByteIsReplaced",
                             "A\xff\xfe"
                             "B",
                             "A" + fffd + fffd + "B"},
                    TextCase{"TruncatedSequenceAtEnd", "A\xe6\x97", "A" + fffd + fffd},
                    TextCase{"Overlong", "\xc0\xaf", fffd + fffd},
                    TextCase{"Surrogate", "\xed\xa0\x80", fffd + fffd + fffd},
                    TextCase{"AboveMaxCodePoint", "\xf4\x90\x80\x80", fffd + fffd + fffd + fffd},
                    TextCase{"EscapeSequence", "A\x1b[31mB", "A" + fffd + "[31mB"},
                    TextCase{"LineBreaksAndTabsBecomeSpaces", "A\nB\r\nC\tD\vE\fF", "A B  C D E F"},
                    TextCase{"Nul", "A\0B"s, "A" + fffd + "B"},
                    TextCase{"Delete",
                             "A\x7f"
                             "B",
                             "A" + fffd + "B"},
                    TextCase{"C1Control",
                             "A\xc2\x9b"
                             "B",
                             "A" + fffd + "B"},
                    TextCase{"FirstPrintableAfterC1Kept", "\xc2\xa0", "\xc2\xa0"},
                    TextCase{"ReplacementCharacterKept", fffd, fffd}),
    [](const testing::TestParamInfo<TextCase>& info) { return info.param.name; });

// Whatever the bytes, the result is valid UTF-8 without control characters, and cleaning it
// again changes nothing.
TEST(SafeText, RandomBytesGiveCleanText) {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<int> length(0, 64);
    for (int n = 0; n < 5000; ++n) {
        std::string in;
        for (int i = length(rng); i > 0; --i) {
            in += static_cast<char>(byte(rng));
        }
        std::string out = safe_text(in);
        SCOPED_TRACE(testing::PrintToString(in));
        for (std::size_t i = 0; i < out.size();) {
            std::size_t len = utf8_length(std::string_view(out).substr(i));
            ASSERT_NE(len, 0u) << "invalid UTF-8 at " << i;
            ASSERT_FALSE(is_control(std::string_view(out).substr(i, len))) << "control at " << i;
            i += len;
        }
        ASSERT_EQ(safe_text(out), out);
    }
}

TEST(Utf8Length, Sequences) {
    EXPECT_EQ(utf8_length("a"), 1u);
    EXPECT_EQ(utf8_length("\xc3\xa9"), 2u);
    EXPECT_EQ(utf8_length("\xe2\x82\xac"), 3u);
    EXPECT_EQ(utf8_length("\xf0\x9f\x92\xbf"), 4u);
    EXPECT_EQ(utf8_length("\x80"), 0u);
    EXPECT_EQ(utf8_length("\xc3"), 0u);
    EXPECT_EQ(utf8_length("\xe0\x80\x80"), 0u);  // overlong
}

}  // namespace
}  // namespace freemkv
