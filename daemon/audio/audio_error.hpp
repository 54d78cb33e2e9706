#pragma once

#include <stdexcept>

namespace freemkv {

// What the audio component throws: its message names the file, track, drive or URL at fault.
class AudioError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace freemkv
