#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>

namespace freemkv {

// A failed system call on a file, with enough context for a person to act on it:
// "write /srv/lib/Disc.iso.part at offset 104857600: No space left on device".
class IoError : public std::system_error {
  public:
    IoError(std::string op, std::filesystem::path path, std::uint64_t offset, int err)
        : std::system_error(err, std::generic_category(), describe(op, path, offset)),
          op_(std::move(op)),
          path_(std::move(path)),
          offset_(offset) {}

    const std::string& op() const { return op_; }
    const std::filesystem::path& path() const { return path_; }
    std::uint64_t offset() const { return offset_; }

  private:
    static std::string describe(const std::string& op, const std::filesystem::path& path,
                                std::uint64_t offset) {
        return op + " " + path.string() + " at offset " + std::to_string(offset);
    }

    std::string op_;
    std::filesystem::path path_;
    std::uint64_t offset_;
};

}  // namespace freemkv
