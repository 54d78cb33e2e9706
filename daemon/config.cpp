#include "config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <span>
#include <utility>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "config_value.hpp"
#include "full_io.hpp"
#include "io_error.hpp"
#include "title_naming.hpp"
#include "track_naming.hpp"
#include "unique_fd.hpp"

namespace freemkv {

namespace fs = std::filesystem;
using std::chrono::seconds;

namespace {

// Bounds, documented in config/freemkvd.toml.
constexpr std::int64_t max_ecc_sectors = 1024;  // 2 MiB per read
constexpr std::int64_t ecc_granule = 16;        // a DVD ECC block; a BD block is two
constexpr std::int64_t max_retries = 100;
constexpr std::int64_t max_parallel = 64;
constexpr std::int64_t max_history = 10000;
constexpr std::int64_t max_extract = 64;
constexpr seconds max_min_length = std::chrono::hours(24);
constexpr seconds max_repair_budget = std::chrono::hours(168);
constexpr seconds min_checkpoint{1};
constexpr seconds max_checkpoint = std::chrono::hours(1);
constexpr std::uint64_t chunk_granule = 4 * KiB;  // keeps writeback ranges page-aligned
constexpr std::uint64_t max_chunk = 4 * GiB;
constexpr std::uint64_t max_buffer = 4 * GiB;
constexpr std::size_t max_file_bytes = 1024 * 1024;
constexpr std::int64_t max_audio_retries = 1000;
// Samples; the offsets drives are known for lie within about +-2000.
constexpr std::int64_t max_read_offset = 10000;
constexpr std::int64_t max_flac_level = 8;

std::int32_t read_offset(const ConfigValue& v) {
    std::int64_t n = v.integer();
    if (n < -max_read_offset || n > max_read_offset) {
        v.fail(fmt::format("must be between {} and {} samples, got {}", -max_read_offset,
                           max_read_offset, n));
    }
    return static_cast<std::int32_t>(n);
}

// audio.drive_offsets: a table of drive model -> read offset.
std::map<std::string, std::int32_t> drive_offsets(const ConfigValue& v) {
    const toml::table* table = v.node().as_table();
    if (table == nullptr) {
        v.fail(fmt::format("expected a table such as {{ \"PLEXTOR DVDR PX-716A\" = 30 }}, got {}",
                           type_name(v.node())));
    }
    std::map<std::string, std::int32_t> offsets;
    for (const auto& [model, node] : *table) {
        offsets[std::string(model.str())] =
            read_offset(v.child(fmt::format("\"{}\"", model.str()), node));
    }
    return offsets;
}

// The album template names a folder for the album (its directory), not the library itself.
// Throws std::invalid_argument.
void check_album_naming(const AudioOptions& audio) {
    if (album_file(audio.album_naming, {"Artist", "Album", "discid"}, "").parent_path().empty()) {
        throw std::invalid_argument(
            "album_naming must name a folder for the album, e.g. \"{artist}/{album}/{album}\"");
    }
}

// The track template with the album's: tracks get names of their own, also with names so long
// that they are cut, and every track lies inside the album's folder. Throws
// std::invalid_argument.
void check_track_naming(const AudioOptions& audio) {
    const std::string long_name(300, 'x');
    for (const bool cut : {false, true}) {
        const AlbumNameFields sample = cut ? AlbumNameFields{long_name, long_name, "discid"}
                                           : AlbumNameFields{"Artist", "Album", "discid"};
        const std::string title = cut ? long_name : "Title";
        fs::path album = album_file(audio.album_naming, sample, "");
        fs::path track = track_file(audio.naming, sample, 1, title);
        if (track == track_file(audio.naming, sample, 2, title)) {
            throw std::invalid_argument(
                "naming must tell the tracks apart: use {track} or {track:02}, early enough that "
                "a long name does not cut it off");
        }
        fs::path inside = track.lexically_relative(album.parent_path());
        if (inside.empty() || *inside.begin() == "..") {
            throw std::invalid_argument(
                fmt::format("a track ('{}') must lie inside the album's folder ('{}', from "
                            "album_naming)",
                            track.string(), album.parent_path().string()));
        }
    }
}

// A track or album template (track_naming.hpp) on its own.
std::string track_template(const ConfigValue& v) {
    std::string tmpl = v.string();
    try {
        validate_track_template(tmpl);
    } catch (const std::invalid_argument& e) {
        v.fail(e.what());
    }
    return tmpl;
}

// A title file template (title_naming.hpp), checked on a sample name.
std::string title_template(const ConfigValue& v) {
    std::string tmpl = v.string();
    try {
        (void)title_file(tmpl, "Name", 1);
    } catch (const std::invalid_argument& e) {
        v.fail(e.what());
    }
    return tmpl;
}

// Every key the file may set: its name, what it means (with its bounds), and how its value is
// read into the components' options. The type and the bounds are the ConfigValue read the setter
// makes. Adding a key is one entry here, and its documentation in config/freemkvd.toml (which
// config_test holds to this table). Tables are listed in the order they first appear.
struct Key {
    std::string_view name;  // "table.key"
    std::string doc;
    void (*set)(const ConfigValue& value, Config& config);
};

const std::vector<Key>& keys() {
    using V = const ConfigValue&;
    static const std::vector<Key> table = {
        {"library.path", "where finished rips go, an absolute path",
         [](V v, Config& c) { c.jobs.library = v.directory(); }},
        {"library.naming", "each rip's name in the library, a template such as \"{label}\"",
         [](V v, Config& c) {
             c.jobs.naming.pattern = v.string();
             try {
                 validate_template(c.jobs.naming.pattern);
             } catch (const std::invalid_argument& e) {
                 v.fail(e.what());
             }
         }},
        {"library.on_exists", "when a name is taken: " + join(all_names(on_exists_names)),
         [](V v, Config& c) { c.jobs.naming.on_exists = v.choice(on_exists_names); }},
        {"library.main_title",
         "a DVD-Video's main feature in its folder, a template such as \"{name}/{name}\"",
         [](V v, Config& c) { c.jobs.naming.title_main = title_template(v); }},
        {"library.extra_title",
         "a DVD-Video's other titles, a template such as "
         "\"{name}/extras/{name} - title {title:02}\"",
         [](V v, Config& c) { c.jobs.naming.title_extra = title_template(v); }},
        {"state.dir", "the job journal's directory, an absolute path",
         [](V v, Config& c) { c.jobs.state_dir = v.directory(); }},
        {"rip.ecc_sectors",
         fmt::format("ECC block in sectors: 0 by disc type, else a multiple of {} up to {}",
                     ecc_granule, max_ecc_sectors),
         [](V v, Config& c) {
             std::int64_t n = v.integer();
             if (n < 0 || n > max_ecc_sectors || n % ecc_granule != 0) {
                 v.fail(fmt::format("must be 0 (by disc type) or a multiple of {} up to {}, got {}",
                                    ecc_granule, max_ecc_sectors, n));
             }
             c.jobs.ecc_sectors = static_cast<unsigned>(n);
         }},
        {"rip.retries", fmt::format("repair attempts per unreadable sector, 0 to {}", max_retries),
         [](V v, Config& c) { c.jobs.rip.retries = v.bounded(0, max_retries); }},
        {"rip.repair_budget",
         fmt::format("time limit for one job's repair passes, 0s to {}h",
                     std::chrono::duration_cast<std::chrono::hours>(max_repair_budget).count()),
         [](V v, Config& c) {
             c.jobs.rip.repair_budget = v.duration(seconds(0), max_repair_budget);
         }},
        {"rip.checkpoint_interval", "how often a running rip's mapfile is saved, 1s to 1h",
         [](V v, Config& c) {
             c.jobs.rip.checkpoint_interval = v.duration(min_checkpoint, max_checkpoint);
         }},
        {"writeback.policy", "how the chunk size adapts: " + join(all_names(policy_kind_names)),
         [](V v, Config& c) { c.jobs.rip.writeback.kind = v.choice(policy_kind_names); }},
        {"writeback.start_chunk", "the first writeback chunk, a multiple of 4 KiB up to 4 GiB",
         [](V v, Config& c) {
             c.jobs.rip.writeback.start_bytes = v.size(chunk_granule, max_chunk, chunk_granule);
         }},
        {"writeback.min_chunk", "the smallest writeback chunk, a multiple of 4 KiB up to 4 GiB",
         [](V v, Config& c) {
             c.jobs.rip.writeback.min_bytes = v.size(chunk_granule, max_chunk, chunk_granule);
         }},
        {"writeback.max_chunk", "the largest writeback chunk, a multiple of 4 KiB up to 4 GiB",
         [](V v, Config& c) {
             c.jobs.rip.writeback.max_bytes = v.size(chunk_granule, max_chunk, chunk_granule);
         }},
        {"writeback.buffer", "memory for read but unwritten data, two blocks (2 MiB) to 4 GiB",
         [](V v, Config& c) { c.jobs.rip.buffer.buffer_bytes = v.size(0, max_buffer, 1); }},
        {"queue.max_parallel",
         fmt::format("drives ripping at the same time, 1 to {}", max_parallel),
         [](V v, Config& c) { c.jobs.max_parallel = v.bounded(1, max_parallel); }},
        {"queue.max_extract",
         fmt::format("disc images turned into titles at the same time, 1 to {}", max_extract),
         [](V v, Config& c) { c.jobs.max_extract = v.bounded(1, max_extract); }},
        {"queue.history", fmt::format("ended jobs kept as D-Bus objects, 0 to {}", max_history),
         [](V v, Config& c) { c.history = v.bounded(0, max_history); }},
        {"drives.auto_rip", "rip each inserted disc",
         [](V v, Config& c) { c.drives.auto_rip = v.boolean(); }},
        {"drives.eject_when_done", "eject a disc once its rip succeeded",
         [](V v, Config& c) { c.drives.eject_when_done = v.boolean(); }},
        {"drives.watch", "drives to use, device paths or globs under /dev/ (empty: all)",
         [](V v, Config& c) { c.drives.watch = v.device_globs(); }},
        {"drives.ignore", "drives never to use, device paths or globs under /dev/",
         [](V v, Config& c) { c.drives.ignore = v.device_globs(); }},
        {"images.import_folders",
         "on the system bus, folders where anyone allowed to rip may name an image by path "
         "(absolute paths; empty: only root may)",
         [](V v, Config& c) { c.import_folders = v.directories(); }},
        {"video.titles",
         "which titles of a DVD-Video become files: " + join(all_names(title_selection_names)),
         [](V v, Config& c) { c.jobs.video.titles = v.choice(title_selection_names); }},
        {"video.min_length",
         fmt::format("with titles = \"all\", the shortest title extracted, 0s to {}h",
                     std::chrono::duration_cast<std::chrono::hours>(max_min_length).count()),
         [](V v, Config& c) { c.jobs.video.min_length = v.duration(seconds(0), max_min_length); }},
        {"video.keep_image", "keep the disc image once its titles are published",
         [](V v, Config& c) { c.jobs.video.keep_image = v.boolean(); }},
        {"audio.paranoia",
         "how hard an audio CD is verified while read: " + join(all_names(paranoia_mode_names)),
         [](V v, Config& c) { c.jobs.audio.paranoia = v.choice(paranoia_mode_names); }},
        {"audio.retries",
         fmt::format("reads of a failing audio frame before it is given up, 1 to {}",
                     max_audio_retries),
         [](V v, Config& c) {
             c.jobs.audio.retries = static_cast<int>(v.bounded(1, max_audio_retries));
         }},
        {"audio.read_offset",
         fmt::format("the drive's read offset in samples, {} to {}", -max_read_offset,
                     max_read_offset),
         [](V v, Config& c) { c.jobs.audio.read_offset = read_offset(v); }},
        {"audio.drive_offsets",
         "read offsets by drive model, a table of \"VENDOR MODEL\" = samples",
         [](V v, Config& c) { c.jobs.audio.drive_offsets = drive_offsets(v); }},
        {"audio.flac_level", fmt::format("FLAC compression level, 0 to {}", max_flac_level),
         [](V v, Config& c) {
             c.jobs.audio.flac_level = static_cast<int>(v.bounded(0, max_flac_level));
         }},
        {"audio.naming",
         "each track's file, a template such as \"{artist}/{album}/{track:02} - {title}\"",
         [](V v, Config& c) { c.jobs.audio.naming = track_template(v); }},
        {"audio.album_naming",
         "the album's folder and its cue sheet, log and playlist, a template such as "
         "\"{artist}/{album}/{album}\"",
         [](V v, Config& c) { c.jobs.audio.album_naming = track_template(v); }},
        {"audio.musicbrainz", "look the album up on MusicBrainz (needs the network)",
         [](V v, Config& c) { c.jobs.audio.musicbrainz = v.boolean(); }},
        {"audio.musicbrainz_url", "the MusicBrainz server, an http:// or https:// URL",
         [](V v, Config& c) { c.jobs.audio.musicbrainz_url = v.url(); }},
        {"audio.accuraterip", "check the rip against the AccurateRip database (needs the network)",
         [](V v, Config& c) { c.jobs.audio.accuraterip = v.boolean(); }},
        {"audio.accuraterip_url", "the AccurateRip server, an http:// or https:// URL",
         [](V v, Config& c) { c.jobs.audio.accuraterip_url = v.url(); }},
    };
    return table;
}

std::string_view table_of(std::string_view key) {
    return key.substr(0, key.find('.'));
}

std::vector<std::string_view> table_names() {
    std::vector<std::string_view> names;
    for (const Key& key : keys()) {
        if (names.empty() || names.back() != table_of(key.name)) {
            names.push_back(table_of(key.name));
        }
    }
    return names;
}

// The key names of `table`, without the table: "path", "naming", ...
std::vector<std::string_view> keys_in(std::string_view table) {
    std::vector<std::string_view> names;
    for (const Key& key : keys()) {
        if (table_of(key.name) == table) {
            names.push_back(key.name.substr(table.size() + 1));
        }
    }
    return names;
}

const Key* find_key(std::string_view name) {
    for (const Key& key : keys()) {
        if (key.name == name) {
            return &key;
        }
    }
    return nullptr;
}

// The entries of a table in the order they appear in the file, so the first error reported is
// the first one in the file (toml::table itself is ordered by key).
std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(const toml::table& t) {
    std::vector<std::pair<const toml::key*, const toml::node*>> entries;
    for (const auto& [key, node] : t) {
        entries.emplace_back(&key, &node);
    }
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        const auto& pa = a.first->source().begin;
        const auto& pb = b.first->source().begin;
        return std::pair(pa.line, pa.column) < std::pair(pb.line, pb.column);
    });
    return entries;
}

// Walks the file's tables and keys, rejects unknown ones with a suggestion, and hands each
// value to its key's setter.
class Parser {
  public:
    Parser(const fs::path& file, const Config& defaults) : file_(file), defaults_(defaults) {}

    Config parse(const toml::table& root) {
        Config config = defaults_;
        for (auto [key, node] : in_file_order(root)) {
            ConfigValue table(file_, std::string(key->str()), *node, key->source().begin.line);
            check_table(table);
            const toml::table* entries = node->as_table();
            if (entries == nullptr) {
                table.fail(fmt::format("expected a table, got {}", type_name(*node)));
            }
            for (auto [k, v] : in_file_order(*entries)) {
                ConfigValue value(file_, table.key() + "." + std::string(k->str()), *v,
                                  k->source().begin.line);
                const Key& known = check_key(table.key(), value, k->str());
                seen_[value.key()] = value.line();
                known.set(value, config);
            }
        }
        check_writeback(config);
        check_audio(config);
        config.lines = seen_;
        return config;
    }

  private:
    void check_table(const ConfigValue& item) const {
        std::vector<std::string_view> names = table_names();
        if (std::find(names.begin(), names.end(), item.key()) != names.end()) {
            return;
        }
        std::string what = item.node().is_table() ? "unknown table" : "unknown key";
        if (auto guess = closest_match(item.key(), names)) {
            item.fail(fmt::format("{} (did you mean '{}'?)", what, *guess));
        }
        for (std::string_view table : names) {
            if (find_key(std::string(table) + "." + item.key())) {
                item.fail(fmt::format("{} (did you mean '{}.{}'?)", what, table, item.key()));
            }
        }
        item.fail(fmt::format("{} (tables are {})", what, join(names)));
    }

    const Key& check_key(const std::string& table, const ConfigValue& item,
                         std::string_view name) const {
        if (const Key* key = find_key(item.key())) {
            return *key;
        }
        std::vector<std::string_view> here = keys_in(table);
        if (auto guess = closest_match(name, here)) {
            item.fail(fmt::format("unknown key (did you mean '{}'?)", *guess));
        }
        for (std::string_view other : table_names()) {
            if (find_key(std::string(other) + "." + std::string(name))) {
                item.fail(fmt::format("unknown key (did you mean '{}.{}'?)", other, name));
            }
        }
        item.fail(fmt::format("unknown key (keys in [{}] are {})", table, join(here)));
    }

    // Cross-checks the chunk sizes with freemkv::validate(), blaming the key the file set.
    void check_writeback(Config& c) const {
        PolicyConfig& w = c.jobs.rip.writeback;
        bool start_set = seen_.contains("writeback.start_chunk");
        if (!start_set && w.min_bytes <= w.max_bytes) {
            w.start_bytes = std::clamp(w.start_bytes, w.min_bytes, w.max_bytes);
        }
        try {
            validate(w);
        } catch (const std::invalid_argument& e) {
            std::string key = "writeback.min_chunk";
            if (w.min_bytes > w.max_bytes) {
                key = seen_.contains(key) ? key : "writeback.max_chunk";
            } else if (w.start_bytes < w.min_bytes || w.start_bytes > w.max_bytes) {
                key = start_set                     ? "writeback.start_chunk"
                      : w.start_bytes < w.min_bytes ? "writeback.min_chunk"
                                                    : "writeback.max_chunk";
            }
            throw ConfigError(file_, line_of(key), key, e.what());
        }
        try {
            validate(c.jobs.rip.buffer);
        } catch (const std::invalid_argument& e) {
            throw ConfigError(file_, line_of("writeback.buffer"), "writeback.buffer", e.what());
        }
    }

    void check_audio(const Config& c) const {
        std::string key = "audio.album_naming";
        try {
            check_album_naming(c.jobs.audio);
            key = seen_.contains("audio.naming") ? "audio.naming" : "audio.album_naming";
            check_track_naming(c.jobs.audio);
        } catch (const std::invalid_argument& e) {
            throw ConfigError(file_, line_of(key), key, e.what());
        }
    }

    unsigned line_of(const std::string& key) const {
        auto it = seen_.find(key);
        return it == seen_.end() ? 0 : it->second;
    }

    const fs::path& file_;
    const Config& defaults_;
    std::map<std::string, unsigned> seen_;  // key -> line, for every key the file sets
};

// Checks that `dir` is a writable directory or can be created.
void check_directory(const fs::path& file, unsigned line, const std::string& key,
                     const fs::path& dir) {
    auto fail = [&](const std::string& message) { throw ConfigError(file, line, key, message); };
    struct stat st {};
    fs::path existing = dir;
    while (::stat(existing.c_str(), &st) != 0) {
        if (errno != ENOENT && errno != ENOTDIR) {
            fail(fmt::format("cannot access '{}' ({})", existing.string(), std::strerror(errno)));
        }
        fs::path parent = existing.parent_path();
        existing = parent.empty() || parent == existing ? fs::path(".") : parent;
    }
    bool exists = existing == dir;
    std::string prefix = exists ? "" : fmt::format("cannot create '{}': ", dir.string());
    if (!S_ISDIR(st.st_mode)) {
        fail(fmt::format("{}'{}' is not a directory", prefix, existing.string()));
    }
    if (::access(existing.c_str(), W_OK | X_OK) != 0) {
        fail(fmt::format("{}'{}' is not writable ({})", prefix, existing.string(),
                         std::strerror(errno)));
    }
}

std::string describe(const fs::path& file, unsigned line, unsigned column, const std::string& key,
                     const std::string& message) {
    std::string out = file.string();
    if (line != 0) {
        out += fmt::format(":{}", line);
        if (column != 0) {
            out += fmt::format(":{}", column);
        }
    }
    out += ": ";
    if (!key.empty()) {
        out += key + ": ";
    }
    return out + message;
}

}  // namespace

ConfigError::ConfigError(fs::path file, unsigned line, std::string key, std::string message,
                         unsigned column)
    : std::runtime_error(describe(file, line, column, key, message)),
      file_(std::move(file)),
      line_(line),
      column_(column),
      key_(std::move(key)),
      message_(std::move(message)) {}

std::vector<ConfigKey> config_keys() {
    std::vector<ConfigKey> out;
    for (const Key& key : keys()) {
        out.push_back({key.name, key.doc});
    }
    return out;
}

Config parse_config(std::string_view toml_text, const fs::path& file_for_errors,
                    const Config& defaults) {
    toml::table root;
    try {
        root = toml::parse(toml_text, file_for_errors.string());
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        throw ConfigError(file_for_errors, where.line, "", std::string(e.description()),
                          where.column);
    }
    return Parser(file_for_errors, defaults).parse(root);
}

Config load_config(const fs::path& file, const Config& defaults) {
    auto fail = [&](const std::string& what) {
        throw ConfigError(file, 0, "", fmt::format("cannot read the configuration: {}", what));
    };
    // Non-blocking: opening a FIFO for reading would wait for a writer. On the regular file that
    // the check below insists on, O_NONBLOCK changes nothing.
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (!fd) {
        fail(std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        fail(std::strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        fail("not a regular file");
    }
    std::string text(max_file_bytes + 1, '\0');  // one byte more tells a file that is too large
    std::size_t size = 0;
    try {
        size = read_full(fd.get(), std::as_writable_bytes(std::span(text)), 0, file);
    } catch (const IoError& e) {
        fail(e.code().message());
    }
    if (size > max_file_bytes) {
        fail(fmt::format("larger than {}", format_size(max_file_bytes)));
    }
    text.resize(size);
    return parse_config(text, file, defaults);
}

void check_environment(const Config& config, const fs::path& file) {
    auto line = [&](const char* key) {
        auto it = config.lines.find(key);
        return it == config.lines.end() ? 0u : it->second;
    };
    check_directory(file, line("library.path"), "library.path", config.jobs.library);
    check_directory(file, line("state.dir"), "state.dir", config.jobs.state_dir);
}

}  // namespace freemkv

namespace freemkv {

namespace {

// XDG_VIDEOS_DIR from user-dirs.dirs: a line XDG_VIDEOS_DIR="$HOME/Videos" (the format
// xdg-user-dirs writes: "$HOME/..." or an absolute path). Empty when absent.
fs::path videos_from_user_dirs(const fs::path& file, const fs::path& home) {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
        constexpr std::string_view key = "XDG_VIDEOS_DIR=";
        if (!line.starts_with(key)) {
            continue;
        }
        std::string value = line.substr(key.size());
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
            value = value.substr(1, value.size() - 2);
        }
        if (value.starts_with("$HOME")) {
            return home / fs::path(value.substr(5)).relative_path();
        }
        if (fs::path(value).is_absolute()) {
            return value;
        }
    }
    return {};
}

}  // namespace

UserSetup user_setup(const std::function<std::string(const char*)>& env) {
    fs::path home = env("HOME");
    if (home.empty() || !home.is_absolute()) {
        throw ConfigError("(--user)", 0, "", "HOME is not set to an absolute path");
    }
    auto xdg = [&](const char* name, const char* fallback) {
        fs::path dir = env(name);
        return dir.is_absolute() ? dir : home / fallback;
    };
    fs::path config_home = xdg("XDG_CONFIG_HOME", ".config");
    UserSetup setup;
    setup.config_file = config_home / "freemkvd" / "freemkvd.toml";
    fs::path videos = videos_from_user_dirs(config_home / "user-dirs.dirs", home);
    setup.defaults.jobs.library = videos.empty() ? home / "Videos" : videos;
    setup.defaults.jobs.state_dir = xdg("XDG_STATE_HOME", ".local/state") / "freemkvd";
    return setup;
}

}  // namespace freemkv
