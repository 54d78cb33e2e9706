#pragma once

#include <stdexcept>
#include <string>

namespace freemkv {

// A failure of the audio component. The message names the file, track or URL that is wrong.
class AudioError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace freemkv
