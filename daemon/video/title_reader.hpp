#pragma once

// A title's cells as one byte stream (the program stream the mpeg demuxer reads), and when each
// cell plays. Before streaming, the NAV pack (PCI) of each cell's first and last VOBU gives the
// cell's presentation time range, vobu_s_ptm to vobu_e_ptm; the output places the cells one
// after the other, so time is continuous even where a title plays the same cell twice and its
// timestamps restart.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dvd_stream.hpp"
#include "title_info.hpp"

namespace freemkv {

struct CellTiming {
    std::int64_t start_ptm = 0;     // 90 kHz, the cell's own timestamps
    std::int64_t end_ptm = 0;       // exclusive
    std::int64_t output_start = 0;  // 90 kHz, where the cell starts in the output
};

// The presentation times of the NAV pack in `sector`, or false when it is not one.
bool read_nav_times(std::span<const std::uint8_t> sector, std::int64_t& start_ptm,
                    std::int64_t& end_ptm);

// What a VOBU's NAV pack (its DSI) says about where the title goes on, in sectors from the NAV
// pack: the VOBU's last sector, and the next VOBU of the same angle when the cell goes on (within
// an angle block the next VOBU is not the next sector).
struct VobuLinks {
    std::uint32_t last = 0;
    std::optional<std::uint32_t> next;
    // In an interleaved unit (ILVU) of an angle block: the unit's last sector, and where the
    // angle's next unit starts (none when the NAV pack names none).
    std::optional<std::uint32_t> ilvu_last;
    std::optional<std::uint32_t> next_ilvu;
};
bool read_vobu_links(std::span<const std::uint8_t> sector, VobuLinks& links);

// The title's bytes are its cells' VOBUs in playing order, each VOBU followed to the next its
// NAV pack names, so an angle block yields angle 1 only.
class TitleReader {
  public:
    // Finds the titleset's title VOBs and reads the cells' NAV packs. Throws RemuxError or
    // DvdError.
    TitleReader(const DvdImage& image, const TitleInfo& title);
    TitleReader(const TitleReader&) = delete;
    TitleReader& operator=(const TitleReader&) = delete;

    const std::vector<CellTiming>& cells() const { return timings_; }
    std::int64_t duration() const;  // 90 kHz, the cells end to end

    // The next bytes of the title, up to buffer.size(); 0 at its end. Throws DvdError.
    std::size_t read(std::span<std::uint8_t> buffer);
    // The cell the byte at `offset` of the stream belongs to.
    std::size_t cell_at(std::int64_t offset) const;
    std::uint64_t sectors_read() const { return sectors_read_; }

  private:
    // The next VOBU (or run of sectors without one) into chunk_; false at the title's end.
    bool refill();
    // Reads `count` sectors of the title VOBs from their sector `first`. Throws RemuxError.
    void read_sectors(std::uint32_t first, std::uint32_t count, std::uint8_t* into);

    const DvdImage& image_;
    std::string name_;
    TitleInfo title_;
    TitleVobs vobs_;
    std::vector<CellTiming> timings_;
    std::vector<std::int64_t> cell_offsets_;  // the stream offset where each cell starts
    std::size_t cell_ = 0;
    bool cell_started_ = false;
    std::uint32_t next_sector_ = 0;  // in the current cell
    // The interleaved unit the last NAV pack was in, in sectors of the title VOBs.
    std::optional<std::uint32_t> ilvu_last_;
    std::optional<std::uint32_t> next_ilvu_;
    std::int64_t produced_ = 0;  // bytes of the stream so far
    std::uint64_t sectors_read_ = 0;
    std::vector<std::uint8_t> chunk_;
    std::size_t chunk_used_ = 0;
};

}  // namespace freemkv
