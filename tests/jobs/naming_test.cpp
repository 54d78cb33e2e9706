#include "naming.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <stdexcept>
#include <string>

#include "support/test_support.hpp"

namespace freemkv {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;
using namespace std::string_literals;

const system_clock::time_point when = sys_days{2024y / May / 1} + 13h + 45min + 1s;
const std::string fallback = "disc-2024-05-01-134501";

std::string repeat(std::string_view s, std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) {
        out += s;
    }
    return out;
}

bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        auto b = static_cast<unsigned char>(s[i]);
        std::size_t len = b < 0x80           ? 1
                          : (b >> 5) == 0x6  ? 2
                          : (b >> 4) == 0xe  ? 3
                          : (b >> 3) == 0x1e ? 4
                                             : 0;
        if (len == 0 || i + len > s.size()) {
            return false;
        }
        for (std::size_t j = 1; j < len; ++j) {
            if ((static_cast<unsigned char>(s[i + j]) & 0xc0) != 0x80) {
                return false;
            }
        }
        i += len;
    }
    return true;
}

struct LabelCase {
    const char* name;
    std::string label;
    std::string expected;
};

class SafeFileName : public testing::TestWithParam<LabelCase> {};

TEST_P(SafeFileName, Sanitises) {
    EXPECT_EQ(safe_file_name(GetParam().label, when), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Labels, SafeFileName,
    testing::Values(
        LabelCase{"Plain", "MY_MOVIE_DISC_1", "MY_MOVIE_DISC_1"},
        LabelCase{"KeepsCaseAndSpaces", "My Movie", "My Movie"},
        LabelCase{"Slash", "AC/DC", "AC_DC"}, LabelCase{"Backslash", "AC\\DC", "AC_DC"},
        LabelCase{"SpacedSlash", "AC / DC", "AC DC"}, LabelCase{"DotDot", "..", fallback},
        LabelCase{"Dot", ".", fallback}, LabelCase{"OnlyDots", "....", fallback},
        LabelCase{"Traversal", "../../etc/passwd", "etc_passwd"},
        LabelCase{"Hidden", ".hidden", "hidden"}, LabelCase{"LeadingDotsAndSpaces", " . ._x", "x"},
        LabelCase{"InnerDotsKept", "a..b", "a..b"}, LabelCase{"TrailingDotKept", "VOL.", "VOL."},
        LabelCase{"Controls", "A\tB\nC\rD", "A B C D"}, LabelCase{"Nul", "A\0B"s, "A B"},
        LabelCase{"OnlyNul", "\0\0"s, fallback},
        LabelCase{"Del",
                  "A\x7f"
                  "B",
                  "A B"},
        LabelCase{"C1Control",
                  "A\xc2\x85"
                  "B",
                  "A B"},
        LabelCase{"CollapseUnderscores", "MY__MOVIE___1", "MY_MOVIE_1"},
        LabelCase{"CollapseSpaces", "My   Movie", "My Movie"},
        LabelCase{"MixedRunIsASpace", "My _ Movie", "My Movie"},
        LabelCase{"Trim", "  _Movie_  ", "Movie"},
        LabelCase{"Utf8Kept", "Amélie 日本 🎬", "Amélie 日本 🎬"},
        LabelCase{"InvalidByte",
                  "A\xff"
                  "B",
                  "A_B"},
        LabelCase{"Overlong",
                  "A\xc0\xaf"
                  "B",
                  "A_B"},
        LabelCase{"Surrogate",
                  "A\xed\xa0\x80"
                  "B",
                  "A_B"},
        LabelCase{"AboveMaxCodePoint",
                  "A\xf4\x90\x80\x80"
                  "B",
                  "A_B"},
        LabelCase{"TruncatedSequenceAtEnd", "A\xe6\x97", "A"},
        LabelCase{"OnlyInvalid", "\xff\xfe", fallback}, LabelCase{"Empty", "", fallback},
        LabelCase{"OnlySpaces", "   ", fallback}, LabelCase{"OnlySeparators", "/\\/", fallback}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(SafeFileNameLength, CutsAtTheLimit) {
    EXPECT_EQ(safe_file_name(repeat("A", 200), when), repeat("A", max_label_bytes));
}

TEST(SafeFileNameLength, CutsOnACharacterBoundary) {
    EXPECT_EQ(safe_file_name(repeat("é", 60) + "x", when), repeat("é", 60));
    EXPECT_EQ(safe_file_name("a" + repeat("é", 60), when), "a" + repeat("é", 59));
    EXPECT_EQ(safe_file_name("ab" + repeat("日", 40), when), "ab" + repeat("日", 39));
    EXPECT_EQ(safe_file_name(repeat("🎬", 40), when), repeat("🎬", 30));
}

TEST(SafeFileNameLength, NoTrailingSeparatorAfterTheCut) {
    EXPECT_EQ(safe_file_name(repeat("A", 119) + " B", when), repeat("A", 119));
    EXPECT_EQ(safe_file_name(repeat("A", 119) + "_B", when), repeat("A", 119));
}

TEST(SafeFileName, FallbackIsUtc) {
    EXPECT_EQ(safe_file_name("", sys_days{1999y / December / 31} + 23h + 59min + 59s),
              "disc-1999-12-31-235959");
}

// Whatever the bytes, the result is a usable name.
TEST(SafeFileName, RandomBytesGiveSafeNames) {
    std::mt19937 rng(42);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<int> length(0, 300);
    std::string pool = "./\\_ \t\0aZ\xc3\xa9\xff"s;
    std::uniform_int_distribution<std::size_t> pick(0, pool.size() - 1);
    for (int n = 0; n < 5000; ++n) {
        std::string label;
        int len = length(rng);
        for (int i = 0; i < len; ++i) {
            label += n % 2 == 0 ? static_cast<char>(byte(rng)) : pool[pick(rng)];
        }
        std::string name = safe_file_name(label, when);
        SCOPED_TRACE(testing::PrintToString(label));
        ASSERT_FALSE(name.empty());
        ASSERT_LE(name.size(), max_label_bytes);
        ASSERT_TRUE(valid_utf8(name)) << name;
        ASSERT_NE(name.front(), '.');
        ASSERT_NE(name.front(), ' ');
        ASSERT_NE(name.back(), ' ');
        for (char c : name) {
            auto b = static_cast<unsigned char>(c);
            ASSERT_TRUE(c != '/' && c != '\\' && b >= 0x20 && b != 0x7f) << name;
        }
        ASSERT_EQ(name.find("\xc2\x80"), std::string::npos);
    }
}

struct TemplateCase {
    const char* name;
    std::string tmpl;
    std::string error;  // empty: valid
};

class ValidateTemplate : public testing::TestWithParam<TemplateCase> {};

TEST_P(ValidateTemplate, AcceptsOrExplains) {
    const TemplateCase& c = GetParam();
    if (c.error.empty()) {
        EXPECT_NO_THROW(validate_template(c.tmpl));
        return;
    }
    try {
        validate_template(c.tmpl);
        FAIL() << "accepted " << c.tmpl;
    } catch (const std::invalid_argument& e) {
        EXPECT_EQ(e.what(), c.error);
    }
    // expand_template() rejects it the same way.
    try {
        expand_template(c.tmpl, NameFields{"L", "V", "bd", "sr0", when});
        FAIL() << "expanded " << c.tmpl;
    } catch (const std::invalid_argument& e) {
        EXPECT_EQ(e.what(), c.error);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Templates, ValidateTemplate,
    testing::Values(
        TemplateCase{"Default", std::string(default_naming), ""},
        TemplateCase{"Subdirectories", "{type}/{date} {label}", ""},
        TemplateCase{"AllPlaceholders", "{drive}-{volume_id}-{type}-{date}-{label}", ""},
        TemplateCase{"LiteralDirectory", "Movies/{label}", ""},
        TemplateCase{"EscapedBraces", "{{{label}}}", ""},
        TemplateCase{"OnlyLiteralBraces", "{{label}}", ""},
        TemplateCase{"DotsInsideAComponent", "..{label}/a.b", ""},
        TemplateCase{"Empty", "", "template is empty"},
        TemplateCase{"Absolute", "/{label}",
                     "template must be a relative path inside the library, not an absolute path"},
        TemplateCase{"Typo", "{lable}", "unknown placeholder '{lable}' (did you mean '{label}'?)"},
        TemplateCase{"Case", "{Label}", "unknown placeholder '{Label}' (did you mean '{label}'?)"},
        TemplateCase{"TypoVolume", "{volumeid}",
                     "unknown placeholder '{volumeid}' (did you mean '{volume_id}'?)"},
        TemplateCase{"Unknown", "{title}",
                     "unknown placeholder '{title}' (use {label}, {name}, {volume_id}, {type}, "
                     "{date} or {drive})"},
        TemplateCase{"Name", "{name}/{name} - {label}", ""},
        TemplateCase{"TypoName", "{nmae}", "unknown placeholder '{nmae}' (did you mean '{name}'?)"},
        TemplateCase{"UnclosedBrace", "{label",
                     "unbalanced '{' at position 1 (write '{{' for a literal '{')"},
        TemplateCase{"NestedBrace", "x{la{bel}",
                     "unbalanced '{' at position 2 (write '{{' for a literal '{')"},
        TemplateCase{"StrayClosingBrace", "label}",
                     "unbalanced '}' at position 6 (write '}}' for a literal '}')"},
        TemplateCase{"EmptyPlaceholder", "a{}", "empty placeholder '{}' at position 2"},
        TemplateCase{"DotDotFirst", "../{label}", "template must not contain a '..' component"},
        TemplateCase{"DotDotInside", "a/../{label}", "template must not contain a '..' component"},
        TemplateCase{"DotDotLast", "{label}/..", "template must not contain a '..' component"},
        TemplateCase{"Dot", "./{label}", "template must not contain a '.' component"},
        TemplateCase{"DoubleSlash", "a//{label}", "template has an empty path component"},
        TemplateCase{"TrailingSlash", "{label}/", "template has an empty path component"},
        TemplateCase{"BlankComponent", "{label}/ ", "template has an empty path component"},
        TemplateCase{"OnlySpaces", "   ", "template can only produce an empty name"},
        TemplateCase{"Nul", "{label}\0"s, "template contains a NUL character at position 8"},
        TemplateCase{"Newline", "{label}\n", "template contains a control character at position 8"},
        TemplateCase{"C1Control", "a\xc2\x9b{label}",
                     "template contains a control character at position 2"},
        TemplateCase{"InvalidUtf8", "\xff{label}", "template is not valid UTF-8 at position 1"}),
    [](const auto& info) { return std::string(info.param.name); });

NameFields fields() {
    return NameFields{"MY_MOVIE", "VOL_01", "bd", "sr0", when};
}

struct ExpandCase {
    const char* name;
    std::string tmpl;
    NameFields fields;
    std::string expected;
};

NameFields with(NameFields f, std::string NameFields::*field, std::string value) {
    f.*field = std::move(value);
    return f;
}

class ExpandTemplate : public testing::TestWithParam<ExpandCase> {};

TEST_P(ExpandTemplate, Substitutes) {
    fs::path got = expand_template(GetParam().tmpl, GetParam().fields);
    EXPECT_EQ(got.string(), GetParam().expected);
    EXPECT_TRUE(got.is_relative());
}

INSTANTIATE_TEST_SUITE_P(
    Templates, ExpandTemplate,
    testing::Values(
        ExpandCase{"Label", "{label}", fields(), "MY_MOVIE"},
        ExpandCase{"Subdirectories", "{type}/{date} {label}", fields(), "bd/2024-05-01 MY_MOVIE"},
        ExpandCase{"DriveAndVolume", "{drive}-{volume_id}", fields(), "sr0-VOL_01"},
        ExpandCase{"EscapedBraces", "{{{label}}}", fields(), "{MY_MOVIE}"},
        ExpandCase{"OnlyLiteralBraces", "{{label}}", fields(), "{label}"},
        ExpandCase{"LoneEscapes", "a}}b{{", fields(), "a}b{"},
        ExpandCase{"Literals", "Movies/{label}.x", fields(), "Movies/MY_MOVIE.x"},
        ExpandCase{"LabelTraversal", "{label}", with(fields(), &NameFields::label, "../../etc"),
                   "etc"},
        ExpandCase{"LabelSlash", "{type}/{label}", with(fields(), &NameFields::label, "a/b"),
                   "bd/a_b"},
        ExpandCase{"EmptyLabel", "{label}", with(fields(), &NameFields::label, ""), fallback},
        ExpandCase{"DotDotLabel", "x/{label}", with(fields(), &NameFields::label, ".."),
                   "x/" + fallback},
        ExpandCase{"EmptyVolume", "{volume_id}", with(fields(), &NameFields::volume_id, ""),
                   "unknown"},
        ExpandCase{"SlashVolume", "{volume_id}", with(fields(), &NameFields::volume_id, "/"),
                   "unknown"},
        ExpandCase{"DotDotVolume", "{volume_id}", with(fields(), &NameFields::volume_id, ".."),
                   "unknown"},
        ExpandCase{"EmptyType", "{type}", with(fields(), &NameFields::type, ""), "unknown"},
        ExpandCase{"DevPrefixDropped", "{drive}", with(fields(), &NameFields::drive, "/dev/sr1"),
                   "sr1"},
        ExpandCase{"DriveWithSlash", "{drive}", with(fields(), &NameFields::drive, "a/sr1"),
                   "a_sr1"},
        ExpandCase{"Name", "{name}/{name}", with(fields(), &NameFields::label, "THE_BIG_LEBOWSKI"),
                   "The Big Lebowski/The Big Lebowski"},
        ExpandCase{"NameWithoutLabel", "{name}", with(fields(), &NameFields::label, ""), fallback},
        ExpandCase{"NameTraversal", "x/{name}", with(fields(), &NameFields::label, "../.."),
                   "x/" + fallback},
        ExpandCase{"ControlInField", "{volume_id}", with(fields(), &NameFields::volume_id, "A\nB"),
                   "A B"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ExpandTemplateLength, LongComponentIsCut) {
    NameFields f = fields();
    f.label = repeat("L", 120);
    f.volume_id = repeat("V", 120);
    EXPECT_EQ(expand_template("{label} {volume_id}", f).string(),
              repeat("L", 120) + " " + repeat("V", max_component_bytes - 121));
}

TEST(ExpandTemplateLength, CutOnACharacterBoundary) {
    NameFields f = fields();
    f.label = repeat("é", 60);
    fs::path got = expand_template("x{label}{label}/{label}", f);
    EXPECT_EQ(got.parent_path().string(), "x" + repeat("é", 99));
    EXPECT_EQ(got.filename().string(), repeat("é", 60));
}

TEST(ExpandTemplateLength, NoTrailingSpaceAfterTheCut) {
    std::string literal = repeat("A", max_component_bytes - 1);
    EXPECT_EQ(expand_template(literal + " {label}", fields()).string(), literal);
}

TEST(ExpandTemplate, DateIsTheUtcDay) {
    NameFields f = fields();
    f.date = sys_days{2023y / December / 31} + 23h + 59min;
    EXPECT_EQ(expand_template("{date}", f).string(), "2023-12-31");
}

// choose_output() on a real directory.
class ChooseOutput : public testing::Test {
  protected:
    void touch(const std::string& name) {
        fs::create_directories((lib / name).parent_path());
        std::ofstream(lib / name) << "x";
    }

    test::TempDir dir;
    fs::path lib = dir.path() / "library";
};

TEST_F(ChooseOutput, FreeNameIsUsed) {
    EXPECT_EQ(choose_output(lib, "Movie", ".iso"), lib / "Movie.iso");
    EXPECT_FALSE(fs::exists(lib)) << "choosing creates nothing";
}

TEST_F(ChooseOutput, NumbersTakenNames) {
    touch("Movie.iso");
    EXPECT_EQ(choose_output(lib, "Movie", ".iso"), lib / "Movie (2).iso");
    touch("Movie (2).iso");
    EXPECT_EQ(choose_output(lib, "Movie", ".iso"), lib / "Movie (3).iso");
    touch("Movie (3).iso");
    EXPECT_EQ(choose_output(lib, "Movie", ".iso", OnExists::number), lib / "Movie (4).iso");
}

TEST_F(ChooseOutput, FillsTheFirstGap) {
    touch("Movie.iso");
    touch("Movie (3).iso");
    EXPECT_EQ(choose_output(lib, "Movie", ".iso"), lib / "Movie (2).iso");
}

TEST_F(ChooseOutput, AnUnfinishedRipHoldsItsName) {
    touch("Movie.iso.part");
    EXPECT_EQ(choose_output(lib, "Movie", ".iso"), lib / "Movie (2).iso");
    touch("Movie (2).map");
    EXPECT_EQ(choose_output(lib, "Movie", ".iso"), lib / "Movie (3).iso");
    EXPECT_THROW(choose_output(lib, "Movie", ".iso", OnExists::fail), std::runtime_error);
}

TEST_F(ChooseOutput, ReservedNamesCount) {
    std::set<fs::path> reserved = {lib / "Movie.iso", lib / "Movie (2).iso"};
    EXPECT_EQ(choose_output(lib, "Movie", ".iso", OnExists::number, reserved),
              lib / "Movie (3).iso");
    EXPECT_THROW(choose_output(lib, "Movie", ".iso", OnExists::fail, reserved), std::runtime_error);
}

TEST_F(ChooseOutput, DirectoryAndDanglingSymlinkCount) {
    fs::create_directories(lib / "Movie.iso");
    fs::create_symlink(dir.path() / "nowhere", lib / "Movie (2).iso");
    EXPECT_EQ(choose_output(lib, "Movie", ".iso"), lib / "Movie (3).iso");
}

TEST_F(ChooseOutput, FailNamesTheExistingFile) {
    touch("Movie.iso");
    try {
        choose_output(lib, "Movie", ".iso", OnExists::fail);
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(e.what(), "output file already exists: " + (lib / "Movie.iso").string());
    }
}

TEST_F(ChooseOutput, Subdirectories) {
    EXPECT_EQ(choose_output(lib, "bd/2024-05-01 Movie", ".iso"), lib / "bd/2024-05-01 Movie.iso");
    touch("bd/Movie.iso");
    EXPECT_EQ(choose_output(lib, "bd/Movie", ".iso"), lib / "bd/Movie (2).iso");
    EXPECT_EQ(choose_output(lib.string() + "/", "bd/Movie", ".iso"), lib / "bd/Movie (2).iso");
}

TEST_F(ChooseOutput, StaysInsideTheLibrary) {
    for (const char* bad : {"../Movie", "a/../../Movie", "/etc/Movie", "", ".", "a/..", "Movie/"}) {
        SCOPED_TRACE(bad);
        EXPECT_THROW(choose_output(lib, bad, ".iso"), std::invalid_argument);
    }
    EXPECT_EQ(choose_output(lib, "a/../Movie", ".iso"), lib / "Movie.iso");
}

TEST_F(ChooseOutput, EscapeIsExplained) {
    try {
        choose_output("/srv/lib", "../x", ".iso");
        FAIL() << "no error";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "output '../x' is not inside the library '/srv/lib'");
    }
}

TEST(OnExists, NamesRoundTrip) {
    for (auto policy : {OnExists::number, OnExists::fail}) {
        EXPECT_EQ(parse_on_exists(to_string(policy)), policy);
    }
    EXPECT_EQ(parse_on_exists("overwrite"), std::nullopt);
}

TEST(ClosestMatch, SuggestsWithinTwoEdits) {
    constexpr std::array<std::string_view, 3> words = {"library", "state", "rip"};
    EXPECT_EQ(closest_match("libary", words), "library");
    EXPECT_EQ(closest_match("Library", words), "library");
    EXPECT_EQ(closest_match("stat", words), "state");
    EXPECT_EQ(closest_match("rip", words), "rip");
    EXPECT_EQ(closest_match("lbry", words), std::nullopt) << "three edits";
    EXPECT_EQ(closest_match("xyz", words), std::nullopt);
    EXPECT_EQ(closest_match("r", words), std::nullopt) << "as many edits as letters";
    EXPECT_EQ(closest_match("", words), std::nullopt);
}

}  // namespace
}  // namespace freemkv
