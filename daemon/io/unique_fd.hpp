#pragma once

#include <unistd.h>

#include <utility>

namespace freemkv {

// Owns one file descriptor. Move-only, so a descriptor has exactly one owner and can never be
// used after the owner closed it (the seed's WritebackPipeline aliased a raw fd instead).
class UniqueFd {
  public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }

    // close() errors are not reported here: callers that need durability call fdatasync/fsync
    // first and check that, which is where write-back errors surface reliably.
    void reset() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = -1;
    }

  private:
    int fd_ = -1;
};

}  // namespace freemkv
