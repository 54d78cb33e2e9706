#pragma once

#include <stdexcept>

namespace freemkv {

// What the audio component throws: its message names the file, track or URL that is wrong.
class AudioError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// The disc left the drive (or the image its file system) while it was read: what was finished
// stays, and ripping it again goes on from there.
class MediumRemoved : public AudioError {
  public:
    using AudioError::AudioError;
};

}  // namespace freemkv
