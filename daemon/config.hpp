#pragma once

// The daemon's configuration, a TOML file. config/freemkvd.toml documents every key with its
// default and bounds; it parses to exactly a default-constructed Config. Parsing never touches
// the disk beyond reading the file, so check_environment() is a separate step.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "drives.hpp"
#include "job_queue.hpp"

namespace freemkv {

// Each component owns its options; the configuration file only fills them in.
struct Config {
    QueueOptions jobs;      // [library], [state], [rip], [writeback], queue.max_parallel
    DriveOptions drives;    // [drives]
    unsigned history = 50;  // queue.history: ended jobs kept as D-Bus objects
    // images.import_folders: where a path (not an open file) may name an image on the system bus
    std::vector<std::filesystem::path> import_folders;

    // Where each key was set in the file ("library.path" -> line), for error messages.
    std::map<std::string, unsigned> lines;
};

// what() is "FILE:LINE:COLUMN: KEY: message"; the line and column are left out when unknown (0),
// and the key (dotted, e.g. "library.path") when the error is not about one key.
class ConfigError : public std::runtime_error {
  public:
    ConfigError(std::filesystem::path file, unsigned line, std::string key, std::string message,
                unsigned column = 0);

    const std::filesystem::path& file() const { return file_; }
    unsigned line() const { return line_; }
    unsigned column() const { return column_; }
    const std::string& key() const { return key_; }
    const std::string& message() const { return message_; }

  private:
    std::filesystem::path file_;
    unsigned line_;
    unsigned column_;
    std::string key_;
    std::string message_;
};

// Parses and validates every key; throws ConfigError for the first problem in the file.
// Keys the file leaves out keep their value from `defaults`.
Config parse_config(std::string_view toml_text, const std::filesystem::path& file_for_errors,
                    const Config& defaults = Config{});

// Every key a file may set ("library.path"), with what it means and its bounds, in the order
// config/freemkvd.toml documents them (freemkvd --help-config prints this).
struct ConfigKey {
    std::string_view name;
    std::string_view doc;
};
std::vector<ConfigKey> config_keys();

// Reads and parses `file`; a missing or unreadable file is a ConfigError naming it.
Config load_config(const std::filesystem::path& file, const Config& defaults = Config{});

// A desktop user's freemkvd (--user): the configuration file and the defaults it starts from.
// The library is the user's videos folder (XDG_VIDEOS_DIR in user-dirs.dirs, else ~/Videos), the
// state is in $XDG_STATE_HOME/freemkvd, the file is $XDG_CONFIG_HOME/freemkvd/freemkvd.toml.
// `env` looks up an environment variable ("" when unset). Throws ConfigError without a home.
struct UserSetup {
    std::filesystem::path config_file;
    Config defaults;
};
UserSetup user_setup(const std::function<std::string(const char*)>& env);

// Checks that the library and the state directory are writable directories, or can be created
// (the nearest existing parent is a writable directory). Throws ConfigError with key
// "library.path" or "state.dir"; `file` is only for the message.
void check_environment(const Config& config, const std::filesystem::path& file);

}  // namespace freemkv
