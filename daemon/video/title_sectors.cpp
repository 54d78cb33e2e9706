#include "title_sectors.hpp"

#include "dvd_reader.hpp"
#include "dvd_titles.hpp"

namespace freemkv {
namespace {

TitleSectorMap map_of(const DvdReader& dvd) {
    IfoHandle vmg = dvd.vmg();
    TitleSectorMap map;
    for (int titleset = 1; titleset <= vmg->vmgi_mat->vmg_nr_of_title_sets; ++titleset) {
        if (auto vobs = dvd.title_vobs(titleset)) {
            map[titleset] = *vobs;
        }
    }
    return map;
}

}  // namespace

TitleSectorMap title_sector_map(const std::filesystem::path& image) {
    return map_of(DvdReader(image));
}

TitleSectorMap title_sector_map(int fd, const std::filesystem::path& name) {
    return map_of(DvdReader(fd, name.string(), DvdReader::Copy::structures));
}

}  // namespace freemkv
