#pragma once

#include <stdexcept>

namespace freemkv {

// What the audio component throws: the message names the file, track or URL that is wrong.
class AudioError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace freemkv
