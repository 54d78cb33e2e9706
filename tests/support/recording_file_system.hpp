#pragma once

// A FileSystem that logs every call, in order, then forwards it to the real one. Durability
// tests assert on the log: reading files back cannot tell a synced file from one only in the page
// cache, but the log shows whether the sync happened, and before which rename.
//
// Entries read "sync_data lib/Disc.iso.part", "sync_file lib/Disc.map.tmp",
// "rename lib/Disc.map.tmp -> lib/Disc.map", "rename_noreplace a.iso.part -> a.iso",
// "sync_directory lib", with paths relative to a base directory ("." for the base itself).
// A call is logged before it is forwarded, so a call that fails is logged too.

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "file_system.hpp"

namespace freemkv::test {

class RecordingFileSystem : public FileSystem {
  public:
    explicit RecordingFileSystem(std::filesystem::path base) : base_(std::move(base)) {}

    void sync_data(int fd, const std::filesystem::path& path, std::uint64_t written) override {
        log("sync_data " + name(path));
        real_file_system().sync_data(fd, path, written);
    }
    void sync_file(int fd, const std::filesystem::path& path, std::uint64_t written) override {
        log("sync_file " + name(path));
        real_file_system().sync_file(fd, path, written);
    }
    void rename(const std::filesystem::path& from, const std::filesystem::path& to) override {
        log("rename " + name(from) + " -> " + name(to));
        real_file_system().rename(from, to);
    }
    void rename_noreplace(const std::filesystem::path& from, const std::filesystem::path& to,
                          std::uint64_t written) override {
        log("rename_noreplace " + name(from) + " -> " + name(to));
        real_file_system().rename_noreplace(from, to, written);
    }
    void sync_directory(const std::filesystem::path& dir) override {
        log("sync_directory " + name(dir));
        real_file_system().sync_directory(dir);
    }

    // The calls so far, oldest first.
    std::vector<std::string> calls() const {
        std::lock_guard lock(mutex_);
        return calls_;
    }
    void clear() {
        std::lock_guard lock(mutex_);
        calls_.clear();
    }

  private:
    std::string name(const std::filesystem::path& path) const {
        return path.lexically_relative(base_).lexically_normal().string();
    }
    void log(std::string call) {
        std::lock_guard lock(mutex_);
        calls_.push_back(std::move(call));
    }

    std::filesystem::path base_;
    mutable std::mutex mutex_;
    std::vector<std::string> calls_;
};

}  // namespace freemkv::test
