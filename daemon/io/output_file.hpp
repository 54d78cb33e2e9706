#pragma once

// A file being written into the library. It is written as "<name>.part" through a
// WritebackPipeline and only appears under its final name once every byte is durable:
// publish() drains the pipeline, fdatasyncs, renames without replacing anything, and fsyncs the
// directory, all through a FileSystem. A file that is never published stays a ".part" (a later
// run can resume from it).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

#include "file_system.hpp"
#include "unique_fd.hpp"
#include "writeback_pipeline.hpp"

namespace freemkv {

class OutputFile {
  public:
    enum class Mode {
        truncate,  // start from an empty .part
        resume,    // keep an existing .part's bytes; writing continues at its end
    };

    // Opens (creating) `final_path` + ".part". Syncs and the rename go through `fs`, which must
    // outlive the file. Throws IoError.
    OutputFile(std::filesystem::path final_path, const PolicyConfig& policy,
               Mode mode = Mode::truncate, WritebackObserver* observer = nullptr,
               FileSystem& fs = real_file_system());
    // An unpublished file is drained on a best-effort basis and left as ".part".
    ~OutputFile();
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;

    // Writes at the current position. Throws IoError naming the path and offset.
    void write(std::span<const std::byte> data);
    // Writes at `offset`; if that is not the current position, the pipeline drains first.
    void write_at(std::uint64_t offset, std::span<const std::byte> data);
    // Writes back and drops from the cache everything written so far. Idempotent.
    void finalize();
    // Makes everything written so far durable (fdatasync), without publishing.
    void sync();
    // Gives back the disk space of [offset, offset + size), which then reads as zeros: bytes
    // that will be written again, so that a full disk has room for a small file. Throws IoError.
    void discard(std::uint64_t offset, std::uint64_t size);
    // Sets the file's size (a sparse extension reads as zeros). Throws IoError.
    void set_size(std::uint64_t bytes);
    // Makes the file durable and gives it its final name. Idempotent. Throws IoError, also
    // (EEXIST) when something already has the final name: nothing is ever overwritten, and (EIO)
    // when any earlier operation failed: a file with a hole where a write failed stays a .part.
    void publish();

    const std::filesystem::path& final_path() const { return final_path_; }
    const std::filesystem::path& part_path() const { return part_path_; }
    std::uint64_t position() const { return pos_; }
    std::uint64_t chunk_bytes() const { return pipeline_.chunk_bytes(); }
    bool published() const { return published_; }
    bool failed() const { return failed_; }

  private:
    FileRef ref() const { return {fd_.get(), part_path_}; }
    // Runs `op`; if it throws, the file is marked failed before the error propagates.
    template <typename Op>
    void guarded(Op op);

    FileSystem& fs_;
    std::filesystem::path final_path_;
    std::filesystem::path part_path_;
    UniqueFd fd_;
    std::uint64_t pos_ = 0;
    WritebackPipeline pipeline_;
    bool published_ = false;
    bool failed_ = false;
};

}  // namespace freemkv
