#include "naming.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <ctime>
#include <stdexcept>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "utf8.hpp"

namespace freemkv {

namespace fs = std::filesystem;

namespace {

constexpr std::array<std::string_view, 6> placeholders = {"label", "name", "volume_id",
                                                          "type",  "date", "drive"};

std::tm utc(std::chrono::system_clock::time_point when) {
    std::time_t t = std::chrono::system_clock::to_time_t(when);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    return tm;
}

std::string utc_date(std::chrono::system_clock::time_point when) {
    std::tm tm = utc(when);
    return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

// safe_file_name() without the fallback: may return "".
std::string sanitize(std::string_view in) {
    std::string out;
    bool in_run = false;  // inside a run of whitespace / underscores
    bool run_has_space = false;
    for (std::size_t i = 0; i < in.size();) {
        std::size_t len = utf8_length(in.substr(i));
        std::string_view ch = in.substr(i, len == 0 ? 1 : len);
        i += ch.size();
        bool space = len != 0 && (ch == " " || is_control(ch));
        bool underscore = len == 0 || ch == "_" || ch == "/" || ch == "\\";
        if (space || underscore) {
            run_has_space = (in_run && run_has_space) || space;
            in_run = true;
            continue;
        }
        if (out.empty() && ch == ".") {
            continue;  // never a hidden file, ".", or ".."
        }
        std::size_t sep = in_run && !out.empty() ? 1 : 0;
        if (out.size() + sep + ch.size() > max_label_bytes) {
            break;
        }
        if (sep != 0) {
            out += run_has_space ? ' ' : '_';
        }
        in_run = false;
        out += ch;
    }
    return out;
}

// A field of the template: sanitised, never empty.
std::string field_value(std::string_view value) {
    std::string s = sanitize(value);
    return s.empty() ? "unknown" : s;
}

// Cuts `s` to at most `max` bytes on a UTF-8 character boundary, then drops trailing spaces.
void cut(std::string& s, std::size_t max) {
    if (s.size() <= max) {
        return;
    }
    std::size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) {
        --n;
    }
    s.resize(n);
    while (!s.empty() && s.back() == ' ') {
        s.pop_back();
    }
}

struct Piece {
    bool placeholder;  // else literal text
    std::string text;  // the literal text, or the placeholder's name
};
using Component = std::vector<Piece>;

[[noreturn]] void invalid(const std::string& message) {
    throw std::invalid_argument(message);
}

void check_placeholder(std::string_view name, std::size_t pos) {
    if (name.empty()) {
        invalid(fmt::format("empty placeholder '{{}}' at position {}", pos));
    }
    if (std::find(placeholders.begin(), placeholders.end(), name) != placeholders.end()) {
        return;
    }
    if (auto guess = closest_match(name, placeholders)) {
        invalid(fmt::format("unknown placeholder '{{{}}}' (did you mean '{{{}}}'?)", name, *guess));
    }
    invalid(fmt::format(
        "unknown placeholder '{{{}}}' (use {{label}}, {{name}}, {{volume_id}}, {{type}}, {{date}} "
        "or {{drive}})",
        name));
}

// Splits a template into path components of literal text and placeholders. Throws
// std::invalid_argument for anything validate_template() rejects.
std::vector<Component> parse_template(std::string_view t) {
    if (t.empty()) {
        invalid("template is empty");
    }
    for (std::size_t i = 0, len = 0; i < t.size(); i += len) {
        len = utf8_length(t.substr(i));
        if (len == 0) {
            invalid(fmt::format("template is not valid UTF-8 at position {}", i + 1));
        }
        if (t[i] == '\0') {
            invalid(fmt::format("template contains a NUL character at position {}", i + 1));
        }
        if (is_control(t.substr(i, len))) {
            invalid(fmt::format("template contains a control character at position {}", i + 1));
        }
    }
    if (t.front() == '/') {
        invalid("template must be a relative path inside the library, not an absolute path");
    }

    std::vector<Component> components(1);
    std::string literal;
    auto end_literal = [&] {
        if (!literal.empty()) {
            components.back().push_back({false, std::move(literal)});
            literal.clear();
        }
    };
    for (std::size_t i = 0; i < t.size(); ++i) {
        char c = t[i];
        bool doubled = i + 1 < t.size() && t[i + 1] == c;
        if (c == '{' && !doubled) {
            std::size_t close = t.find_first_of("{}", i + 1);
            if (close == std::string_view::npos || t[close] == '{') {
                invalid(fmt::format(
                    "unbalanced '{{' at position {} (write '{{{{' for a literal '{{')", i + 1));
            }
            std::string_view name = t.substr(i + 1, close - i - 1);
            check_placeholder(name, i + 1);
            end_literal();
            components.back().push_back({true, std::string(name)});
            i = close;
        } else if (c == '}' && !doubled) {
            invalid(fmt::format("unbalanced '}}' at position {} (write '}}}}' for a literal '}}')",
                                i + 1));
        } else if (c == '{' || c == '}') {
            literal += c;
            ++i;
        } else if (c == '/') {
            end_literal();
            components.emplace_back();
        } else {
            literal += c;
        }
    }
    end_literal();

    for (const Component& component : components) {
        bool has_placeholder = std::any_of(component.begin(), component.end(),
                                           [](const Piece& p) { return p.placeholder; });
        if (has_placeholder) {
            continue;
        }
        std::string text = component.empty() ? std::string() : component.front().text;
        if (text.find_first_not_of(' ') == std::string::npos) {
            invalid(components.size() == 1 ? "template can only produce an empty name"
                                           : "template has an empty path component");
        }
        if (text == "." || text == "..") {
            invalid(fmt::format("template must not contain a '{}' component", text));
        }
    }
    return components;
}

}  // namespace

std::string safe_file_name(std::string_view label, std::chrono::system_clock::time_point now) {
    std::string name = sanitize(label);
    if (!name.empty()) {
        return name;
    }
    std::tm tm = utc(now);
    return fmt::format("disc-{:04}-{:02}-{:02}-{:02}{:02}{:02}", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string sanitize_component(std::string_view text) {
    return sanitize(text);
}

void cut_component(std::string& s, std::size_t max) {
    cut(s, max);
}

void validate_template(std::string_view tmpl) {
    parse_template(tmpl);
}

fs::path expand_template(std::string_view tmpl, const NameFields& fields) {
    auto value = [&](std::string_view name) -> std::string {
        if (name == "label") {
            return safe_file_name(fields.label, fields.date);
        }
        if (name == "name") {
            std::string readable = readable_label(fields.label);
            return readable.empty() ? safe_file_name(fields.label, fields.date) : readable;
        }
        if (name == "volume_id") {
            return field_value(fields.volume_id);
        }
        if (name == "type") {
            return field_value(fields.type);
        }
        if (name == "date") {
            return utc_date(fields.date);
        }
        std::string_view drive = fields.drive;
        if (drive.starts_with("/dev/")) {
            drive.remove_prefix(5);
        }
        return field_value(drive);
    };

    fs::path result;
    for (const Component& component : parse_template(tmpl)) {
        std::string text;
        for (const Piece& piece : component) {
            text += piece.placeholder ? value(piece.text) : piece.text;
        }
        cut(text, max_component_bytes);
        // Defence in depth: parse_template() and the sanitising already exclude all of these.
        if (text.empty() || text.find_first_not_of(' ') == std::string::npos) {
            invalid(fmt::format("name from template '{}' has an empty path component", tmpl));
        }
        if (text == "." || text == "..") {
            invalid(fmt::format("name from template '{}' has a '{}' component", tmpl, text));
        }
        if (text.find('\0') != std::string::npos || text.find('/') != std::string::npos) {
            invalid(fmt::format("name from template '{}' has a NUL or '/' in a component", tmpl));
        }
        result /= text;
    }
    if (result.empty() || result.is_absolute()) {
        invalid(fmt::format("name from template '{}' is not a relative path", tmpl));
    }
    return result;
}

fs::path choose_output(const fs::path& library, const fs::path& relative,
                       std::string_view extension, OnExists policy,
                       const std::set<fs::path>& reserved) {
    fs::path root = library.lexically_normal();
    if (!root.has_filename()) {
        root = root.parent_path();  // "/lib/" -> "/lib"
    }
    fs::path base = (root / relative).lexically_normal();
    fs::path inside = base.lexically_relative(root);
    if (relative.empty() || relative.is_absolute() || inside.empty() || inside == "." ||
        *inside.begin() == ".." || !base.has_filename()) {
        invalid(fmt::format("output '{}' is not inside the library '{}'", relative.string(),
                            library.string()));
    }

    auto taken = [](const fs::path& p) {
        struct stat st {};
        if (::lstat(p.c_str(), &st) == 0) {
            return true;  // a file, a directory, even a dangling symlink: never replaced
        }
        if (errno == ENOENT || errno == ENOTDIR) {
            return false;
        }
        throw std::system_error(errno, std::generic_category(), "lstat " + p.string());
    };

    // The ".part" and ".map" of an unfinished rip hold that rip's name too. (Resuming the same
    // disc reuses its name before this is asked.)
    auto free_name = [&](const fs::path& p) {
        fs::path map = p;
        map.replace_extension(".map");
        return !reserved.contains(p) && !taken(p) && !taken(p.string() + ".part") && !taken(map);
    };

    std::string stem = base.filename().string();
    fs::path candidate = base.parent_path() / (stem + std::string(extension));
    if (free_name(candidate)) {
        return candidate;
    }
    if (policy == OnExists::fail) {
        throw std::runtime_error(fmt::format("output file already exists: {}", candidate.string()));
    }
    constexpr int max_number = 9999;
    for (int n = 2; n <= max_number; ++n) {
        candidate = base.parent_path() / fmt::format("{} ({}){}", stem, n, extension);
        if (free_name(candidate)) {
            return candidate;
        }
    }
    throw std::runtime_error(
        fmt::format("no free name for {}{} up to ({})", base.string(), extension, max_number));
}

std::optional<std::string_view> closest_match(std::string_view word,
                                              std::span<const std::string_view> candidates) {
    constexpr std::size_t max_edits = 2;
    std::optional<std::string_view> best;
    std::size_t best_distance = max_edits + 1;
    std::vector<std::size_t> previous(word.size() + 1);
    std::vector<std::size_t> current(word.size() + 1);
    for (std::string_view candidate : candidates) {
        for (std::size_t j = 0; j <= word.size(); ++j) {
            previous[j] = j;
        }
        for (std::size_t i = 1; i <= candidate.size(); ++i) {
            current[0] = i;
            for (std::size_t j = 1; j <= word.size(); ++j) {
                std::size_t substitute =
                    previous[j - 1] + (candidate[i - 1] == word[j - 1] ? 0 : 1);
                current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitute});
            }
            std::swap(previous, current);
        }
        std::size_t distance = previous[word.size()];
        if (distance < best_distance && distance < word.size()) {
            best = candidate;
            best_distance = distance;
        }
    }
    return best;
}

}  // namespace freemkv
