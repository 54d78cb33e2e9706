#pragma once

// The calls that decide whether written data survives a crash: file syncs, renames and directory
// syncs, in their order. A test that reads files back cannot see them: the page cache serves the
// same bytes whether or not they ever reached the disk, so a lost fdatasync, or a mapfile renamed
// into place before the data it describes was synced, passes every test that compares contents.
//
// So every such call goes through this interface (in the spirit of ninja's DiskInterface), passed
// explicitly to whatever makes files durable, with the kernel's as the default. Tests pass one that
// records each call and check the order. Only these calls belong here: reads, writes and
// write-back hints do not decide what a crash leaves.

#include <cstdint>
#include <filesystem>

namespace freemkv {

class FileSystem {
  public:
    virtual ~FileSystem() = default;

    // fdatasync: the file's data (and its size) are on disk. `written` is how far the file was
    // written; an error names it as the offset. Throws IoError.
    virtual void sync_data(int fd, const std::filesystem::path& path, std::uint64_t written) = 0;
    // fsync: the file's data and all its metadata are on disk. Throws IoError, as sync_data.
    virtual void sync_file(int fd, const std::filesystem::path& path, std::uint64_t written) = 0;
    // rename(2): `from` replaces `to` atomically. Throws IoError naming `from`.
    virtual void rename(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
    // Gives `from` the name `to` unless something already has it (then IoError with EEXIST):
    // renameat2(RENAME_NOREPLACE), or where the filesystem lacks that (NFS, FUSE, SMB) link()
    // and unlink().
    // `written` is for errors, as in sync_data. Throws IoError naming `from`.
    virtual void rename_noreplace(const std::filesystem::path& from,
                                  const std::filesystem::path& to, std::uint64_t written) = 0;
    // fsync on a directory, so a rename, create or removal inside it is durable. Throws IoError.
    virtual void sync_directory(const std::filesystem::path& dir) = 0;
};

// The kernel's. A class of its own so that a test can play a filesystem (FUSE, SMB, NFS) whose
// renameat2() lacks RENAME_NOREPLACE.
class KernelFileSystem : public FileSystem {
  public:
    void sync_data(int fd, const std::filesystem::path& path, std::uint64_t written) override;
    void sync_file(int fd, const std::filesystem::path& path, std::uint64_t written) override;
    void rename(const std::filesystem::path& from, const std::filesystem::path& to) override;
    void rename_noreplace(const std::filesystem::path& from, const std::filesystem::path& to,
                          std::uint64_t written) override;
    void sync_directory(const std::filesystem::path& dir) override;

  protected:
    // renameat2(RENAME_NOREPLACE): 0, or -1 with errno set.
    virtual int rename_exclusive(const std::filesystem::path& from,
                                 const std::filesystem::path& to);
};

FileSystem& real_file_system();

// The directory holding `path` ("." for a bare name): the one to sync after renaming `path`.
std::filesystem::path parent_directory(const std::filesystem::path& path);

}  // namespace freemkv
