#include "title_reader.hpp"

#include <dvdread/nav_read.h>
#include <dvdread/nav_types.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

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

bool read_vobu_links(std::span<const std::uint8_t> sector, VobuLinks& links) {
    // The DSI packet follows the PCI packet: private stream 2 at 0x400, first byte 0x01.
    static constexpr std::uint8_t kDsi[] = {0x00, 0x00, 0x01, 0xbf};
    std::int64_t start = 0;
    std::int64_t end = 0;
    if (!read_nav_times(sector, start, end) || std::memcmp(sector.data() + 0x400, kDsi, 4) != 0 ||
        sector[0x406] != 0x01) {
        return false;
    }
    std::array<unsigned char, kSector> copy{};
    std::copy(sector.begin(), sector.begin() + kSector, copy.begin());
    dsi_t dsi{};
    navRead_DSI(&dsi, copy.data() + DSI_START_BYTE);
    links.last = dsi.dsi_gi.vobu_ea;
    links.next.reset();
    if (dsi.vobu_sri.next_vobu != SRI_END_OF_CELL && (dsi.vobu_sri.next_vobu & 0x7fffffff) != 0) {
        links.next = dsi.vobu_sri.next_vobu & 0x7fffffff;
    }
    links.ilvu_last.reset();
    links.next_ilvu.reset();
    if ((dsi.sml_pbi.category & 0x4000) != 0) {
        std::uint32_t ilvu_ea = dsi.sml_pbi.ilvu_ea;  // copies: the fields are packed
        std::uint32_t ilvu_sa = dsi.sml_pbi.ilvu_sa;
        links.ilvu_last = ilvu_ea;
        if (ilvu_sa != 0 && (ilvu_sa & 0x80000000u) == 0) {
            links.next_ilvu = ilvu_sa;
        }
    }
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
    std::int64_t output = 0;
    for (const Cell& cell : title.cells) {
        CellTiming timing;
        std::int64_t ignored = 0;
        nav_at(cell.first_sector, timing.start_ptm, ignored);
        nav_at(std::max(cell.last_vobu_start_sector, cell.first_sector), ignored, timing.end_ptm);
        timing.output_start = output;
        output += std::max<std::int64_t>(timing.end_ptm - timing.start_ptm, 0);
        timings_.push_back(timing);
        // Known when the cell starts; until then past every offset the demuxer has seen.
        cell_offsets_.push_back(std::numeric_limits<std::int64_t>::max());
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
        if (chunk_used_ == chunk_.size() && !refill()) {
            break;
        }
        std::size_t n = std::min(buffer.size() - done, chunk_.size() - chunk_used_);
        std::memcpy(buffer.data() + done, chunk_.data() + chunk_used_, n);
        done += n;
        chunk_used_ += n;
    }
    return done;
}

bool TitleReader::refill() {
    chunk_.clear();
    chunk_used_ = 0;
    while (cell_ < title_.cells.size()) {
        const Cell& cell = title_.cells[cell_];
        if (!cell_started_) {
            cell_offsets_[cell_] = produced_;
            next_sector_ = cell.first_sector;
            ilvu_last_.reset();
            next_ilvu_.reset();
            cell_started_ = true;
        }
        if (next_sector_ <= cell.last_sector) {
            break;
        }
        ++cell_;
        cell_started_ = false;
    }
    if (cell_ == title_.cells.size()) {
        return false;
    }
    const Cell& cell = title_.cells[cell_];
    std::uint32_t first = next_sector_;
    std::uint32_t left = cell.last_sector - first + 1;

    // One VOBU: its NAV pack says how long it is and where the next one of the title's angle
    // starts, which skips the other angles' units in an angle block.
    std::array<std::uint8_t, kSector> nav{};
    read_sectors(first, 1, nav.data());
    VobuLinks links;
    if (read_vobu_links(nav, links) && links.last <= left - 1) {
        chunk_.resize(std::size_t{links.last + 1} * kSector);
        std::memcpy(chunk_.data(), nav.data(), kSector);
        if (links.last > 0) {
            read_sectors(first + 1, links.last, chunk_.data() + kSector);
        }
        sectors_read_ += links.last + 1;
        // Forward only, whatever a damaged NAV pack says.
        next_sector_ = first + std::max(links.next.value_or(0), links.last + 1);
        ilvu_last_.reset();
        next_ilvu_.reset();
        if (links.ilvu_last) {
            ilvu_last_ = first + *links.ilvu_last;
            if (links.next_ilvu) {
                next_ilvu_ = first + *links.next_ilvu;
            }
        }
    } else {
        // No NAV pack where a VOBU should start (a damaged or unusual disc): pass the sectors
        // on as they are, up to the next NAV pack, and let the demuxer resync.
        std::uint32_t count = std::min(kChunkSectors, left);
        // In an interleaved unit, only up to its end: past it are the other angles' units.
        bool in_unit = ilvu_last_ && first <= *ilvu_last_;
        if (in_unit) {
            count = std::min(count, *ilvu_last_ - first + 1);
        }
        chunk_.resize(std::size_t{count} * kSector);
        std::memcpy(chunk_.data(), nav.data(), kSector);
        if (count > 1) {
            read_sectors(first + 1, count - 1, chunk_.data() + kSector);
        }
        std::uint32_t used = count;
        for (std::uint32_t i = 1; i < count; ++i) {
            VobuLinks ignored;
            if (read_vobu_links({chunk_.data() + std::size_t{i} * kSector, kSector}, ignored)) {
                used = i;
                break;
            }
        }
        spdlog::debug("{}: no VOBU at sector {} of titleset {}; {} sectors passed on as read",
                      name_, first, title_.titleset, used);
        chunk_.resize(std::size_t{used} * kSector);
        sectors_read_ += used;
        next_sector_ = first + used;
        if (in_unit && next_sector_ > *ilvu_last_) {
            // The unit ends without another NAV pack: on at the angle's next unit, or the end of
            // the cell when none is known.
            next_sector_ =
                next_ilvu_ && *next_ilvu_ > *ilvu_last_ ? *next_ilvu_ : cell.last_sector + 1;
        }
    }
    produced_ += static_cast<std::int64_t>(chunk_.size());
    return true;
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
