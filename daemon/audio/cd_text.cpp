#include "cd_text.hpp"

#include "utf8.hpp"

namespace freemkv {

namespace {

// `utf8` decoded to Latin-1 bytes; false when it holds a character above U+00FF.
bool to_latin1(std::string_view utf8, std::string& out) {
    for (std::size_t i = 0; i < utf8.size();) {
        auto b0 = static_cast<unsigned char>(utf8[i]);
        std::size_t len = utf8_length(utf8.substr(i));
        if (len == 1) {
            out += static_cast<char>(b0);
        } else if (len == 2 && (b0 == 0xc2 || b0 == 0xc3)) {
            auto b1 = static_cast<unsigned char>(utf8[i + 1]);
            out += static_cast<char>(((b0 & 0x03u) << 6) | (b1 & 0x3fu));
        } else {
            return false;
        }
        i += len;
    }
    return true;
}

bool valid_utf8_with_non_ascii(std::string_view s) {
    bool non_ascii = false;
    for (std::size_t i = 0; i < s.size();) {
        std::size_t len = utf8_length(s.substr(i));
        if (len == 0) {
            return false;
        }
        non_ascii = non_ascii || len > 1;
        i += len;
    }
    return non_ascii;
}

}  // namespace

std::string cue_text(std::string_view text) {
    std::string bytes;
    if (to_latin1(text, bytes) && valid_utf8_with_non_ascii(bytes)) {
        return safe_text(bytes);
    }
    return safe_text(text);
}

}  // namespace freemkv
