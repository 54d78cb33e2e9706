#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "naming.hpp"
#include "utf8.hpp"

namespace freemkv {

namespace {

constexpr std::array<std::string_view, 11> small_words = {"of", "the", "a",   "an", "and", "in",
                                                          "on", "to",  "for", "at", "or"};

// Latin-1 letters in UTF-8 are 0xc3 and a second byte: 0x80..0x9e upper (but 0x97, the
// multiplication sign), 0xa0..0xbe lower (but 0xb7, the division sign); ß and ÿ have no
// upper-case form there.
bool latin1(std::string_view ch) {
    return ch.size() == 2 && static_cast<unsigned char>(ch[0]) == 0xc3;
}
bool latin1_upper(std::string_view ch) {
    return latin1(ch) && static_cast<unsigned char>(ch[1]) <= 0x9e && ch[1] != '\x97';
}
bool latin1_lower(std::string_view ch) {
    return latin1(ch) && static_cast<unsigned char>(ch[1]) >= 0x9f && ch[1] != '\xb7';
}

bool is_upper(std::string_view ch) {
    return (ch.size() == 1 && ch[0] >= 'A' && ch[0] <= 'Z') || latin1_upper(ch);
}
bool is_lower(std::string_view ch) {
    return (ch.size() == 1 && ch[0] >= 'a' && ch[0] <= 'z') || latin1_lower(ch);
}
bool is_letter(std::string_view ch) {
    return is_upper(ch) || is_lower(ch);
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::string to_lower(std::string_view ch) {
    if (ch.size() == 1 && is_upper(ch)) {
        return std::string(1, static_cast<char>(ch[0] - 'A' + 'a'));
    }
    if (latin1_upper(ch)) {
        return {ch[0], static_cast<char>(ch[1] + 0x20)};
    }
    return std::string(ch);
}
std::string to_upper(std::string_view ch) {
    if (ch.size() == 1 && is_lower(ch)) {
        return std::string(1, static_cast<char>(ch[0] - 'a' + 'A'));
    }
    auto b = static_cast<unsigned char>(ch.size() == 2 ? ch[1] : 0);
    if (latin1_lower(ch) && b >= 0xa0 && b <= 0xbe) {
        return {ch[0], static_cast<char>(ch[1] - 0x20)};
    }
    return std::string(ch);
}

// The word's characters; a word holds only valid UTF-8 (the splitting saw to it).
std::vector<std::string_view> characters(std::string_view word) {
    std::vector<std::string_view> out;
    for (std::size_t i = 0; i < word.size();) {
        std::size_t len = utf8_length(word.substr(i));
        out.push_back(word.substr(i, len));
        i += len;
    }
    return out;
}

std::string lower_word(std::string_view word) {
    std::string out;
    for (std::string_view ch : characters(word)) {
        out += to_lower(ch);
    }
    return out;
}

// II to XXXIX: a sequel's number. "I" alone is the pronoun (and reads the same either way);
// larger numerals (MIX, CD, DC) are more often words or abbreviations.
bool roman_numeral(std::string_view word) {
    std::size_t i = 0;
    auto take = [&](std::string_view s) {
        if (word.substr(i).starts_with(s)) {
            i += s.size();
            return true;
        }
        return false;
    };
    for (int n = 0; n < 3 && take("X");) {
        ++n;
    }
    if (!take("IX") && !take("IV")) {
        take("V");
        for (int n = 0; n < 3 && take("I");) {
            ++n;
        }
    }
    return i == word.size() && word.size() >= 2;
}

// "DISC1", "DISK12": the marker's word and its number.
bool disc_marker(std::string_view word, std::string& out) {
    for (std::string_view prefix : {"DISC", "DISK"}) {
        if (word.size() > prefix.size() && word.starts_with(prefix) &&
            std::all_of(word.begin() + static_cast<long>(prefix.size()), word.end(), is_digit)) {
            out = "Disc " + std::string(word.substr(prefix.size()));
            return true;
        }
    }
    return false;
}

// One word of an all-caps label, as a title writes it; `first` for the label's first word.
std::string title_case(std::string_view word, bool first) {
    std::string out;
    if (roman_numeral(word) || disc_marker(word, out)) {
        return out.empty() ? std::string(word) : out;
    }
    std::string lower = lower_word(word);
    if (!first && std::find(small_words.begin(), small_words.end(), lower) != small_words.end()) {
        return lower;
    }
    if (is_digit(word.front())) {
        // "3D", "4K" stay; "2ND", "10TH" read "2nd", "10th".
        std::string_view rest =
            word.substr(std::min(word.size(), word.find_first_not_of("0123456789")));
        return rest.size() == 1 ? std::string(word) : lower;
    }
    bool start = true;  // the next letter begins a word, or a part after a hyphen
    for (std::string_view ch : characters(word)) {
        out += start ? to_upper(ch) : to_lower(ch);
        start = ch == "-" || (start && !is_letter(ch));
    }
    return out;
}

// The label's words: split where safe_file_name() sees whitespace or underscores.
std::vector<std::string_view> words_of(std::string_view label) {
    std::vector<std::string_view> words;
    std::size_t begin = 0;
    std::size_t i = 0;
    auto end_word = [&](std::size_t end) {
        if (end > begin) {
            words.push_back(label.substr(begin, end - begin));
        }
    };
    while (i < label.size()) {
        std::size_t len = utf8_length(label.substr(i));
        std::string_view ch = label.substr(i, len == 0 ? 1 : len);
        bool separator =
            len == 0 || ch == " " || ch == "_" || ch == "/" || ch == "\\" || is_control(ch);
        if (separator) {
            end_word(i);
            begin = i + ch.size();
        }
        i += ch.size();
    }
    end_word(i);
    return words;
}

}  // namespace

std::string readable_label(std::string_view label) {
    std::vector<std::string_view> words = words_of(label);
    // Never a hidden file, ".", or "..".
    while (!words.empty()) {
        std::string_view& first = words.front();
        first.remove_prefix(std::min(first.size(), first.find_first_not_of('.')));
        if (!first.empty()) {
            break;
        }
        words.erase(words.begin());
    }
    bool all_caps = std::none_of(words.begin(), words.end(), [](std::string_view word) {
        auto chars = characters(word);
        return std::any_of(chars.begin(), chars.end(), is_lower);
    });
    std::string out;
    for (std::string_view word : words) {
        std::string text = all_caps ? title_case(word, out.empty()) : std::string(word);
        if (!out.empty()) {
            out += ' ';
        }
        out += text;
        if (out.size() >= max_label_bytes) {
            break;
        }
    }
    // Cut on a character boundary, then no trailing space.
    if (out.size() > max_label_bytes) {
        std::size_t n = max_label_bytes;
        while (n > 0 && (static_cast<unsigned char>(out[n]) & 0xc0) == 0x80) {
            --n;
        }
        out.resize(n);
    }
    while (!out.empty() && out.back() == ' ') {
        out.pop_back();
    }
    return out;
}

}  // namespace freemkv
