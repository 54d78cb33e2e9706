#include "avio.hpp"

extern "C" {
#include <libavutil/error.h>
#include <libavutil/mem.h>
}

#include <algorithm>
#include <cstdio>
#include <new>
#include <span>

namespace freemkv {
namespace {

int write_output(void* opaque, std::uint8_t* buffer, int size) {
    auto* output = static_cast<SinkOutput*>(opaque);
    try {
        output->sink.write_at(static_cast<std::uint64_t>(output->position),
                              std::as_bytes(std::span(buffer, static_cast<std::size_t>(size))));
    } catch (...) {
        output->error = std::current_exception();
        return AVERROR(EIO);
    }
    output->position += size;
    output->size = std::max(output->size, output->position);
    return size;
}

std::int64_t seek_output(void* opaque, std::int64_t offset, int whence) {
    auto* output = static_cast<SinkOutput*>(opaque);
    switch (whence & ~AVSEEK_FORCE) {
        case AVSEEK_SIZE:
            return output->size;
        case SEEK_SET:
            output->position = offset;
            break;
        case SEEK_CUR:
            output->position += offset;
            break;
        case SEEK_END:
            output->position = output->size + offset;
            break;
        default:
            return AVERROR(EINVAL);
    }
    return output->position;
}

}  // namespace

void AvioCloser::operator()(AVIOContext* io) const {
    av_freep(&io->buffer);
    avio_context_free(&io);
}

AvioHandle make_avio(int size, void* opaque, int (*read)(void*, std::uint8_t*, int),
                     int (*write)(void*, std::uint8_t*, int),
                     std::int64_t (*seek)(void*, std::int64_t, int)) {
    auto* buffer = static_cast<unsigned char*>(av_malloc(static_cast<std::size_t>(size)));
    if (buffer == nullptr) {
        throw std::bad_alloc();
    }
    AVIOContext* io =
        avio_alloc_context(buffer, size, write != nullptr ? 1 : 0, opaque, read, write, seek);
    if (io == nullptr) {
        av_free(buffer);
        throw std::bad_alloc();
    }
    return AvioHandle(io);
}

AvioHandle make_sink_avio(SinkOutput& output, int buffer_size) {
    return make_avio(buffer_size, &output, nullptr, &write_output, &seek_output);
}

}  // namespace freemkv
