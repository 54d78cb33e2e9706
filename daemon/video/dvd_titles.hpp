#pragma once

// The titles of a DVD-Video image, read from its IFO files with libdvdread. The image file is
// read directly (no mount). libdvdread's own messages (among them the banner about libdvdcss it
// otherwise prints to stdout on every open, and its errors it prints to stderr) go to spdlog at
// debug level.

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "title_info.hpp"

namespace freemkv {

// The image cannot be read as a DVD-Video: missing, unreadable, or without a usable VIDEO_TS.
// The message names the image and what failed.
class DvdError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Every title of the image's title table, in order. Throws DvdError.
std::vector<TitleInfo> list_titles(const std::filesystem::path& image);

// The same, read only through `fd` (an image handed over open, or a block device): the sectors
// the listing needs (the file system's first 4 MiB, where VIDEO_TS.IFO also starts, and the IFO
// files the title table points to) are copied with pread into a sparse memory file, which
// libdvdread then reads. The file is never opened again by path, and the descriptor's offset is
// left alone. `name` is the image in messages. Throws DvdError.
std::vector<TitleInfo> list_titles(int fd, const std::string& name);

}  // namespace freemkv
