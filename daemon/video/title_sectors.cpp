#include "title_sectors.hpp"

#include <dvdread/dvd_udf.h>
#include <fcntl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "dvd_by_fd.hpp"
#include "dvd_titles.hpp"
#include "unique_fd.hpp"

namespace freemkv {

TitleSectorMap title_sector_map(const std::filesystem::path& image) {
    UniqueFd fd{::open(image.c_str(), O_RDONLY | O_CLOEXEC)};
    if (!fd) {
        throw DvdError(image.string() + ": " + std::strerror(errno));
    }
    return title_sector_map(fd.get(), image);
}

TitleSectorMap title_sector_map(int fd, const std::filesystem::path& name) {
    DvdByFd dvd(fd, name);
    IfoHandle vmg{ifoOpen(dvd.get(), 0)};
    if (!vmg || vmg->vmgi_mat == nullptr) {
        throw DvdError(name.string() + ": not a DVD-Video image: VIDEO_TS.IFO is missing or " +
                       "unreadable");
    }
    TitleSectorMap map;
    for (int titleset = 1; titleset <= vmg->vmgi_mat->vmg_nr_of_title_sets; ++titleset) {
        TitleVobs vobs;
        std::uint64_t next = 0;
        for (int part = 1; part <= 9; ++part) {
            char file[32];
            std::snprintf(file, sizeof file, "/VIDEO_TS/VTS_%02d_%d.VOB", titleset, part);
            std::uint32_t bytes = 0;
            std::uint32_t start = UDFFindFile(dvd.get(), file, &bytes);
            if (start == 0) {
                break;
            }
            if (part == 1) {
                vobs.first_sector = start;
            } else if (start != next) {
                throw DvdError(name.string() + ": " + (file + 1) + " starts at sector " +
                               std::to_string(start) + ", not where the VOB before it ends (" +
                               std::to_string(next) + ")");
            }
            std::uint64_t sectors = (std::uint64_t{bytes} + 2047) / 2048;
            vobs.sectors += sectors;
            next = start + sectors;
        }
        if (vobs.first_sector != 0) {
            map[titleset] = vobs;
        }
    }
    return map;
}

}  // namespace freemkv
