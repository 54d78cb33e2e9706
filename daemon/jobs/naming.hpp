#pragma once

// Where a rip goes in the library: the disc label made safe as a file name, the naming template
// that lays out the library ("{label}", "{type}/{date} {label}", ...), and the choice of a final
// name that does not overwrite anything.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "enum_names.hpp"

namespace freemkv {

// What to do when the final name is already taken.
enum class OnExists {
    number,  // "name (2).iso", "name (3).iso", ...
    fail,
};

inline constexpr EnumNames<OnExists, 2> on_exists_names{{
    {OnExists::number, "number"},
    {OnExists::fail, "fail"},
}};
inline std::string_view to_string(OnExists policy) {
    return name_of(on_exists_names, policy);
}
inline std::optional<OnExists> parse_on_exists(std::string_view name) {
    return value_of(on_exists_names, name);
}

// Longest name safe_file_name() returns, in bytes.
inline constexpr std::size_t max_label_bytes = 120;
// Longest path component expand_template() returns, in bytes: room is left under NAME_MAX (255)
// for " (NNNN)", the extension and ".part".
inline constexpr std::size_t max_component_bytes = 200;

// A disc label as one file name component: '/' and '\' become '_'; control characters (C0, DEL,
// C1, NUL) count as whitespace; invalid UTF-8 bytes become '_'; a run of whitespace and
// underscores becomes one space (or one '_' when it has no whitespace); leading dots, spaces and
// underscores and trailing spaces and underscores are dropped; at most max_label_bytes, cut on a
// character boundary. Case is kept. Nothing left gives "disc-YYYY-MM-DD-HHMMSS" (UTC, at `now`).
std::string safe_file_name(std::string_view label, std::chrono::system_clock::time_point now);

// safe_file_name() without the dated fallback: "" when nothing is left.
std::string sanitize_component(std::string_view text);
// Cuts `s` to at most `max` bytes on a UTF-8 character boundary, then drops trailing spaces.
void cut_component(std::string& s, std::size_t max);

// A disc label as a person would write the title ("THE_BIG_LEBOWSKI" -> "The Big Lebowski"),
// for the {name} placeholder. Words are split on whitespace, underscores, '/', '\\', control
// characters and invalid UTF-8 (as safe_file_name() treats them) and joined with one space. A
// label without lowercase letters is title-cased: each word capitalised after a hyphen too
// ("SPIDER-MAN" -> "Spider-Man"), "of", "the", "a", "an", "and", "or", "in", "on", "to", "for",
// "at" lowercase except as the first word, roman numerals II to XXXIX upper ("ROCKY_II"), a
// number's suffix lowercase ("2ND" -> "2nd") but "3D"/"4K" upper, and a disc marker readable ("_D1"
// stays "D1", "DISC_1" and "DISC1" become "Disc 1"). A label with lowercase letters keeps its case.
// ASCII and Latin-1 letters (U+00C0..U+00FE) change case; other characters stay. At most
// max_label_bytes; "" when nothing readable is left.
std::string readable_label(std::string_view label);

inline constexpr std::string_view default_naming = "{label}";

// How rips are named in the library.
struct NamingOptions {
    std::string pattern = std::string(default_naming);  // a template, see validate_template()
    OnExists on_exists = OnExists::number;
    // A DVD-Video's titles, without ".mkv", relative to the directory of the job's folder and
    // inside it ("{name}/..."): {name} is the folder's name (the pattern's last component),
    // {title} the title's number, {title:02} with two digits. See title_naming.hpp.
    std::string title_main = "{name}/{name}";
    std::string title_extra = "{name}/extras/{name} - title {title:02}";
};

// Throws std::invalid_argument saying what is wrong with a naming template. A template is
// literal text and placeholders ({label}, {name}, {volume_id}, {type}, {date}, {drive}); '/' makes
// subdirectories; "{{" and "}}" are literal braces.
void validate_template(std::string_view tmpl);

struct NameFields {
    std::string label;      // disc label; empty gives the dated fallback of safe_file_name()
    std::string volume_id;  // empty gives "unknown", like every field but the label
    std::string type;       // cd, dvd, bd, unknown
    std::string drive;      // kernel name, e.g. "sr0" (a leading "/dev/" is dropped)
    std::chrono::system_clock::time_point date;  // {date} is its UTC day, YYYY-MM-DD
};

// The template filled in: a relative path inside the library, without extension. Every field is
// sanitised like safe_file_name(), so no field can add a '/' or a ".." component; a component
// longer than max_component_bytes is cut. Throws std::invalid_argument for an invalid template,
// and for a result that is empty, absolute or has an empty, "." or ".." component or a NUL.
std::filesystem::path expand_template(std::string_view tmpl, const NameFields& fields);

// The final path for `relative` + `extension` in `library` (which need not exist yet): the name
// itself if nothing has it, else with OnExists::number the first free "name (N)<extension>", and
// with OnExists::fail a std::runtime_error naming the existing file. A name is also taken by an
// unfinished rip's "<name>.iso.part" or "<name>.map" (the caller resumes the same disc under its
// earlier name before choosing a new one). Throws
// std::invalid_argument when the result would not be inside the library.
// `reserved` are final paths already promised to rips that have not created their files yet.
std::filesystem::path choose_output(const std::filesystem::path& library,
                                    const std::filesystem::path& relative,
                                    std::string_view extension, OnExists policy = OnExists::number,
                                    const std::set<std::filesystem::path>& reserved = {});

// The candidate closest to `word` by edit distance, if it is at most 2 edits away (and fewer
// edits than `word` has characters); the first such candidate on ties. For "did you mean".
std::optional<std::string_view> closest_match(std::string_view word,
                                              std::span<const std::string_view> candidates);

}  // namespace freemkv
