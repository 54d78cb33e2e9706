#include "title_naming.hpp"

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace freemkv {

namespace {

[[noreturn]] void invalid(std::string_view tmpl, std::string_view why) {
    throw std::invalid_argument(fmt::format("title template '{}': {}", tmpl, why));
}

}  // namespace

std::filesystem::path title_file(std::string_view tmpl, std::string_view name, int title) {
    std::string out;
    for (std::size_t i = 0; i < tmpl.size(); ++i) {
        char c = tmpl[i];
        if ((c == '{' || c == '}') && i + 1 < tmpl.size() && tmpl[i + 1] == c) {
            out += c;
            ++i;
            continue;
        }
        if (c == '}') {
            invalid(tmpl, "'}' without '{'");
        }
        if (c != '{') {
            out += c;
            continue;
        }
        auto end = tmpl.find('}', i);
        if (end == std::string_view::npos) {
            invalid(tmpl, "'{' without '}'");
        }
        auto field = tmpl.substr(i + 1, end - i - 1);
        if (field == "name") {
            out += name;
        } else if (field == "title") {
            out += std::to_string(title);
        } else if (field == "title:02") {
            out += fmt::format("{:02}", title);
        } else {
            invalid(tmpl, fmt::format("unknown placeholder {{{}}}", field));
        }
        i = end;
    }
    std::filesystem::path whole(out);
    auto it = whole.begin();
    if (whole.is_absolute() || it == whole.end() || *it != name) {
        invalid(tmpl, "it must start with {name}/");
    }
    std::filesystem::path inside;
    for (++it; it != whole.end(); ++it) {
        if (it->empty() || *it == "." || *it == "..") {
            invalid(tmpl, "it has an empty, '.' or '..' component");
        }
        inside /= *it;
    }
    if (inside.empty()) {
        invalid(tmpl, "it names the folder, not a file in it");
    }
    return inside.string() + ".mkv";
}

}  // namespace freemkv
