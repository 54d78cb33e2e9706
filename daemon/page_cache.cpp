#include "page_cache.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

}  // namespace freemkv
