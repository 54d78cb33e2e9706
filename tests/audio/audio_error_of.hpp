#pragma once

// The message of the AudioError a call throws, for the audio tests' error cases.

#include <gtest/gtest.h>

#include <exception>
#include <functional>
#include <string>

#include "audio_error.hpp"

namespace freemkv::test {

// The message of the AudioError `f` throws; "" if it returns. Any other exception fails the test.
inline std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const AudioError& e) {
        return e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "not an AudioError: " << e.what();
        return e.what();
    }
    return "";
}

}  // namespace freemkv::test
