#pragma once

// Bytes per second of a stage's progress, smoothed as the rip smooths its read rate (ripper.cpp):
// each update weighs the rate since the last one 30 %.

#include <chrono>
#include <cstdint>

namespace freemkv {

class RateMeter {
  public:
    void start(std::uint64_t bytes) {
        last_ = std::chrono::steady_clock::now();
        last_bytes_ = bytes;
    }
    void update(std::uint64_t bytes) {
        auto now = std::chrono::steady_clock::now();
        double dt = std::chrono::duration<double>(now - last_).count();
        if (dt <= 0 || bytes < last_bytes_) {
            return;
        }
        double instant = static_cast<double>(bytes - last_bytes_) / dt;
        rate_ = rate_ == 0 ? instant : 0.7 * rate_ + 0.3 * instant;
        last_ = now;
        last_bytes_ = bytes;
    }
    double rate() const { return rate_; }

  private:
    std::chrono::steady_clock::time_point last_;
    std::uint64_t last_bytes_ = 0;
    double rate_ = 0;
};

}  // namespace freemkv
