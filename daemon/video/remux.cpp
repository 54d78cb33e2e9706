#include "remux.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
}
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdarg>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "avio.hpp"
#include "dvd_stream.hpp"
#include "iso639.hpp"
#include "lpcm.hpp"
#include "mpeg_timestamps.hpp"
#include "title_reader.hpp"
#include "vobsub.hpp"

namespace freemkv {
namespace {

constexpr AVRational k90kHz{1, 90000};
constexpr int kReadBuffer = 64 * 1024;
constexpr int kWriteBuffer = 256 * 1024;
constexpr std::uint64_t kProgressSectors = 2048;  // 4 MiB

// libav's messages to spdlog; it would print them on stderr.
void log_from_libav(void* context, int level, const char* format, va_list args) {
    if (level > AV_LOG_INFO) {
        return;
    }
    char line[1024];
    int prefix = 1;
    if (av_log_format_line2(context, level, format, args, line, sizeof line, &prefix) < 0) {
        return;
    }
    std::string_view text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.remove_suffix(1);
    }
    if (level <= AV_LOG_WARNING) {
        spdlog::warn("libav: {}", text);
    } else {
        spdlog::debug("libav: {}", text);
    }
}

std::string av_error(int code) {
    char text[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(code, text, sizeof text);
    return text;
}

std::chrono::milliseconds to_ms(std::int64_t ticks) {
    return std::chrono::milliseconds(av_rescale(ticks, 1000, 90000));
}

struct Input {
    TitleReader& reader;
    std::stop_token stop;
    const std::function<void(const RemuxProgress&)>& progress;
    std::uint64_t total = 0;
    std::uint64_t next_progress = kProgressSectors;
    std::exception_ptr error;
};

int read_input(void* opaque, std::uint8_t* buffer, int size) {
    auto* input = static_cast<Input*>(opaque);
    if (input->stop.stop_requested()) {
        return AVERROR_EXIT;
    }
    try {
        std::size_t n = input->reader.read({buffer, static_cast<std::size_t>(size)});
        if (input->progress && input->reader.sectors_read() >= input->next_progress) {
            input->progress(
                {.sectors_done = input->reader.sectors_read(), .sectors_total = input->total});
            input->next_progress = input->reader.sectors_read() + kProgressSectors;
        }
        return n == 0 ? AVERROR_EOF : static_cast<int>(n);
    } catch (...) {
        input->error = std::current_exception();
        return AVERROR(EIO);
    }
}

struct InputCloser {
    void operator()(AVFormatContext* context) const { avformat_close_input(&context); }
};
struct OutputCloser {
    void operator()(AVFormatContext* context) const { avformat_free_context(context); }
};
struct PacketFree {
    void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};

enum class Kind { video, audio, subtitle };

struct Track {
    Kind kind = Kind::video;
    int index = 0;  // in the output
    std::int64_t frame_duration = 0;
    std::optional<std::size_t> cell;
    VideoTimestamps video{3600};
    AudioTimestamps audio;
    std::unique_ptr<LpcmConverter> lpcm;  // DVD LPCM, converted to plain PCM
    int sample_rate = 48000;
};

// 90 kHz ticks of one frame of the audio codec the stream id names (48 kHz on DVD).
std::int64_t audio_frame_ticks(int stream_id) {
    if (stream_id >= 0x80 && stream_id <= 0x87) {
        return 1536 * 90000 / 48000;  // AC-3
    }
    if (stream_id >= 0x88 && stream_id <= 0x8f) {
        return 512 * 90000 / 48000;  // DTS
    }
    if (stream_id >= 0x1c0 && stream_id <= 0x1c7) {
        return 1152 * 90000 / 48000;  // MPEG audio layer II
    }
    return 0;
}

AVCodecID audio_codec(int stream_id) {
    if (stream_id >= 0x80 && stream_id <= 0x87) {
        return AV_CODEC_ID_AC3;
    }
    if (stream_id >= 0x88 && stream_id <= 0x8f) {
        return AV_CODEC_ID_DTS;
    }
    if (stream_id >= 0x1c0 && stream_id <= 0x1c7) {
        return AV_CODEC_ID_MP2;
    }
    return AV_CODEC_ID_NONE;
}

class Remuxer {
  public:
    Remuxer(const std::filesystem::path& image, const TitleInfo& title, ByteSink& sink,
            const std::function<void(const RemuxProgress&)>& progress, std::stop_token stop)
        : name_(image.string() + ": title " + std::to_string(title.number)),
          title_(title),
          dvd_(image),
          reader_(dvd_, title),
          input_{.reader = reader_, .stop = stop, .progress = progress, .total = title.sectors},
          output_{.sink = sink} {}

    RemuxResult run() {
        open_input();
        open_output();
        copy_packets();
        finish_output();
        if (input_.progress) {
            input_.progress(
                {.sectors_done = reader_.sectors_read(), .sectors_total = title_.sectors});
        }
        RemuxResult result;
        result.duration = to_ms(reader_.duration());
        result.video_frames = video_frames_;
        for (std::size_t cell : title_.chapter_cells) {
            if (cell < reader_.cells().size()) {
                result.chapter_starts.push_back(to_ms(reader_.cells()[cell].output_start));
            }
        }
        result.bytes_written = static_cast<std::uint64_t>(output_.size);
        return result;
    }

  private:
    // Turns a libav failure into the exception that caused it: a cancel, the reader's or the
    // sink's error, or a RemuxError naming what failed.
    [[noreturn]] void fail(std::string_view what, int code) {
        if (input_.stop.stop_requested()) {
            throw RemuxCancelled(name_ + ": cancelled");
        }
        if (input_.error) {
            std::rethrow_exception(input_.error);
        }
        if (output_.error) {
            std::rethrow_exception(output_.error);
        }
        throw RemuxError(name_ + ": " + std::string(what) + ": " + av_error(code));
    }

    void open_input() {
        input_io_ = make_avio(kReadBuffer, &input_, &read_input, nullptr, nullptr);
        AVFormatContext* context = avformat_alloc_context();
        if (context == nullptr) {
            throw std::bad_alloc();
        }
        context->pb = input_io_.get();
        // NOFILLIN: a frame's PTS is there only when its PES brought one, so the repair knows
        // which ones it has to derive.
        context->flags |= AVFMT_FLAG_CUSTOM_IO | AVFMT_FLAG_NOFILLIN;
        int code = avformat_open_input(&context, nullptr, av_find_input_format("mpeg"), nullptr);
        if (code < 0) {
            fail("cannot read the title as an MPEG program stream", code);
        }
        in_.reset(context);
    }

    AVStream* add_stream(Kind kind, int stream_id, const std::string& language) {
        AVStream* stream = avformat_new_stream(out_.get(), nullptr);
        if (stream == nullptr) {
            throw std::bad_alloc();
        }
        Track& track = tracks_[stream_id];
        track.kind = kind;
        track.index = stream->index;
        if (!language.empty() || kind != Kind::video) {
            av_dict_set(&stream->metadata, "language", matroska_language(language).c_str(), 0);
        }
        return stream;
    }

    void open_output() {
        AVFormatContext* context = nullptr;
        int code = avformat_alloc_output_context2(&context, nullptr, "matroska", nullptr);
        if (code < 0) {
            fail("cannot create the Matroska muxer", code);
        }
        out_.reset(context);

        const VideoFormat& format = title_.video;
        AVStream* video = add_stream(Kind::video, 0x1e0, "");
        video->codecpar->codec_type = AVMEDIA_TYPE_VIDEO;
        video->codecpar->codec_id = AV_CODEC_ID_MPEG2VIDEO;
        video->codecpar->width = format.width;
        video->codecpar->height = format.height;
        AVRational display{format.wide ? 16 : 4, format.wide ? 9 : 3};
        av_reduce(&video->codecpar->sample_aspect_ratio.num,
                  &video->codecpar->sample_aspect_ratio.den,
                  static_cast<std::int64_t>(display.num) * format.height,
                  static_cast<std::int64_t>(display.den) * format.width, 1 << 16);
        video->sample_aspect_ratio = video->codecpar->sample_aspect_ratio;
        video->avg_frame_rate = {format.frame_rate_num, format.frame_rate_den};
        video->r_frame_rate = video->avg_frame_rate;
        video->time_base = k90kHz;
        Track& video_track = tracks_[0x1e0];
        video_track.frame_duration =
            av_rescale(90000, format.frame_rate_den, format.frame_rate_num);
        video_track.video = VideoTimestamps(video_track.frame_duration);

        for (const AudioStream& audio : title_.audio) {
            bool lpcm = audio.stream_id >= 0xa0 && audio.stream_id <= 0xaf;
            AVCodecID codec =
                lpcm ? LpcmConverter::output_codec(audio.bits) : audio_codec(audio.stream_id);
            if (codec == AV_CODEC_ID_NONE) {
                spdlog::warn(
                    "{}: audio stream {} ({}, {}) left out: Matroska cannot carry it as is", name_,
                    audio.stream_id, audio.codec, audio.language);
                continue;
            }
            AVStream* stream = add_stream(Kind::audio, audio.stream_id, audio.language);
            stream->codecpar->codec_type = AVMEDIA_TYPE_AUDIO;
            stream->codecpar->codec_id = codec;
            stream->codecpar->sample_rate = audio.sample_rate;
            av_channel_layout_default(&stream->codecpar->ch_layout, audio.channels);
            stream->time_base = k90kHz;
            Track& track = tracks_[audio.stream_id];
            track.frame_duration = audio_frame_ticks(audio.stream_id);
            track.sample_rate = audio.sample_rate;
            if (lpcm) {
                int bits = LpcmConverter::output_bits(audio.bits);
                stream->codecpar->bits_per_coded_sample = bits;
                stream->codecpar->block_align = audio.channels * bits / 8;
                track.lpcm = std::make_unique<LpcmConverter>(
                    audio.bits, name_ + ": audio stream " + std::to_string(audio.stream_id));
            }
        }

        std::string palette = vobsub_private(format.width, format.height, title_.palette);
        for (const SubpictureStream& subpicture : title_.subpictures) {
            AVStream* stream =
                add_stream(Kind::subtitle, subpicture.stream_id, subpicture.language);
            stream->codecpar->codec_type = AVMEDIA_TYPE_SUBTITLE;
            stream->codecpar->codec_id = AV_CODEC_ID_DVD_SUBTITLE;
            stream->codecpar->width = format.width;
            stream->codecpar->height = format.height;
            stream->codecpar->extradata = static_cast<std::uint8_t*>(
                av_mallocz(palette.size() + AV_INPUT_BUFFER_PADDING_SIZE));
            if (stream->codecpar->extradata == nullptr) {
                throw std::bad_alloc();
            }
            std::memcpy(stream->codecpar->extradata, palette.data(), palette.size());
            stream->codecpar->extradata_size = static_cast<int>(palette.size());
            stream->time_base = k90kHz;
        }

        add_chapters();

        output_io_ = make_sink_avio(output_, kWriteBuffer);
        out_->pb = output_io_.get();
        out_->flags |= AVFMT_FLAG_CUSTOM_IO;
        code = avformat_write_header(out_.get(), nullptr);
        if (code < 0) {
            fail("cannot write the Matroska header", code);
        }
    }

    void add_chapters() {
        const auto& cells = reader_.cells();
        std::int64_t end = reader_.duration();
        for (std::size_t i = 0; i < title_.chapter_cells.size(); ++i) {
            std::size_t cell = title_.chapter_cells[i];
            if (cell >= cells.size()) {
                continue;
            }
            auto* chapter = static_cast<AVChapter*>(av_mallocz(sizeof(AVChapter)));
            if (chapter == nullptr) {
                throw std::bad_alloc();
            }
            chapter->id = static_cast<std::int64_t>(i + 1);
            chapter->time_base = k90kHz;
            chapter->start = cells[cell].output_start;
            chapter->end =
                i + 1 < title_.chapter_cells.size() && title_.chapter_cells[i + 1] < cells.size()
                    ? cells[title_.chapter_cells[i + 1]].output_start
                    : end;
            char chapter_name[32];
            std::snprintf(chapter_name, sizeof chapter_name, "Chapter %02zu", i + 1);
            av_dict_set(&chapter->metadata, "title", chapter_name, 0);
            auto* grown = static_cast<AVChapter**>(
                av_realloc_array(out_->chapters, out_->nb_chapters + 1, sizeof(AVChapter*)));
            if (grown == nullptr) {
                av_dict_free(&chapter->metadata);
                av_free(chapter);
                throw std::bad_alloc();
            }
            out_->chapters = grown;
            out_->chapters[out_->nb_chapters++] = chapter;
        }
    }

    void copy_packets() {
        std::unique_ptr<AVPacket, PacketFree> packet(av_packet_alloc());
        if (!packet) {
            throw std::bad_alloc();
        }
        while (true) {
            int code = av_read_frame(in_.get(), packet.get());
            if (code == AVERROR_EOF) {
                break;
            }
            if (code < 0 || input_.error) {
                fail("cannot read the title", code);
            }
            if (input_.stop.stop_requested()) {
                fail("", 0);
            }
            AVStream* in_stream = in_->streams[packet->stream_index];
            auto found = tracks_.find(in_stream->id);
            if (found != tracks_.end() && found->second.lpcm) {
                int samples = found->second.lpcm->convert(*packet);
                packet->duration =
                    av_rescale_q(samples, {1, found->second.sample_rate}, in_stream->time_base);
                if (samples == 0) {
                    av_packet_unref(packet.get());
                    continue;
                }
            }
            if (found == tracks_.end() || !retime(found->second, *packet, in_stream->time_base)) {
                av_packet_unref(packet.get());
                continue;
            }
            AVStream* out_stream = out_->streams[found->second.index];
            packet->stream_index = found->second.index;
            packet->pos = -1;
            av_packet_rescale_ts(packet.get(), k90kHz, out_stream->time_base);
            code = av_interleaved_write_frame(out_.get(), packet.get());
            if (code < 0) {
                fail("cannot write a packet", code);
            }
        }
    }

    // Places the packet on the output's time line; false to drop it.
    bool retime(Track& track, AVPacket& packet, AVRational time_base) {
        std::size_t cell = track.cell.value_or(0);
        if (packet.pos >= 0) {
            cell = reader_.cell_at(packet.pos);
        }
        bool cell_start = track.cell != cell;
        track.cell = cell;
        const CellTiming& timing = reader_.cells().at(cell);
        std::optional<std::int64_t> pts;
        if (packet.pts != AV_NOPTS_VALUE) {
            pts = av_rescale_q(packet.pts, time_base, k90kHz) - timing.start_ptm +
                  timing.output_start;
        }
        switch (track.kind) {
            case Kind::video: {
                auto picture = parse_picture({packet.data, static_cast<std::size_t>(packet.size)});
                auto stamp = track.video.next(pts, picture, cell_start);
                packet.pts = stamp.pts;
                packet.dts = stamp.dts;
                packet.duration = track.frame_duration;
                ++video_frames_;
                return true;
            }
            case Kind::audio: {
                std::int64_t duration = packet.duration > 0
                                            ? av_rescale_q(packet.duration, time_base, k90kHz)
                                            : track.frame_duration;
                // PCM is not resynced at a cell start: its packets are not frames, and
                // dropping one to line up with the cell's PTS would lose samples. It still
                // follows a real jump, like the other codecs.
                auto time = track.audio.next(pts, duration, cell_start && !track.lpcm);
                if (!time || *time < 0) {
                    return false;
                }
                packet.pts = packet.dts = *time;
                packet.duration = duration;
                return true;
            }
            case Kind::subtitle:
                if (!pts || *pts < 0) {
                    return false;
                }
                packet.pts = packet.dts = *pts;
                packet.duration =
                    packet.duration > 0 ? av_rescale_q(packet.duration, time_base, k90kHz) : 0;
                return true;
        }
        return false;
    }

    void finish_output() {
        int code = av_write_trailer(out_.get());
        if (code < 0) {
            fail("cannot finish the Matroska file", code);
        }
        avio_flush(out_->pb);
        if (output_.error) {
            std::rethrow_exception(output_.error);
        }
    }

    std::string name_;
    const TitleInfo& title_;
    DvdImage dvd_;
    TitleReader reader_;
    Input input_;
    SinkOutput output_;
    AvioHandle input_io_;
    AvioHandle output_io_;
    std::unique_ptr<AVFormatContext, InputCloser> in_;
    std::unique_ptr<AVFormatContext, OutputCloser> out_;
    std::map<int, Track> tracks_;
    std::uint64_t video_frames_ = 0;
};

}  // namespace

RemuxResult remux_title(const std::filesystem::path& image, const TitleInfo& title, ByteSink& out,
                        const std::function<void(const RemuxProgress&)>& progress,
                        std::stop_token stop) {
    static std::once_flag log_once;
    std::call_once(log_once, [] { av_log_set_callback(&log_from_libav); });
    if (title.cells.empty()) {
        throw RemuxError(image.string() + ": title " + std::to_string(title.number) +
                         " has no cells");
    }
    Remuxer remuxer(image, title, out, progress, std::move(stop));
    return remuxer.run();
}

}  // namespace freemkv
