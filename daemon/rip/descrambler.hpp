#pragma once

// Sectors a disc delivers in the clear only through a decryption library: a CSS-protected DVD's
// VOBs, read through libdvdcss (daemon/video/css_descrambler.*). A DiscReader given one reads
// those runs through it and everything else through its own descriptor, so the image it writes
// is clear and the sweep, repair and mapfile treat both alike.

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

namespace freemkv {

// [first, end) in sectors.
struct SectorRun {
    std::uint64_t first = 0;
    std::uint64_t end = 0;
    bool operator==(const SectorRun&) const = default;
};

// Decryption itself failed (no key for a title): not a bad sector, and no retry helps. The rip
// stops, resumable, with this message.
class DescrambleError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class Descrambler {
  public:
    virtual ~Descrambler() = default;
    // The runs to read through read(): sorted, disjoint, not empty.
    virtual const std::vector<SectorRun>& runs() const = 0;
    // Reads out.size() / 2048 sectors from `sector` in the clear, never across the end of a run.
    // Returns 0, or the errno of a failed read (a bad or missing sector). Throws DescrambleError.
    virtual int read(std::uint64_t sector, std::span<std::byte> out) = 0;
};

}  // namespace freemkv
