#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace freemkv {

// Replaces `path` with `content` so that a crash leaves either the old or the new file, never a
// mix: writes "<path>.tmp", fsyncs it, renames it over `path`, fsyncs the directory.
// Throws IoError.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

// The whole file as a string. Throws IoError.
std::string read_whole_file(const std::filesystem::path& path);

}  // namespace freemkv
