// The kernel's FileSystem on filesystems without renameat2(RENAME_NOREPLACE).

#include "file_system.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include "io_error.hpp"
#include "output_file.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using test::random_bytes;
using test::read_file;
using test::TempDir;
using test::write_file;

// Refuses RENAME_NOREPLACE with `err`, as FUSE (ENOSYS), SMB (EOPNOTSUPP, EPERM) and NFS (EINVAL)
// do; everything else is the kernel's.
class WithoutNoreplace : public KernelFileSystem {
  public:
    explicit WithoutNoreplace(int err) : err_(err) {}

  protected:
    int rename_exclusive(const std::filesystem::path&, const std::filesystem::path&) override {
        errno = err_;
        return -1;
    }

  private:
    int err_;
};

class NoRenameNoreplace : public testing::TestWithParam<int> {};

INSTANTIATE_TEST_SUITE_P(FileSystem, NoRenameNoreplace,
                         testing::Values(EINVAL, ENOSYS, EOPNOTSUPP, EPERM),
                         [](const testing::TestParamInfo<int>& info) {
                             return std::string(strerrorname_np(info.param));
                         });

TEST_P(NoRenameNoreplace, PublishLinksInsteadAndStillNeverReplaces) {
    TempDir dir;
    WithoutNoreplace fs(GetParam());
    auto data = random_bytes(1 * MiB, 51);
    {
        OutputFile out(dir / "a.iso", PolicyConfig{}, OutputFile::Mode::truncate, nullptr, fs);
        out.write(data);
        ASSERT_NO_THROW(out.publish());
    }
    EXPECT_EQ(read_file(dir / "a.iso"), data);
    EXPECT_FALSE(std::filesystem::exists(dir / "a.iso.part"));

    OutputFile again(dir / "a.iso", PolicyConfig{}, OutputFile::Mode::truncate, nullptr, fs);
    again.write(random_bytes(4096, 52));
    try {
        again.publish();
        ADD_FAILURE() << "a published file was replaced";
    } catch (const IoError& e) {
        EXPECT_EQ(e.code(), std::errc::file_exists) << e.what();
    }
    EXPECT_EQ(read_file(dir / "a.iso"), data);
}

TEST(FileSystem, OtherRenameErrorsAreReportedNotWorkedAround) {
    TempDir dir;
    WithoutNoreplace fs(EACCES);
    write_file(dir / "b.part", random_bytes(4096, 53));
    try {
        fs.rename_noreplace(dir / "b.part", dir / "b.iso", 4096);
        ADD_FAILURE() << "no error";
    } catch (const IoError& e) {
        EXPECT_EQ(e.code(), std::errc::permission_denied) << e.what();
    }
    EXPECT_FALSE(std::filesystem::exists(dir / "b.iso"));
    EXPECT_TRUE(std::filesystem::exists(dir / "b.part"));
}

}  // namespace
}  // namespace freemkv
