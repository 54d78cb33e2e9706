#pragma once

// Publishing a directory the way OutputFile::publish publishes a file: it appears under its final
// name whole, or not at all, and never replaces anything.

#include <filesystem>

#include "file_system.hpp"

namespace freemkv {

// Renames the directory `from` to `to` unless something has that name (then IoError with
// EEXIST, and `from` is left as it was), then fsyncs the parent of `to` through `fs`.
// renameat2(RENAME_NOREPLACE); where the filesystem lacks it (NFS, FUSE, SMB), `to` is claimed
// with mkdir (which never replaces) and `from` renamed over that empty directory. Its contents
// must already be durable. Throws IoError.
void publish_directory(const std::filesystem::path& from, const std::filesystem::path& to,
                       FileSystem& fs = real_file_system());

}  // namespace freemkv
