// What may be ripped as an image: a descriptor a caller hands over, and a path on the system bus.

#include "access.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/test_support.hpp"
#include "unique_fd.hpp"

namespace freemkv {
namespace {

namespace fs = std::filesystem;
using test::TempDir;
using Verdict = ImageFd::Verdict;

fs::path write(const fs::path& path, std::size_t bytes) {
    std::ofstream(path) << std::string(bytes, 'x');
    return path;
}

UniqueFd open_fd(const fs::path& path, int flags) {
    UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC));
    EXPECT_TRUE(fd) << path;
    return fd;
}

TEST(CheckImageFd, AReadableFileWithDataIsAnImage) {
    TempDir dir;
    fs::path img = write(dir / "disc.iso", 4096);
    for (int mode : {O_RDONLY, O_RDWR}) {
        UniqueFd fd = open_fd(img, mode);
        ImageFd got = check_image_fd(fd.get());
        EXPECT_EQ(got.verdict, Verdict::image) << got.why;
        struct stat st {};
        ASSERT_EQ(::stat(img.c_str(), &st), 0);
        EXPECT_EQ(got.file, (FileId{st.st_dev, st.st_ino}));
    }
}

TEST(CheckImageFd, ADescriptorNotOpenForReadingIsUnreadable) {
    TempDir dir;
    fs::path img = write(dir / "disc.iso", 4096);
    for (int mode : {O_WRONLY, O_PATH}) {
        UniqueFd fd = open_fd(img, mode);
        EXPECT_EQ(check_image_fd(fd.get()).verdict, Verdict::unreadable) << mode;
    }
}

TEST(CheckImageFd, RefusesWhatIsNoImageWithoutBlocking) {
    TempDir dir;
    ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
    // Nobody writes to it: a read would block forever.
    UniqueFd fifo = open_fd(dir / "fifo", O_RDONLY | O_NONBLOCK);
    ImageFd got = check_image_fd(fifo.get());
    EXPECT_EQ(got.verdict, Verdict::refused);
    EXPECT_NE(got.why.find("pipe"), std::string::npos) << got.why;

    int pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
    UniqueFd a(pair[0]), b(pair[1]);
    EXPECT_EQ(check_image_fd(a.get()).verdict, Verdict::refused);

    UniqueFd null = open_fd("/dev/null", O_RDONLY);
    got = check_image_fd(null.get());
    EXPECT_EQ(got.verdict, Verdict::refused);
    EXPECT_NE(got.why.find("character device"), std::string::npos) << got.why;

    UniqueFd directory = open_fd(dir.path(), O_RDONLY | O_DIRECTORY);
    EXPECT_EQ(check_image_fd(directory.get()).verdict, Verdict::refused);

    UniqueFd empty = open_fd(write(dir / "empty.iso", 0), O_RDONLY);
    got = check_image_fd(empty.get());
    EXPECT_EQ(got.verdict, Verdict::refused);
    EXPECT_NE(got.why.find("empty"), std::string::npos) << got.why;

    EXPECT_EQ(check_image_fd(-1).verdict, Verdict::refused);
}

TEST(CheckImageFd, RefusesKernelInterfaces) {
    for (const char* path : {"/proc/self/status", "/proc/self/mem", "/sys/kernel/uevent_seqnum"}) {
        UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
        if (!fd) {
            continue;  // not in every sandbox
        }
        ImageFd got = check_image_fd(fd.get());
        EXPECT_EQ(got.verdict, Verdict::refused) << path;
        EXPECT_NE(got.why.find("kernel interface"), std::string::npos) << path << ": " << got.why;
    }
}

TEST(CheckImageFd, ABlockDeviceIsLeftToTheCaller) {
    struct stat st {};
    UniqueFd fd(::open("/dev/loop0", O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (!fd || ::fstat(fd.get(), &st) != 0) {
        GTEST_SKIP() << "no /dev/loop0 to open here";
    }
    ImageFd got = check_image_fd(fd.get());
    EXPECT_EQ(got.verdict, Verdict::block_device);
    EXPECT_EQ(got.device, st.st_rdev);
}

TEST(IsKernelInterface, ProcAndSysPaths) {
    EXPECT_TRUE(is_kernel_interface("/proc/self/mem"));
    EXPECT_TRUE(is_kernel_interface("/proc/1/environ"));
    EXPECT_TRUE(is_kernel_interface("/sys/block"));
    EXPECT_FALSE(is_kernel_interface("/srv/images/disc.iso"));
    EXPECT_FALSE(is_kernel_interface("/processed/disc.iso"));
    EXPECT_FALSE(is_kernel_interface("/"));
}

TEST(InImportFolder, InsideOnlyOnceLinksAndDotDotAreResolved) {
    TempDir dir;
    fs::create_directories(dir / "import" / "sub");
    fs::create_directories(dir / "private");
    write(dir / "import" / "a.iso", 2048);
    write(dir / "import" / "sub" / "b.iso", 2048);
    write(dir / "private" / "c.iso", 2048);
    fs::create_directory_symlink(dir / "import", dir / "via-link");
    fs::create_symlink(dir / "private" / "c.iso", dir / "import" / "escape.iso");
    std::vector<fs::path> folders = {dir / "via-link", dir / "elsewhere-missing"};

    EXPECT_TRUE(in_import_folder(dir / "import" / "a.iso", folders));
    EXPECT_TRUE(in_import_folder(dir / "import" / "sub" / "b.iso", folders));
    EXPECT_TRUE(in_import_folder(dir / "via-link" / "a.iso", folders));
    EXPECT_FALSE(in_import_folder(dir / "private" / "c.iso", folders));
    EXPECT_FALSE(in_import_folder(dir / "import" / ".." / "private" / "c.iso", folders));
    EXPECT_FALSE(in_import_folder(dir / "import" / "escape.iso", folders));
    EXPECT_FALSE(in_import_folder(dir / "import" / "missing.iso", folders));
    EXPECT_FALSE(in_import_folder(dir / "import", folders));
    EXPECT_FALSE(in_import_folder(dir / "import" / "a.iso", {}));
}

}  // namespace
}  // namespace freemkv
