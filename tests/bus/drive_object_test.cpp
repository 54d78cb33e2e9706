#include "drive_object.hpp"

#include <gtest/gtest.h>
#include <systemd/sd-bus.h>

#include <cstdlib>
#include <memory>

namespace freemkv::bus {
namespace {

// The kernel name back out of a drive's path, as a client would get it.
std::string decoded(const std::string& path) {
    char* name = nullptr;
    int r = sd_bus_path_decode(path.c_str(), "/org/freemkv/Rip1/drive", &name);
    std::unique_ptr<char, decltype(&std::free)> owned(name, &std::free);
    return r > 0 ? name : "(not below /org/freemkv/Rip1/drive: " + std::to_string(r) + ")";
}

class DrivePath : public testing::TestWithParam<const char*> {};

TEST_P(DrivePath, IsAValidObjectPathThatGivesTheNameBack) {
    std::string name = GetParam();
    std::string path = DriveObject::path_for(name);
    EXPECT_TRUE(sd_bus_object_path_is_valid(path.c_str())) << path;
    EXPECT_EQ(decoded(path), name) << path;
}

INSTANTIATE_TEST_SUITE_P(KernelNames, DrivePath,
                         testing::Values("sr0", "sr10", "loop7", "nvme0n1p1", "dm-0", "a.b", "md_1",
                                         "sr 0", "é"));

// Letters and digits stay as they are, so the paths of ordinary drives read as their names (the
// udev tests and clients look for /org/freemkv/Rip1/drive/loopN).
TEST(DrivePath, PlainNamesAreUnchanged) {
    EXPECT_EQ(DriveObject::path_for("sr0"), "/org/freemkv/Rip1/drive/sr0");
    EXPECT_EQ(DriveObject::path_for("loop7"), "/org/freemkv/Rip1/drive/loop7");
    EXPECT_EQ(DriveObject::path_for("nvme0n1p1"), "/org/freemkv/Rip1/drive/nvme0n1p1");
}

TEST(DrivePath, OtherBytesAreEscaped) {
    EXPECT_EQ(DriveObject::path_for("dm-0"), "/org/freemkv/Rip1/drive/dm_2d0");
    EXPECT_EQ(DriveObject::path_for("a.b"), "/org/freemkv/Rip1/drive/a_2eb");
    EXPECT_EQ(DriveObject::path_for("md_1"), "/org/freemkv/Rip1/drive/md_5f1");
}

}  // namespace
}  // namespace freemkv::bus
