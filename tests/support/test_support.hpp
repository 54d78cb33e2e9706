#pragma once

// Shared helpers for tests that work on real files, loop devices and mounts.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace freemkv::test {

// True when running under CI (CI=true), where a skipped privileged test is a failure.
bool in_ci();

// Skips the test (loudly, with the reason) when not root; under CI a missing root is a failure.
#define FREEMKV_REQUIRE_ROOT()                                                               \
    do {                                                                                     \
        if (::geteuid() != 0) {                                                              \
            if (::freemkv::test::in_ci()) {                                                  \
                FAIL() << "this test needs root (loop devices, mounts) and CI runs as root"; \
            }                                                                                \
            GTEST_SKIP() << "SKIPPED LOUDLY: needs root for loop devices and mounts";        \
        }                                                                                    \
    } while (0)

// A fresh directory on a real disk filesystem (not tmpfs: the page cache tests need one),
// removed with everything in it at destruction.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  private:
    std::filesystem::path path_;
};

// Runs a shell command; throws std::runtime_error with its output if it fails. Returns stdout.
std::string run(const std::string& command);

// Deterministic pseudo-random bytes.
std::vector<std::byte> random_bytes(std::size_t size, std::uint64_t seed);

std::vector<std::byte> read_file(const std::filesystem::path& path);

// A loop device over `file`, detached at destruction. Needs root.
class LoopDevice {
  public:
    explicit LoopDevice(const std::filesystem::path& file, bool read_only = true);
    ~LoopDevice();
    LoopDevice(const LoopDevice&) = delete;
    LoopDevice& operator=(const LoopDevice&) = delete;
    const std::string& device() const { return device_; }
    // Detaches now (idempotent).
    void detach();

  private:
    std::string device_;
};

// A small ext4 filesystem on a loop device, mounted at a private directory; everything is undone
// at destruction, also when the test fails. Needs root.
class LoopExt4 {
  public:
    explicit LoopExt4(std::uint64_t size_bytes);
    ~LoopExt4();
    LoopExt4(const LoopExt4&) = delete;
    LoopExt4& operator=(const LoopExt4&) = delete;
    const std::filesystem::path& mount_point() const { return mount_; }
    const std::string& device() const { return loop_->device(); }

  private:
    TempDir dir_;
    std::filesystem::path image_;
    std::filesystem::path mount_;
    std::unique_ptr<LoopDevice> loop_;
    bool mounted_ = false;
};

// The faultfs fixture (tests/fixtures/faultfs) serving `backing` as "<mountpoint>/disk", with
// extra `options` such as "--eio 1048576:65536". Unmounted at destruction. Needs root.
class FaultFs {
  public:
    // `mount_name` names the mount point's directory (udev rules can match the loop device's
    // backing path by it).
    FaultFs(const std::filesystem::path& backing, const std::string& options,
            const std::string& mount_name = "mnt");
    ~FaultFs();
    FaultFs(const FaultFs&) = delete;
    FaultFs& operator=(const FaultFs&) = delete;
    std::filesystem::path disk() const { return mount_ / "disk"; }

  private:
    TempDir dir_;
    std::filesystem::path mount_;
    bool mounted_ = false;
};

// The bytes faultfs served, from its --log file ("read OFFSET LENGTH RESULT" lines).
std::uint64_t faultfs_bytes_read(const std::filesystem::path& log);

// Writes `data` to `path`.
void write_file(const std::filesystem::path& path, const std::vector<std::byte>& data);

}  // namespace freemkv::test
