#pragma once

// libdvdcss's interface (libdvdcss 1.4, <dvdcss/dvdcss.h>), declared here because Debian ships
// neither the library nor its header: it is loaded with dlopen when the user installed it
// (css_descrambler.*), as libdvdread loads it. The test double in tests/fixtures implements the
// same declarations.

#include <cstdint>

namespace freemkv::dvdcss {

struct Handle;  // dvdcss_t points at one

struct StreamCallbacks {  // dvdcss_stream_cb
    int (*seek)(void* stream, std::uint64_t byte_offset);
    int (*read)(void* stream, void* buffer, int bytes);
    int (*readv)(void* stream, void* iovecs, int count);
};

inline constexpr int kBlockSize = 2048;  // DVDCSS_BLOCK_SIZE
inline constexpr int kNoFlags = 0;       // DVDCSS_NOFLAGS
inline constexpr int kReadDecrypt = 1;   // DVDCSS_READ_DECRYPT
inline constexpr int kSeekKey = 1 << 1;  // DVDCSS_SEEK_KEY: fetch the title key here

using OpenFn = Handle* (*)(const char* target);
using OpenStreamFn = Handle* (*)(void* stream, StreamCallbacks* callbacks);
using CloseFn = int (*)(Handle*);
using SeekFn = int (*)(Handle*, int block, int flags);
using ReadFn = int (*)(Handle*, void* buffer, int blocks, int flags);
using ErrorFn = const char* (*)(const Handle*);

}  // namespace freemkv::dvdcss
