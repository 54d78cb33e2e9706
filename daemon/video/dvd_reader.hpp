#pragma once

// libdvdread opened on a DVD-Video image or disc: the one place in daemon/video that opens it,
// routes its messages, and finds files in its UDF file system. Internal to daemon/video: the only
// header here that includes libdvdread's.
//
// The pathology: libdvdread 6.1 reads an image only by path (its stream callbacks work only
// through libdvdcss, which Debian does not ship), prints a libdvdcss banner on stdout and its
// errors on stderr, and DVDOpen2 accepts any file (one that is not a DVD fails later, at ifoOpen).
// A descriptor a caller handed over cannot be given to it by "/proc/self/fd/N": that re-open
// would check the daemon's own right to open the file, not the caller's.
//
// The strategy: a path the daemon may open itself (an image in the library, a drive) is opened
// by path. A caller's descriptor is never re-opened: the sectors libdvdread needs (the file
// system's structures, where VIDEO_TS.IFO also starts, and, when asked, each titleset's IFO) are
// copied through it with pread into a sparse memory file of the image's size, which libdvdread
// then opens; the descriptor's offset is left alone. libdvdread's messages go to spdlog at debug
// level (it warns about the missing libdvdcss on every open), its last error is kept for the
// DvdError that follows it.

#include <dvdread/dvd_reader.h>
#include <dvdread/ifo_read.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "dvd_titles.hpp"
#include "title_sectors.hpp"

namespace freemkv {

struct IfoCloser {
    void operator()(ifo_handle_t* ifo) const { ifoClose(ifo); }
};
using IfoHandle = std::unique_ptr<ifo_handle_t, IfoCloser>;

class DvdReader {
  public:
    // Opens `image` by path. Throws DvdError: not a file or block device, or libdvdread cannot
    // open it.
    explicit DvdReader(const std::filesystem::path& image);

    enum class Copy { structures, titleset_ifos };
    // Reads only through `fd`, which it does not take over: its file system's structures and
    // VIDEO_TS.IFO, and with Copy::titleset_ifos the IFO of each titleset VIDEO_TS.IFO names
    // (at most 8 MiB an IFO, 128 MiB in all). `name` is the image in messages. Throws DvdError.
    DvdReader(int fd, const std::string& name, Copy what);

    ~DvdReader();
    DvdReader(const DvdReader&) = delete;
    DvdReader& operator=(const DvdReader&) = delete;

    dvd_reader_t* get() const { return dvd_; }
    const std::string& name() const;
    // libdvdread's last error message, "" when it reported none.
    const std::string& last_error() const;
    // "<name>: <what> (libdvdread: <last error>)", without the parenthesis when there is none.
    DvdError error(std::string_view what) const;

    // VIDEO_TS.IFO. Throws DvdError when it is missing or unreadable: not a DVD-Video.
    IfoHandle vmg() const;

    // Where the titleset's title VOBs (VTS_nn_1.VOB ... VTS_nn_9.VOB) lie, found with
    // UDFFindFile; nothing when it has none. They are one run of sectors, each VOB starting where
    // the one before ends, as DVD-Video lays them out and as libdvdread reads them from an image;
    // throws DvdError when they are not.
    std::optional<TitleVobs> title_vobs(int titleset) const;

    struct State;

  private:
    void open(const std::string& path);

    std::unique_ptr<State> state_;  // the logger's context and the copy: stable addresses
    dvd_reader_t* dvd_ = nullptr;
};

}  // namespace freemkv
