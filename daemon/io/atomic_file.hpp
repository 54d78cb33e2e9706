#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "file_system.hpp"

namespace freemkv {

// Replaces `path` with `content` so that a crash leaves either the old or the new file, never a
// mix: writes "<path>.tmp", fsyncs it, renames it over `path`, fsyncs the directory (the fsyncs
// and the rename through `fs`). Throws IoError.
void write_file_atomically(const std::filesystem::path& path, std::string_view content,
                           FileSystem& fs = real_file_system());

// The whole file as a string. Throws IoError.
std::string read_whole_file(const std::filesystem::path& path);

}  // namespace freemkv
