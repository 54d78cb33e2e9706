#pragma once

// libdvdread on a descriptor the caller opened (an image file, a handed-over image, a drive): it
// opens "/proc/self/fd/N", which is that very file whatever its path names by now. (libdvdread's
// stream callbacks would avoid the re-open, but libdvdread 6.1 uses them only through libdvdcss.)
// The re-open needs the daemon's own permission to open the file, which a caller's handed-over
// image may not give: DvdError then. libdvdread's messages go to spdlog at debug level.
// Internal to daemon/video: the only header here that includes libdvdread's.

#include <dvdread/dvd_reader.h>
#include <dvdread/ifo_read.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace freemkv {

class DvdByFd {
  public:
    // Does not take `fd` over. Throws DvdError when libdvdread cannot open it (it accepts any
    // file: one that is not a DVD fails later, at ifoOpen).
    DvdByFd(int fd, const std::filesystem::path& name);
    ~DvdByFd();
    DvdByFd(const DvdByFd&) = delete;
    DvdByFd& operator=(const DvdByFd&) = delete;

    dvd_reader_t* get() const { return dvd_; }
    const std::string& name() const;
    // libdvdread's last error message, "" when it reported none.
    const std::string& last_error() const;

    struct State;

  private:
    std::unique_ptr<State> state_;  // the logger's context: a stable address
    dvd_reader_t* dvd_ = nullptr;
};

struct IfoCloser {
    void operator()(ifo_handle_t* ifo) const { ifoClose(ifo); }
};
using IfoHandle = std::unique_ptr<ifo_handle_t, IfoCloser>;

}  // namespace freemkv
