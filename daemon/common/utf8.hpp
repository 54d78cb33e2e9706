#pragma once

// UTF-8 for text that comes from outside (disc labels, paths, error messages) and goes where
// only valid UTF-8 may go: D-Bus strings, a terminal, a file name.

#include <cstddef>
#include <string>
#include <string_view>

namespace freemkv {

// Length of the valid UTF-8 sequence at the start of `s` (not empty), or 0 if it is not valid
// (overlong forms, surrogates and code points above U+10FFFF are not).
inline std::size_t utf8_length(std::string_view s) {
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    auto cont = [&](std::size_t i, unsigned lo = 0x80, unsigned hi = 0xbf) {
        return i < s.size() && byte(i) >= lo && byte(i) <= hi;
    };
    unsigned b = byte(0);
    if (b < 0x80) {
        return 1;
    }
    if (b >= 0xc2 && b <= 0xdf) {
        return cont(1) ? 2 : 0;
    }
    if (b >= 0xe0 && b <= 0xef) {
        unsigned lo = b == 0xe0 ? 0xa0 : 0x80;
        unsigned hi = b == 0xed ? 0x9f : 0xbf;
        return cont(1, lo, hi) && cont(2) ? 3 : 0;
    }
    if (b >= 0xf0 && b <= 0xf4) {
        unsigned lo = b == 0xf0 ? 0x90 : 0x80;
        unsigned hi = b == 0xf4 ? 0x8f : 0xbf;
        return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
    }
    return 0;
}

// Whether `ch`, one valid UTF-8 character, is a control character: C0 (with NUL), DEL or C1.
inline bool is_control(std::string_view ch) {
    auto b0 = static_cast<unsigned char>(ch[0]);
    if (ch.size() == 1) {
        return b0 < 0x20 || b0 == 0x7f;
    }
    // C1 controls, U+0080..U+009F, are 0xc2 0x80..0x9f.
    return ch.size() == 2 && b0 == 0xc2 && static_cast<unsigned char>(ch[1]) <= 0x9f;
}

inline constexpr std::string_view replacement_character = "\xef\xbf\xbd";  // U+FFFD

// `s` as valid UTF-8 without control characters, safe to send on D-Bus and to print: each byte
// that does not start a valid UTF-8 sequence becomes U+FFFD, and so does each control character,
// except tab, line feed, vertical tab, form feed and carriage return, which become a space.
// Valid text without controls comes back unchanged.
//
// Invalid bytes are not decoded as Latin-1: blkid already decodes the labels whose encoding is
// known (Joliet, UDF), so what is left is a mastering tool's undeclared code page (Latin-1,
// Windows-1252, Shift-JIS...) or a UTF-8 label cut at 32 bytes, and a wrong guess would show
// plausible but wrong text where U+FFFD shows that a character was lost.
inline std::string safe_text(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        std::size_t len = utf8_length(s.substr(i));
        std::string_view ch = s.substr(i, len == 0 ? 1 : len);
        i += ch.size();
        if (len == 0) {
            out += replacement_character;
        } else if (!is_control(ch)) {
            out += ch;
        } else if (ch[0] >= '\t' && ch[0] <= '\r') {
            out += ' ';
        } else {
            out += replacement_character;
        }
    }
    return out;
}

}  // namespace freemkv
