#pragma once

// libavformat's I/O contexts for the remux: who frees them, and the muxer's output into a
// ByteSink.

extern "C" {
#include <libavformat/avio.h>
}

#include <cstdint>
#include <exception>
#include <memory>

#include "byte_sink.hpp"

namespace freemkv {

struct AvioCloser {
    void operator()(AVIOContext* io) const;
};
using AvioHandle = std::unique_ptr<AVIOContext, AvioCloser>;

// An AVIOContext with a buffer of `size` bytes on the given callbacks (writing when `write` is
// given). Throws std::bad_alloc.
AvioHandle make_avio(int size, void* opaque, int (*read)(void*, std::uint8_t*, int),
                     int (*write)(void*, std::uint8_t*, int),
                     std::int64_t (*seek)(void*, std::int64_t, int));

// The muxer's bytes go to `sink` at a position tracked here: the matroska muxer seeks back to
// finish its header and cues. What the sink throws is kept in `error` (a C callback cannot pass
// it on), and the muxer sees an I/O error.
struct SinkOutput {
    ByteSink& sink;
    std::int64_t position = 0;
    std::int64_t size = 0;
    std::exception_ptr error;
};

// A seekable write context on `output`.
AvioHandle make_sink_avio(SinkOutput& output, int buffer_size);

}  // namespace freemkv
