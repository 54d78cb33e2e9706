#pragma once

#include <stdexcept>

namespace freemkv {

// A title could not be remuxed. The message names the image and the title.
class RemuxError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// The remux stopped because its stop_token was requested; the output is incomplete.
class RemuxCancelled : public RemuxError {
  public:
    using RemuxError::RemuxError;
};

}  // namespace freemkv
