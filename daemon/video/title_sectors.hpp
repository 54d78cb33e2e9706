#pragma once

// Where each titleset's title VOBs (VTS_nn_1.VOB ... VTS_nn_9.VOB) lie in a DVD-Video image or
// on a disc, in 2048-byte sectors from its start: what a title's cells (TitleInfo::cells,
// counted from the first of these VOBs) are on the image.
//
// The VOBs are found in the UDF file system with libdvdread's UDFFindFile (DvdReader::title_vobs,
// dvd_reader.hpp). They are assumed contiguous, each starting where the one before ends, as the
// DVD-Video format lays them out (real discs and genisoimage -dvd-video) and as libdvdread itself
// reads them from an image (DVDReadBlocks on DVD_READ_TITLE_VOBS reads on from the first VOB's
// sector); a disc where they are not is refused with DvdError rather than mapped wrongly.

#include <cstdint>
#include <filesystem>
#include <map>

namespace freemkv {

struct TitleVobs {
    std::uint32_t first_sector = 0;  // VTS_nn_1.VOB's first sector on the image
    std::uint64_t sectors = 0;       // all of the titleset's title VOBs together
    bool operator==(const TitleVobs&) const = default;
};

// By titleset number; titlesets without title VOBs (menus only) are left out.
using TitleSectorMap = std::map<int, TitleVobs>;

// Throws DvdError: not a DVD-Video, or VOBs that are not contiguous. The path form opens the
// image (or device) read-only; the descriptor form reads only through `fd`, with the caller's
// rights: it is never opened again by path (dvd_reader.hpp; `name` for messages).
TitleSectorMap title_sector_map(const std::filesystem::path& image);
TitleSectorMap title_sector_map(int fd, const std::filesystem::path& name);

}  // namespace freemkv
