// read_full, pread_full and pwrite_full: short transfers and EINTR are continued, errors name the
// path and the offset where the failing call started.

#include "full_io.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "io_error.hpp"
#include "support/test_support.hpp"
#include "unique_fd.hpp"

namespace freemkv {
namespace {

std::string read_file_text(const std::string& path) {
    std::ostringstream text;
    text << std::ifstream(path).rdbuf();
    return text.str();
}

using test::random_bytes;
using test::read_file;
using test::TempDir;
using test::write_file;

using namespace std::chrono_literals;

// Waits until thread `tid` of this process is blocked in read(2) (its /proc syscall file starts
// with the syscall's number), so a test can act on a reader that is certainly waiting.
void wait_until_in_read(pid_t tid) {
    const std::string path = "/proc/self/task/" + std::to_string(tid) + "/syscall";
    const std::string in_read = std::to_string(SYS_read) + " ";
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!read_file_text(path).starts_with(in_read)) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "thread " << tid << " never read";
        std::this_thread::yield();
    }
}

std::string text_of(std::span<const std::byte> b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

UniqueFd open_or_fail(const std::filesystem::path& path, int flags) {
    UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC, 0644));
    EXPECT_TRUE(fd) << path << ": " << std::strerror(errno);
    return fd;
}

struct Pipe {
    UniqueFd read_end, write_end;
    Pipe() {
        int fds[2];
        EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
        read_end = UniqueFd(fds[0]);
        write_end = UniqueFd(fds[1]);
    }
    void write(const std::string& s) const {
        ASSERT_EQ(::write(write_end.get(), s.data(), s.size()), static_cast<ssize_t>(s.size()));
    }
};

TEST(FullIo, ReadFullGoesOnAfterShortReadsUntilFullOrTheEnd) {
    Pipe pipe;
    std::atomic<pid_t> reader{0};
    std::thread writer([&] {
        while (reader == 0) {
            std::this_thread::yield();
        }
        for (const char* piece : {"abc", "defg", "hij", "klm"}) {
            wait_until_in_read(reader);  // so each read() sees one piece
            pipe.write(piece);
        }
        pipe.write_end.reset();
    });
    reader = ::gettid();
    std::vector<std::byte> buf(10);
    EXPECT_EQ(read_full(pipe.read_end.get(), buf, 0, "pipe"), 10u);
    EXPECT_EQ(text_of(buf), "abcdefghij");
    EXPECT_EQ(read_full(pipe.read_end.get(), buf, 10, "pipe"), 3u) << "fewer only at the end";
    EXPECT_EQ(text_of(std::span(buf).first(3)), "klm");
    EXPECT_EQ(read_full(pipe.read_end.get(), buf, 13, "pipe"), 0u);
    writer.join();
}

std::atomic<int> signals_caught{0};
void count_signal(int) {
    ++signals_caught;
}

TEST(FullIo, ReadFullGoesOnAfterEintr) {
    // Without SA_RESTART a signal makes a blocked read() fail with EINTR.
    struct sigaction action {};
    struct sigaction old {};
    action.sa_handler = count_signal;
    sigemptyset(&action.sa_mask);
    ASSERT_EQ(::sigaction(SIGUSR1, &action, &old), 0);
    signals_caught = 0;

    Pipe pipe;
    std::vector<std::byte> buf(5);
    std::size_t got = 0;
    std::string error;
    std::atomic<pid_t> tid{0};
    std::thread reader([&] {
        tid = ::gettid();
        try {
            got = read_full(pipe.read_end.get(), buf, 0, "pipe");
        } catch (const IoError& e) {
            error = e.what();
        }
    });
    while (tid == 0) {
        std::this_thread::yield();
    }
    for (int i = 0; i < 3; ++i) {
        wait_until_in_read(tid);  // so the signal interrupts a blocked read()
        ASSERT_EQ(::pthread_kill(reader.native_handle(), SIGUSR1), 0);
        while (signals_caught == i) {  // handled, not pending: a second one would merge
            std::this_thread::yield();
        }
    }
    wait_until_in_read(tid);
    pipe.write("hello");
    reader.join();
    ::sigaction(SIGUSR1, &old, nullptr);

    EXPECT_EQ(signals_caught, 3);
    EXPECT_EQ(error, "");
    EXPECT_EQ(got, 5u);
    EXPECT_EQ(text_of(buf), "hello");
}

TEST(FullIo, PreadFullReadsAtTheOffsetAndStopsAtTheEnd) {
    TempDir dir;
    auto data = random_bytes(100, 1);
    write_file(dir / "f", data);
    UniqueFd fd = open_or_fail(dir / "f", O_RDONLY);
    std::vector<std::byte> buf(64);
    EXPECT_EQ(pread_full(fd.get(), buf, 20, dir / "f"), 64u);
    EXPECT_TRUE(std::equal(buf.begin(), buf.end(), data.begin() + 20));
    EXPECT_EQ(pread_full(fd.get(), buf, 50, dir / "f"), 50u);
    EXPECT_TRUE(std::equal(buf.begin(), buf.begin() + 50, data.begin() + 50));
    EXPECT_EQ(pread_full(fd.get(), buf, 100, dir / "f"), 0u);
    EXPECT_EQ(pread_full(fd.get(), buf, 4096, dir / "f"), 0u);
}

TEST(FullIo, PwriteFullWritesAtTheOffsetAndReportsProgress) {
    TempDir dir;
    auto data = random_bytes(3 * 1024 * 1024 + 5, 2);
    UniqueFd fd = open_or_fail(dir / "f", O_WRONLY | O_CREAT | O_TRUNC);
    std::vector<std::uint64_t> ends;
    pwrite_full(fd.get(), data, 4096, dir / "f", [&](std::uint64_t end) { ends.push_back(end); });
    ASSERT_FALSE(ends.empty());
    EXPECT_EQ(ends.back(), 4096 + data.size());
    EXPECT_TRUE(std::is_sorted(ends.begin(), ends.end()));
    auto back = read_file(dir / "f");
    ASSERT_EQ(back.size(), 4096 + data.size());
    EXPECT_TRUE(std::equal(data.begin(), data.end(), back.begin() + 4096));
    EXPECT_TRUE(std::all_of(back.begin(), back.begin() + 4096,
                            [](std::byte b) { return b == std::byte{0}; }));

    pwrite_full(fd.get(), {}, 0, dir / "f", [&](std::uint64_t) { FAIL() << "nothing to write"; });
}

// A file size limit (RLIMIT_FSIZE) makes the kernel write only up to the limit (a short write)
// and fail the next write with EFBIG: the helper must go on after the first and report the second
// at the offset where it started.
TEST(FullIo, PwriteFullGoesOnAfterAShortWriteAndNamesWhereItFailed) {
    TempDir dir;
    UniqueFd fd = open_or_fail(dir / "f", O_WRONLY | O_CREAT | O_TRUNC);
    auto data = random_bytes(4096, 3);
    struct sigaction ignore {};
    struct sigaction old_action {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    ASSERT_EQ(::sigaction(SIGXFSZ, &ignore, &old_action), 0);  // EFBIG rather than a kill
    struct rlimit old_limit {};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
    struct rlimit limit = old_limit;
    limit.rlim_cur = 1000 + 100;

    std::vector<std::uint64_t> ends;
    int err = 0;
    std::uint64_t offset = 0;
    std::string what;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);
    try {  // nothing else may write a file while the limit holds
        pwrite_full(fd.get(), data, 100, dir / "f",
                    [&](std::uint64_t end) { ends.push_back(end); });
    } catch (const IoError& e) {
        err = e.code().value();
        offset = e.offset();
        what = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &old_limit);
    ::sigaction(SIGXFSZ, &old_action, nullptr);

    EXPECT_EQ(ends, std::vector<std::uint64_t>{1100}) << "the short write was reported";
    EXPECT_EQ(err, EFBIG);
    EXPECT_EQ(offset, 1100u);
    EXPECT_EQ(what, "write " + (dir / "f").string() + " at offset 1100: File too large");
    EXPECT_EQ(std::filesystem::file_size(dir / "f"), 1100u);
}

TEST(FullIo, ErrorsNameThePathAndTheOffset) {
    TempDir dir;
    write_file(dir / "f", random_bytes(10, 4));
    UniqueFd read_only = open_or_fail(dir / "f", O_RDONLY);
    UniqueFd write_only = open_or_fail(dir / "f", O_WRONLY);
    std::vector<std::byte> buf(8);
    try {
        pread_full(write_only.get(), buf, 512, dir / "f");
        FAIL() << "read a write-only descriptor";
    } catch (const IoError& e) {
        EXPECT_EQ(e.code(), std::errc::bad_file_descriptor);
        EXPECT_EQ(e.op(), "read");
        EXPECT_EQ(e.path(), dir / "f");
        EXPECT_EQ(e.offset(), 512u);
    }
    try {
        pwrite_full(read_only.get(), buf, 2048, dir / "f");
        FAIL() << "wrote a read-only descriptor";
    } catch (const IoError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "write " + (dir / "f").string() + " at offset 2048: Bad file descriptor");
    }
    UniqueFd directory = open_or_fail(dir.path(), O_RDONLY | O_DIRECTORY);
    try {
        read_full(directory.get(), buf, 7, dir.path());
        FAIL() << "read a directory";
    } catch (const IoError& e) {
        EXPECT_EQ(e.code(), std::errc::is_a_directory);
        EXPECT_EQ(e.path(), dir.path());
        EXPECT_EQ(e.offset(), 7u);
    }
}

}  // namespace
}  // namespace freemkv
