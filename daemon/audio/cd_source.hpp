#pragma once

// An audio CD opened with libcdio, for its table of contents and for ParanoiaReader
// (paranoia_reader.hpp): a drive, a BIN/CUE image by path, or a BIN/CUE image whose cue sheet
// and BIN a caller handed over as descriptors.
//
// The pathology: libcdio 2.1's BIN/CUE driver ignores the cue's FILE line and reads the file named
// like the cue with ".bin" (x.cue -> x.bin), opening it by path; it decodes a cue's CD-TEXT as
// ISO-8859-1. A descriptor handed over by a client must not be re-opened through
// "/proc/self/fd/N" either: that would check the daemon's right to open the file, not the
// client's.
//
// The strategy, the same for both image forms: the BIN is opened once (by path, or it is the
// caller's descriptor, kept as a dup). libcdio gets a private temporary directory holding the cue
// with its FILE line rewritten to "disc.bin", next to a sparse "disc.bin" of the BIN's size: it
// reads the table of contents, CD-TEXT, ISRCs and the catalog from there. The audio is read from
// the BIN's descriptor with pread (ParanoiaReader installs it as paranoia's read function), so
// neither the BIN's path nor /proc/self/fd is opened again. Only cue sheets with one FILE, of type
// BINARY (little-endian 16-bit stereo), are read.
//
// Errors: AudioError naming the drive or file: no disc or an unreadable table of contents, no
// audio track, a cue libcdio cannot parse, a BIN that is missing or too short for the cue.
// Threading: one thread at a time per CdSource (libcdio handles are not shared). libcdio's log
// goes to spdlog (installed on the first open).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "cd_toc.hpp"

struct _CdIo;  // libcdio's CdIo_t

namespace freemkv {

// The BIN a cue sheet names: its one FILE line (of type BINARY), relative to `cue_dir` unless
// absolute. Throws AudioError naming `name` for anything else.
std::filesystem::path cue_bin_path(const std::string& cue_text,
                                   const std::filesystem::path& cue_dir, const std::string& name);
// A cue sheet's text, read from `fd` with pread; throws AudioError naming `name` past 1 MiB.
std::string read_cue_sheet(int fd, const std::string& name);

class CdSource {
  public:
    // A drive, e.g. /dev/sr0.
    static std::unique_ptr<CdSource> open_drive(const std::string& device);
    // A cue sheet; its FILE is found next to it (relative paths) or where it says (absolute).
    static std::unique_ptr<CdSource> open_cue(const std::filesystem::path& cue);
    // A cue sheet and its one BIN, read only through these descriptors (dup'ed; the caller keeps
    // and closes its own). `name` is what messages call the image.
    static std::unique_ptr<CdSource> open_cue_fds(int cue_fd, int bin_fd, const std::string& name);

    CdSource(const CdSource&) = delete;
    CdSource& operator=(const CdSource&) = delete;
    ~CdSource();

    const CdToc& toc() const { return toc_; }
    const std::string& name() const { return name_; }
    // The drive's vendor and model ("" for an image), for the log and read offset overrides.
    const std::string& drive_model() const { return drive_model_; }
    _CdIo* cdio() const { return cdio_; }
    // An image's BIN, read with pread; -1 for a drive.
    int bin_fd() const { return bin_fd_; }
    // Bytes in the BIN (0 for a drive).
    std::uint64_t bin_size() const { return bin_size_; }
    // False once the disc is known to be gone: the drive reports no disc or an open tray, or the
    // BIN shrank below its size at open (its medium went away). True when it cannot tell (a
    // drive that does not answer CDROM_DRIVE_STATUS).
    bool medium_present() const;

  private:
    CdSource() = default;
    void read_toc();
    void open_image(const std::string& cue_text, const std::filesystem::path& cue_dir);

    std::string name_;
    std::string drive_model_;
    _CdIo* cdio_ = nullptr;
    int bin_fd_ = -1;
    int status_fd_ = -1;  // a drive's own descriptor, for CDROM_DRIVE_STATUS
    std::uint64_t bin_size_ = 0;
    std::filesystem::path temp_dir_;
    CdToc toc_;
};

}  // namespace freemkv
