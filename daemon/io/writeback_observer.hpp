#pragma once

#include <cstdint>

#include "chunk_policy.hpp"

namespace freemkv {

// One finished chunk: its writeback was kicked, and the chunk before it was waited for and dropped
// from the page cache (wait and fadvise are zero for the first chunk of a run).
struct ChunkEvent {
    std::uint64_t offset;
    std::uint64_t length;
    Nanos wait;
    Nanos fadvise;
    std::uint64_t chunk_bytes;
};

// Receives the pipeline's telemetry, on the writing thread. Implementations must be quick.
class WritebackObserver {
  public:
    virtual ~WritebackObserver() = default;
    virtual void on_chunk(const ChunkEvent&) {}
    virtual void on_resize(const Resize&) {}
};

}  // namespace freemkv
