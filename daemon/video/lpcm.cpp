#include "lpcm.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
}

#include <cstdint>
#include <cstring>
#include <new>
#include <vector>

#include "remux_error.hpp"

namespace freemkv {

struct LpcmConverter::State {
    std::string name;
    int bytes_out = 2;  // per sample
    AVCodecContext* context = nullptr;
    AVFrame* frame = nullptr;
    std::vector<std::uint8_t> pcm;

    ~State() {
        av_frame_free(&frame);
        avcodec_free_context(&context);
    }

    [[noreturn]] void fail(const char* what, int code) const {
        char text[AV_ERROR_MAX_STRING_SIZE] = {};
        av_strerror(code, text, sizeof text);
        throw RemuxError(name + ": " + what + ": " + text);
    }

    // Appends the frame's samples, packed, little-endian, `bytes_out` bytes each.
    void append(const AVFrame& f) {
        int samples = f.nb_samples * f.ch_layout.nb_channels;
        std::size_t at = pcm.size();
        pcm.resize(at + static_cast<std::size_t>(samples) * bytes_out);
        if (f.format == AV_SAMPLE_FMT_S16) {
            std::memcpy(pcm.data() + at, f.data[0], static_cast<std::size_t>(samples) * 2);
            return;
        }
        // S32 holds the 20 or 24 bits at its top: its upper three bytes are the 24-bit sample.
        const auto* in = reinterpret_cast<const std::int32_t*>(f.data[0]);
        for (int i = 0; i < samples; ++i) {
            auto v = static_cast<std::uint32_t>(in[i]);
            pcm[at++] = static_cast<std::uint8_t>(v >> 8);
            pcm[at++] = static_cast<std::uint8_t>(v >> 16);
            pcm[at++] = static_cast<std::uint8_t>(v >> 24);
        }
    }
};

LpcmConverter::LpcmConverter(int bits, std::string name) : state_(std::make_unique<State>()) {
    state_->name = std::move(name);
    state_->bytes_out = output_bits(bits) / 8;
    const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_PCM_DVD);
    if (codec == nullptr) {
        throw RemuxError(state_->name + ": this libavcodec has no DVD LPCM decoder");
    }
    state_->context = avcodec_alloc_context3(codec);
    state_->frame = av_frame_alloc();
    if (state_->context == nullptr || state_->frame == nullptr) {
        throw std::bad_alloc();
    }
    // The decoder reads the rate, channels and bits from each packet's header.
    if (int code = avcodec_open2(state_->context, codec, nullptr); code < 0) {
        state_->fail("cannot open the DVD LPCM decoder", code);
    }
}

LpcmConverter::~LpcmConverter() = default;

AVCodecID LpcmConverter::output_codec(int bits) {
    return output_bits(bits) == 16 ? AV_CODEC_ID_PCM_S16LE : AV_CODEC_ID_PCM_S24LE;
}

int LpcmConverter::convert(AVPacket& packet) {
    State& s = *state_;
    if (int code = avcodec_send_packet(s.context, &packet); code < 0) {
        s.fail("cannot decode a DVD LPCM packet", code);
    }
    s.pcm.clear();
    int samples = 0;
    while (true) {
        int code = avcodec_receive_frame(s.context, s.frame);
        if (code == AVERROR(EAGAIN) || code == AVERROR_EOF) {
            break;
        }
        if (code < 0) {
            s.fail("cannot decode a DVD LPCM packet", code);
        }
        if (s.frame->format != AV_SAMPLE_FMT_S16 && s.frame->format != AV_SAMPLE_FMT_S32) {
            throw RemuxError(s.name + ": unexpected DVD LPCM sample format " +
                             std::to_string(s.frame->format));
        }
        s.append(*s.frame);
        samples += s.frame->nb_samples;
        av_frame_unref(s.frame);
    }
    AVPacket* timing = av_packet_alloc();
    if (timing == nullptr) {
        throw std::bad_alloc();
    }
    av_packet_copy_props(timing, &packet);
    std::int64_t pos = packet.pos;
    int stream = packet.stream_index;
    av_packet_unref(&packet);
    int code = av_new_packet(&packet, static_cast<int>(s.pcm.size()));
    if (code == 0) {
        av_packet_copy_props(&packet, timing);
    }
    av_packet_free(&timing);
    if (code < 0) {
        s.fail("cannot hold the PCM", code);
    }
    if (!s.pcm.empty()) {
        std::memcpy(packet.data, s.pcm.data(), s.pcm.size());
    }
    packet.pos = pos;
    packet.stream_index = stream;
    return samples;
}

}  // namespace freemkv
