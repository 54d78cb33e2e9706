#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace freemkv {

// Where a remux writes its Matroska file. Writes mostly follow each other, but the muxer seeks
// back to finish its header and cues, so every write names its offset. The extract stage adapts
// OutputFile (whose write_at drains the writeback pipeline on a seek); tests use a plain file.
// A failure throws; the remux ends with that exception.
class ByteSink {
  public:
    virtual ~ByteSink() = default;
    virtual void write_at(std::uint64_t offset, std::span<const std::byte> data) = 0;
};

}  // namespace freemkv
