#include "config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <toml++/toml.h>

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
constexpr seconds max_repair_budget = std::chrono::hours(168);
constexpr seconds min_checkpoint{1};
constexpr seconds max_checkpoint = std::chrono::hours(1);
constexpr std::uint64_t KiB = 1024;
constexpr std::uint64_t GiB = 1024 * MiB;
constexpr std::uint64_t chunk_granule = 4 * KiB;  // keeps writeback ranges page-aligned
constexpr std::uint64_t max_chunk = 4 * GiB;
constexpr std::uint64_t max_buffer = 4 * GiB;
constexpr std::size_t max_file_bytes = 1024 * 1024;

struct TableSchema {
    std::string_view name;
    std::vector<std::string_view> keys;
};

const std::vector<TableSchema>& schema() {
    static const std::vector<TableSchema> tables = {
        {"library", {"path", "naming", "on_exists"}},
        {"state", {"dir"}},
        {"rip", {"ecc_sectors", "retries", "repair_budget", "checkpoint_interval"}},
        {"writeback", {"policy", "start_chunk", "min_chunk", "max_chunk", "buffer"}},
        {"queue", {"max_parallel", "history"}},
        {"drives", {"auto_rip", "eject_when_done", "watch", "ignore"}},
    };
    return tables;
}

std::string join(const std::vector<std::string_view>& words) {
    std::string out;
    for (std::string_view w : words) {
        out += out.empty() ? "" : ", ";
        out += w;
    }
    return out;
}

std::string_view type_name(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::table:
            return "table";
        case toml::node_type::array:
            return "array";
        case toml::node_type::string:
            return "string";
        case toml::node_type::integer:
            return "integer";
        case toml::node_type::floating_point:
            return "float";
        case toml::node_type::boolean:
            return "boolean";
        case toml::node_type::date:
            return "date";
        case toml::node_type::time:
            return "time";
        case toml::node_type::date_time:
            return "date-time";
        case toml::node_type::none:
            break;
    }
    return "nothing";
}

constexpr std::array<std::pair<std::uint64_t, std::string_view>, 3> size_units = {
    {{GiB, "GiB"}, {MiB, "MiB"}, {KiB, "KiB"}}};

std::string format_size(std::uint64_t bytes) {
    for (auto [unit, name] : size_units) {
        if (bytes != 0 && bytes % unit == 0) {
            return fmt::format("{} {}", bytes / unit, name);
        }
    }
    return fmt::format("{} bytes", bytes);
}

std::string format_duration(seconds d) {
    auto s = d.count();
    if (s != 0 && s % 3600 == 0) {
        return fmt::format("{}h", s / 3600);
    }
    if (s != 0 && s % 60 == 0) {
        return fmt::format("{}m", s / 60);
    }
    return fmt::format("{}s", s);
}

// "<digits>[ ]<unit>" with a unit from `units`; nullopt if malformed or too large.
std::optional<std::uint64_t> parse_quantity(
    std::string_view text,
    std::initializer_list<std::pair<std::string_view, std::uint64_t>> units) {
    std::uint64_t number = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc() || end == text.data()) {
        return std::nullopt;
    }
    std::string_view unit = text.substr(static_cast<std::size_t>(end - text.data()));
    if (unit.starts_with(' ')) {
        unit.remove_prefix(1);
    }
    for (auto [name, factor] : units) {
        if (unit == name) {
            if (number > std::numeric_limits<std::uint64_t>::max() / factor) {
                return std::nullopt;
            }
            return number * factor;
        }
    }
    return std::nullopt;
}

// One `key = value` of the file.
struct Item {
    std::string key;  // dotted, e.g. "library.path"
    const toml::node& value;
    unsigned line;
};

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

class Parser {
  public:
    Parser(const fs::path& file, const Config& defaults) : file_(file), defaults_(defaults) {}

    Config parse(const toml::table& root) {
        Config config = defaults_;
        for (auto [key, node] : in_file_order(root)) {
            Item table_item{std::string(key->str()), *node, key->source().begin.line};
            const TableSchema* table = find_table(table_item);
            const toml::table* entries = node->as_table();
            if (entries == nullptr) {
                fail(table_item, fmt::format("expected a table, got {}", type_name(*node)));
            }
            for (auto [k, v] : in_file_order(*entries)) {
                Item item{table_item.key + "." + std::string(k->str()), *v, k->source().begin.line};
                check_known(*table, item, k->str());
                seen_[item.key] = item.line;
                set(item, config);
            }
        }
        check_writeback(config);
        config.lines = seen_;
        return config;
    }

  private:
    [[noreturn]] void fail(const Item& item, const std::string& message) const {
        throw ConfigError(file_, item.line, item.key, message);
    }

    const TableSchema* find_table(const Item& item) const {
        for (const TableSchema& table : schema()) {
            if (table.name == item.key) {
                return &table;
            }
        }
        std::vector<std::string_view> names;
        for (const TableSchema& table : schema()) {
            names.push_back(table.name);
        }
        std::string what = item.value.is_table() ? "unknown table" : "unknown key";
        if (auto guess = closest_match(item.key, names)) {
            fail(item, fmt::format("{} (did you mean '{}'?)", what, *guess));
        }
        for (const TableSchema& table : schema()) {
            if (std::find(table.keys.begin(), table.keys.end(), item.key) != table.keys.end()) {
                fail(item, fmt::format("{} (did you mean '{}.{}'?)", what, table.name, item.key));
            }
        }
        fail(item, fmt::format("{} (tables are {})", what, join(names)));
    }

    void check_known(const TableSchema& table, const Item& item, std::string_view name) const {
        if (std::find(table.keys.begin(), table.keys.end(), name) != table.keys.end()) {
            return;
        }
        if (auto guess = closest_match(name, table.keys)) {
            fail(item, fmt::format("unknown key (did you mean '{}'?)", *guess));
        }
        for (const TableSchema& other : schema()) {
            if (std::find(other.keys.begin(), other.keys.end(), name) != other.keys.end()) {
                fail(item, fmt::format("unknown key (did you mean '{}.{}'?)", other.name, name));
            }
        }
        fail(item, fmt::format("unknown key (keys in [{}] are {})", table.name, join(table.keys)));
    }

    void set(const Item& item, Config& c) const {
        const std::string& k = item.key;
        if (k == "library.path") {
            c.jobs.library = directory(item);
        } else if (k == "library.naming") {
            c.jobs.naming.pattern = string(item);
            try {
                validate_template(c.jobs.naming.pattern);
            } catch (const std::invalid_argument& e) {
                fail(item, e.what());
            }
        } else if (k == "library.on_exists") {
            c.jobs.naming.on_exists = choice(item, parse_on_exists, {"number", "fail"});
        } else if (k == "state.dir") {
            c.jobs.state_dir = directory(item);
        } else if (k == "rip.ecc_sectors") {
            std::int64_t v = integer(item);
            if (v < 0 || v > max_ecc_sectors || v % ecc_granule != 0) {
                fail(item,
                     fmt::format("must be 0 (by disc type) or a multiple of {} up to {}, got {}",
                                 ecc_granule, max_ecc_sectors, v));
            }
            c.jobs.ecc_sectors = static_cast<unsigned>(v);
        } else if (k == "rip.retries") {
            c.jobs.rip.retries = bounded(item, 0, max_retries);
        } else if (k == "rip.repair_budget") {
            c.jobs.rip.repair_budget = duration(item, seconds(0), max_repair_budget);
        } else if (k == "rip.checkpoint_interval") {
            c.jobs.rip.checkpoint_interval = duration(item, min_checkpoint, max_checkpoint);
        } else if (k == "writeback.policy") {
            c.jobs.rip.writeback.kind =
                choice(item, parse_policy_kind, {"balanced", "seed", "fixed"});
        } else if (k == "writeback.start_chunk") {
            c.jobs.rip.writeback.start_bytes = size(item, chunk_granule, max_chunk, chunk_granule);
        } else if (k == "writeback.min_chunk") {
            c.jobs.rip.writeback.min_bytes = size(item, chunk_granule, max_chunk, chunk_granule);
        } else if (k == "writeback.max_chunk") {
            c.jobs.rip.writeback.max_bytes = size(item, chunk_granule, max_chunk, chunk_granule);
        } else if (k == "writeback.buffer") {
            c.jobs.rip.buffer.buffer_bytes = size(item, 0, max_buffer, 1);
        } else if (k == "queue.max_parallel") {
            c.jobs.max_parallel = bounded(item, 1, max_parallel);
        } else if (k == "queue.history") {
            c.history = bounded(item, 0, max_history);
        } else if (k == "drives.auto_rip") {
            c.drives.auto_rip = boolean(item);
        } else if (k == "drives.eject_when_done") {
            c.drives.eject_when_done = boolean(item);
        } else if (k == "drives.watch") {
            c.drives.watch = device_globs(item);
        } else if (k == "drives.ignore") {
            c.drives.ignore = device_globs(item);
        }
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

    unsigned line_of(const std::string& key) const {
        auto it = seen_.find(key);
        return it == seen_.end() ? 0 : it->second;
    }

    [[noreturn]] void wrong_type(const Item& item, std::string_view expected) const {
        fail(item, fmt::format("expected {}, got {}", expected, type_name(item.value)));
    }

    const std::string& string(const Item& item) const {
        if (const auto* s = item.value.as_string()) {
            return s->get();
        }
        wrong_type(item, "a string");
    }

    std::int64_t integer(const Item& item) const {
        if (const auto* i = item.value.as_integer()) {
            return i->get();
        }
        wrong_type(item, "an integer");
    }

    bool boolean(const Item& item) const {
        if (const auto* b = item.value.as_boolean()) {
            return b->get();
        }
        wrong_type(item, "a boolean");
    }

    unsigned bounded(const Item& item, std::int64_t lo, std::int64_t hi) const {
        std::int64_t v = integer(item);
        if (v < lo || v > hi) {
            fail(item, fmt::format("must be between {} and {}, got {}", lo, hi, v));
        }
        return static_cast<unsigned>(v);
    }

    template <typename T>
    T choice(const Item& item, std::optional<T> (*parse)(std::string_view),
             std::vector<std::string_view> allowed) const {
        const std::string& s = string(item);
        if (auto v = parse(s)) {
            return *v;
        }
        if (auto guess = closest_match(s, allowed)) {
            fail(item, fmt::format("invalid value '{}' (did you mean '{}'? allowed: {})", s, *guess,
                                   join(allowed)));
        }
        fail(item, fmt::format("invalid value '{}' (allowed: {})", s, join(allowed)));
    }

    seconds duration(const Item& item, seconds lo, seconds hi) const {
        std::uint64_t value = 0;
        if (const auto* i = item.value.as_integer()) {
            if (i->get() < 0) {
                fail(item, fmt::format("must not be negative, got {}", i->get()));
            }
            value = static_cast<std::uint64_t>(i->get());
        } else if (const auto* s = item.value.as_string()) {
            auto parsed = parse_quantity(s->get(), {{"s", 1}, {"m", 60}, {"h", 3600}});
            if (!parsed) {
                fail(item, fmt::format("invalid duration '{}' (use a number with s, m or h, e.g. "
                                       "\"90s\", \"10m\", \"1h\", or integer seconds)",
                                       s->get()));
            }
            value = *parsed;
        } else {
            wrong_type(item, "a duration (\"90s\", \"10m\", \"1h\" or integer seconds)");
        }
        if (value < static_cast<std::uint64_t>(lo.count()) ||
            value > static_cast<std::uint64_t>(hi.count())) {
            fail(item, fmt::format("must be between {} and {}, got {}", format_duration(lo),
                                   format_duration(hi), format_duration(seconds(value))));
        }
        return seconds(value);
    }

    std::uint64_t size(const Item& item, std::uint64_t lo, std::uint64_t hi,
                       std::uint64_t granule) const {
        std::uint64_t value = 0;
        if (const auto* i = item.value.as_integer()) {
            if (i->get() < 0) {
                fail(item, fmt::format("must not be negative, got {}", i->get()));
            }
            value = static_cast<std::uint64_t>(i->get());
        } else if (const auto* s = item.value.as_string()) {
            auto parsed =
                parse_quantity(s->get(), {{"B", 1}, {"KiB", KiB}, {"MiB", MiB}, {"GiB", GiB}});
            if (!parsed) {
                fail(item, fmt::format("invalid size '{}' (use a number with B, KiB, MiB or GiB, "
                                       "e.g. \"32 MiB\", or integer bytes)",
                                       s->get()));
            }
            value = *parsed;
        } else {
            wrong_type(item, "a size (\"32 MiB\", \"1 GiB\" or integer bytes)");
        }
        if (value < lo) {
            fail(item,
                 fmt::format("must be at least {}, got {}", format_size(lo), format_size(value)));
        }
        if (value > hi) {
            fail(item,
                 fmt::format("must be at most {}, got {}", format_size(hi), format_size(value)));
        }
        if (value % granule != 0) {
            fail(item, fmt::format("must be a multiple of {}, got {}", format_size(granule),
                                   format_size(value)));
        }
        return value;
    }

    fs::path directory(const Item& item) const {
        const std::string& s = string(item);
        if (s.empty()) {
            fail(item, "must not be empty");
        }
        if (s.find('\0') != std::string::npos) {
            fail(item, "must not contain a NUL character");
        }
        if (s.front() != '/') {
            fail(item, fmt::format("must be an absolute path, got '{}'", s));
        }
        return s;
    }

    std::vector<std::string> device_globs(const Item& item) const {
        const toml::array* array = item.value.as_array();
        if (array == nullptr) {
            wrong_type(item, "an array of strings");
        }
        std::vector<std::string> globs;
        for (std::size_t i = 0; i < array->size(); ++i) {
            const toml::node& node = *array->get(i);
            Item element{fmt::format("{}[{}]", item.key, i), node, node.source().begin.line};
            const std::string& glob = string(element);
            if (!glob.starts_with("/dev/") || glob.size() == 5 ||
                glob.find('\0') != std::string::npos) {
                fail(element, fmt::format("must be a device path or glob under /dev/, e.g. "
                                          "\"/dev/sr*\", got '{}'",
                                          glob));
            }
            globs.push_back(glob);
        }
        return globs;
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
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
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
    std::string text;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            fail(std::strerror(errno));
        }
        if (n == 0) {
            break;
        }
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > max_file_bytes) {
            fail(fmt::format("larger than {}", format_size(max_file_bytes)));
        }
    }
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
