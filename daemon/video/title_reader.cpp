#include "title_reader.hpp"

#include <dvdread/nav_read.h>
#include <dvdread/nav_types.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "remux_error.hpp"

namespace freemkv {
namespace {

constexpr std::size_t kSector = DVD_VIDEO_LB_LEN;
constexpr std::uint32_t kChunkSectors = 512;  // 1 MiB per read

}  // namespace

bool read_nav_times(std::span<const std::uint8_t> sector, std::int64_t& start_ptm,
                    std::int64_t& end_ptm) {
    // A NAV pack: pack header, system header, then the PCI packet (private stream 2, 0x1bf)
    // at 0x26 whose first byte, 0x00, marks PCI.
    static constexpr std::uint8_t kPack[] = {0x00, 0x00, 0x01, 0xba};
    static constexpr std::uint8_t kPci[] = {0x00, 0x00, 0x01, 0xbf};
    if (sector.size() < kSector || std::memcmp(sector.data(), kPack, 4) != 0 ||
        std::memcmp(sector.data() + 0x26, kPci, 4) != 0 || sector[0x2c] != 0x00) {
        return false;
    }
    std::array<unsigned char, kSector> copy{};
    std::copy(sector.begin(), sector.begin() + kSector, copy.begin());
    pci_t pci{};
    navRead_PCI(&pci, copy.data() + 0x2d);
    start_ptm = pci.pci_gi.vobu_s_ptm;
    end_ptm = pci.pci_gi.vobu_e_ptm;
    return true;
}

TitleReader::TitleReader(const DvdImage& image, const TitleInfo& title)
    : image_(image),
      name_(image.path().string() + ": title " + std::to_string(title.number)),
      title_(title) {
    vobs_ = image.title_vobs(title.titleset);
    std::array<std::uint8_t, kSector> sector{};
    auto nav_at = [&](std::uint32_t at, std::int64_t& start, std::int64_t& end) {
        read_sectors(at, 1, sector.data());
        if (!read_nav_times(sector, start, end)) {
            throw RemuxError(name_ + ": no NAV pack at sector " + std::to_string(at) +
                             " of titleset " + std::to_string(title.titleset));
        }
    };
    std::int64_t offset = 0;
    std::int64_t output = 0;
    for (const Cell& cell : title.cells) {
        CellTiming timing;
        std::int64_t ignored = 0;
        nav_at(cell.first_sector, timing.start_ptm, ignored);
        nav_at(std::max(cell.last_vobu_start_sector, cell.first_sector), ignored, timing.end_ptm);
        timing.output_start = output;
        output += std::max<std::int64_t>(timing.end_ptm - timing.start_ptm, 0);
        timings_.push_back(timing);
        cell_offsets_.push_back(offset);
        offset += static_cast<std::int64_t>(cell.last_sector - cell.first_sector + 1) * kSector;
    }
    if (!title.cells.empty()) {
        next_sector_ = title.cells[0].first_sector;
    }
}

std::int64_t TitleReader::duration() const {
    if (timings_.empty()) {
        return 0;
    }
    const CellTiming& last = timings_.back();
    return last.output_start + std::max<std::int64_t>(last.end_ptm - last.start_ptm, 0);
}

std::size_t TitleReader::read(std::span<std::uint8_t> buffer) {
    std::size_t done = 0;
    while (done < buffer.size()) {
        if (chunk_used_ == chunk_.size()) {
            chunk_.clear();
            chunk_used_ = 0;
            while (cell_ < title_.cells.size() && next_sector_ > title_.cells[cell_].last_sector) {
                ++cell_;
                if (cell_ < title_.cells.size()) {
                    next_sector_ = title_.cells[cell_].first_sector;
                }
            }
            if (cell_ == title_.cells.size()) {
                break;
            }
            std::uint32_t count =
                std::min(kChunkSectors, title_.cells[cell_].last_sector - next_sector_ + 1);
            chunk_.resize(std::size_t{count} * kSector);
            read_sectors(next_sector_, count, chunk_.data());
            next_sector_ += count;
            sectors_read_ += count;
        }
        std::size_t n = std::min(buffer.size() - done, chunk_.size() - chunk_used_);
        std::memcpy(buffer.data() + done, chunk_.data() + chunk_used_, n);
        done += n;
        chunk_used_ += n;
    }
    return done;
}

void TitleReader::read_sectors(std::uint32_t first, std::uint32_t count, std::uint8_t* into) {
    if (std::uint64_t{first} + count > vobs_.sectors) {
        throw RemuxError(name_ + ": sectors " + std::to_string(first) + "-" +
                         std::to_string(first + count - 1) + " are past the end of titleset " +
                         std::to_string(title_.titleset) + "'s title VOBs");
    }
    image_.read_sectors(std::uint64_t{vobs_.first_sector} + first, count, into);
}

std::size_t TitleReader::cell_at(std::int64_t offset) const {
    auto it = std::upper_bound(cell_offsets_.begin(), cell_offsets_.end(), offset);
    return it == cell_offsets_.begin() ? 0
                                       : static_cast<std::size_t>(it - cell_offsets_.begin() - 1);
}

}  // namespace freemkv
