#include "page_cache.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <system_error>
#include <vector>

#include "unique_fd.hpp"

namespace freemkv {

namespace {

[[noreturn]] void fail(const char* op, const std::filesystem::path& path) {
    throw std::system_error(errno, std::generic_category(), std::string(op) + " " + path.string());
}

}  // namespace

std::uint64_t cached_bytes(const std::filesystem::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        fail("open", path);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        fail("stat", path);
    }
    auto size = static_cast<std::size_t>(st.st_size);
    if (size == 0) {
        return 0;
    }
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd.get(), 0);
    if (map == MAP_FAILED) {
        fail("mmap", path);
    }
    auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> resident((size + page - 1) / page);
    int rc = ::mincore(map, size, resident.data());
    int err = errno;
    ::munmap(map, size);
    if (rc != 0) {
        errno = err;
        fail("mincore", path);
    }
    std::uint64_t pages = 0;
    for (unsigned char r : resident) {
        pages += r & 1u;
    }
    return pages * page;
}

std::optional<std::uint64_t> dirty_bytes(int fd) {
    // Not in glibc 2.36; the syscall number is the same on every architecture.
    constexpr long sys_cachestat = 451;
    struct Range {
        std::uint64_t off, len;
    } whole{0, 0};  // len 0: to the end of the file
    struct Stat {
        std::uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
    } st{};
    if (::syscall(sys_cachestat, fd, &whole, &st, 0) != 0) {
        return std::nullopt;
    }
    return (st.nr_dirty + st.nr_writeback) * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace freemkv
