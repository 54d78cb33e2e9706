#pragma once

// DVD LPCM audio into Matroska. Matroska has no codec for DVD's LPCM packets (each starts with a
// 3-byte header, and 20- and 24-bit samples are stored in interleaved groups), so they cannot be
// copied as they are. They are decoded with libavcodec's pcm_dvd decoder, which only rearranges
// bytes, and written as plain little-endian PCM (A_PCM/INT/LIT): 16-bit as 16, 20- and 24-bit as
// 24. Lossless, and cheap next to the video.

#include <memory>
#include <string>

extern "C" {
#include <libavcodec/codec_id.h>
}

struct AVPacket;

namespace freemkv {

class LpcmConverter {
  public:
    // `bits` as the IFO declares them (16, 20 or 24); `name` for errors. Throws RemuxError.
    LpcmConverter(int bits, std::string name);
    ~LpcmConverter();
    LpcmConverter(const LpcmConverter&) = delete;
    LpcmConverter& operator=(const LpcmConverter&) = delete;

    // Replaces the packet's data with its PCM (its timing fields are kept) and returns the
    // samples per channel it now holds: 0 when the decoder keeps them for the next packet (a
    // 20/24-bit group split across packets). Throws RemuxError.
    int convert(AVPacket& packet);

    // What the Matroska track carries.
    static AVCodecID output_codec(int bits);
    static int output_bits(int bits) { return bits == 16 ? 16 : 24; }

  private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace freemkv
