#include "output_file.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "full_io.hpp"
#include "io_error.hpp"

namespace freemkv {

namespace {

UniqueFd open_part(const std::filesystem::path& path, OutputFile::Mode mode) {
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC;
    if (mode == OutputFile::Mode::truncate) {
        flags |= O_TRUNC;
    }
    UniqueFd fd(::open(path.c_str(), flags, 0644));
    if (!fd) {
        throw IoError("open", path, 0, errno);
    }
    return fd;
}

std::uint64_t file_size(const UniqueFd& fd, const std::filesystem::path& path) {
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        throw IoError("stat", path, 0, errno);
    }
    return static_cast<std::uint64_t>(st.st_size);
}

}  // namespace

OutputFile::OutputFile(std::filesystem::path final_path, const PolicyConfig& policy, Mode mode,
                       WritebackObserver* observer, FileSystem& fs)
    : fs_(fs),
      final_path_(std::move(final_path)),
      part_path_(final_path_.string() + ".part"),
      fd_(open_part(part_path_, mode)),
      pos_(mode == Mode::resume ? file_size(fd_, part_path_) : 0),
      pipeline_(policy, pos_, observer) {}

OutputFile::~OutputFile() {
    if (published_ || !fd_) {
        return;
    }
    try {
        finalize();
    } catch (const std::exception& e) {
        spdlog::warn("leaving {} unfinished: {}", part_path_.string(), e.what());
    }
}

template <typename Op>
void OutputFile::guarded(Op op) {
    try {
        op();
    } catch (...) {
        failed_ = true;
        throw;
    }
}

void OutputFile::write(std::span<const std::byte> data) {
    write_at(pos_, data);
}

void OutputFile::write_at(std::uint64_t offset, std::span<const std::byte> data) {
    if (published_) {
        throw IoError("write to published", final_path_, offset, EBADF);
    }
    guarded([&] {
        if (offset != pos_) {
            pipeline_.handle_seek(ref(), pos_, offset);
            pos_ = offset;
        }
        pwrite_full(fd_.get(), data, pos_, part_path_, [this](std::uint64_t end) {
            pos_ = end;
            pipeline_.note_progress(ref(), pos_);
        });
    });
}

void OutputFile::finalize() {
    if (!published_) {
        guarded([&] { pipeline_.finalize(ref(), pos_); });
    }
}

void OutputFile::sync() {
    guarded([&] { fs_.sync_data(fd_.get(), part_path_, pos_); });
}

void OutputFile::discard(std::uint64_t offset, std::uint64_t size) {
    if (::fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                    static_cast<off_t>(offset), static_cast<off_t>(size)) != 0) {
        throw IoError("discard a range of", part_path_, offset, errno);
    }
}

void OutputFile::set_size(std::uint64_t bytes) {
    guarded([&] {
        if (::ftruncate(fd_.get(), static_cast<off_t>(bytes)) != 0) {
            throw IoError("set size of", part_path_, bytes, errno);
        }
    });
}

void OutputFile::publish() {
    if (published_) {
        return;
    }
    if (failed_) {
        throw IoError("publish (an earlier write failed)", part_path_, pos_, EIO);
    }
    finalize();
    sync();
    fs_.rename_noreplace(part_path_, final_path_, pos_);
    published_ = true;
    fd_.reset();
    fs_.sync_directory(parent_directory(final_path_));
}

}  // namespace freemkv
