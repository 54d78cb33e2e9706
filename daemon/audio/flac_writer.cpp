#include "flac_writer.hpp"

#include <FLAC++/encoder.h>
#include <FLAC++/metadata.h>

#include <array>
#include <exception>

#include "audio_error.hpp"
#include "cd_toc.hpp"
#include "utf8.hpp"

namespace freemkv {

namespace {

constexpr std::uint32_t kSeekPointSamples = 10 * 44100;  // a seek point every 10 s, as flac does

void add(std::vector<std::pair<std::string, std::string>>& out, std::string key,
         std::string_view value) {
    if (!value.empty()) {
        out.emplace_back(std::move(key), safe_text(value));
    }
}

}  // namespace

std::string vorbis_key(std::string_view key) {
    std::string out(key);
    for (char& c : out) {
        auto b = static_cast<unsigned char>(c);
        if (b < 0x20 || b > 0x7d || c == '=') {
            c = '_';
        }
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> vorbis_comments(const FlacTags& tags) {
    std::vector<std::pair<std::string, std::string>> out;
    add(out, "TITLE", tags.title);
    add(out, "ARTIST", tags.artist);
    add(out, "ALBUM", tags.album);
    add(out, "ALBUMARTIST", tags.album_artist);
    if (tags.track_number && *tags.track_number >= 0) {
        add(out, "TRACKNUMBER", std::to_string(*tags.track_number));
    }
    if (tags.track_total > 0) {
        add(out, "TRACKTOTAL", std::to_string(tags.track_total));
    }
    add(out, "MUSICBRAINZ_DISCID", tags.musicbrainz_discid);
    add(out, "MUSICBRAINZ_ALBUMID", tags.musicbrainz_albumid);
    add(out, "ISRC", tags.isrc);
    add(out, "DATE", tags.date);
    for (const auto& [key, value] : tags.extra) {
        if (key.empty()) {
            throw AudioError("a Vorbis comment has an empty key (value \"" + safe_text(value) +
                             "\")");
        }
        add(out, vorbis_key(key), value);
    }
    return out;
}

class FlacWriter::Encoder : public FLAC::Encoder::Stream {
  public:
    Encoder(OutputFile& out, std::uint64_t total_samples) : out_(out), total_(total_samples) {}

    // The base class's destructor would finish an unfinished stream through our callbacks after
    // this object is gone; finish it here, writing nothing (the .part is not published anyway).
    ~Encoder() override {
        if (!finished_) {
            discard_ = true;
            (void)Stream::finish();  // the stream is abandoned: its result does not matter
        }
    }

    [[noreturn]] void fail(const std::string& what) const {
        throw AudioError("FLAC " + out_.final_path().string() + ": " + what);
    }

    [[noreturn]] void fail_encoder() {
        if (!write_error_.empty()) {
            fail(write_error_);
        }
        auto state = get_state();
        std::string what = state.as_cstring();
        if (FLAC__StreamEncoderState(state) == FLAC__STREAM_ENCODER_VERIFY_MISMATCH_IN_AUDIO_DATA) {
            FLAC__uint64 sample = 0;
            std::uint32_t frame = 0;
            std::uint32_t channel = 0;
            std::uint32_t in_frame = 0;
            FLAC__int32 expected = 0;
            FLAC__int32 got = 0;
            get_verify_decoder_error_stats(&sample, &frame, &channel, &in_frame, &expected, &got);
            what += " at sample " + std::to_string(sample) + " (channel " +
                    std::to_string(channel) + ": expected " + std::to_string(expected) +
                    ", decoded " + std::to_string(got) + ")";
        }
        fail(what);
    }

    void check(bool ok, const char* what) const {
        if (!ok) {
            fail(std::string("cannot set ") + what);
        }
    }

    void encode(std::span<const FLAC__int32> interleaved) {
        auto samples = static_cast<std::uint32_t>(interleaved.size() / 2);
        if (samples == 0) {
            return;
        }
        if (written_ + samples > total_) {
            fail("more than the announced " + std::to_string(total_) + " samples");
        }
        if (!process_interleaved(interleaved.data(), samples)) {
            fail_encoder();
        }
        written_ += samples;
    }

    OutputFile& out_;
    std::uint64_t total_;
    std::uint64_t written_ = 0;
    std::uint64_t pos_ = 0;
    std::string write_error_;
    bool finished_ = false;
    bool discard_ = false;
    std::array<std::byte, 4> carry_{};
    std::size_t carry_size_ = 0;
    std::vector<FLAC__int32> buffer_;
    FLAC::Metadata::VorbisComment comments_;
    FLAC::Metadata::SeekTable seek_table_;
    FLAC::Metadata::Padding padding_;

  protected:
    ::FLAC__StreamEncoderWriteStatus write_callback(const FLAC__byte buffer[], std::size_t bytes,
                                                    std::uint32_t, std::uint32_t) override {
        if (discard_) {
            return FLAC__STREAM_ENCODER_WRITE_STATUS_FATAL_ERROR;
        }
        // An exception must not cross libFLAC's C frames: keep its text and report it after.
        try {
            out_.write_at(pos_, std::as_bytes(std::span(buffer, bytes)));
            pos_ += bytes;
            return FLAC__STREAM_ENCODER_WRITE_STATUS_OK;
        } catch (const std::exception& e) {
            write_error_ = e.what();
            return FLAC__STREAM_ENCODER_WRITE_STATUS_FATAL_ERROR;
        }
    }

    ::FLAC__StreamEncoderSeekStatus seek_callback(FLAC__uint64 offset) override {
        pos_ = offset;
        return FLAC__STREAM_ENCODER_SEEK_STATUS_OK;
    }

    ::FLAC__StreamEncoderTellStatus tell_callback(FLAC__uint64* offset) override {
        *offset = pos_;
        return FLAC__STREAM_ENCODER_TELL_STATUS_OK;
    }
};

FlacWriter::FlacWriter(OutputFile& out, std::uint64_t total_samples, const FlacTags& tags,
                       const FlacOptions& options)
    : encoder_(std::make_unique<Encoder>(out, total_samples)) {
    Encoder& e = *encoder_;
    if (options.compression_level < 0 || options.compression_level > 8) {
        e.fail("compression level " + std::to_string(options.compression_level) + " is not 0-8");
    }
    std::vector<std::pair<std::string, std::string>> comments;
    try {
        comments = vorbis_comments(tags);
    } catch (const AudioError& error) {
        e.fail(error.what());
    }
    for (const auto& [key, value] : comments) {
        FLAC::Metadata::VorbisComment::Entry entry(key.c_str(), value.c_str());
        if (!entry.is_valid() || !e.comments_.append_comment(entry)) {
            e.fail("cannot add the Vorbis comment " + key);
        }
    }
    std::vector<FLAC::Metadata::Prototype*> blocks{&e.comments_};
    if (total_samples > 0) {
        e.check(e.seek_table_.template_append_spaced_points_by_samples(kSeekPointSamples,
                                                                       total_samples) &&
                    e.seek_table_.template_sort(true),
                "the seek table");
        blocks.push_back(&e.seek_table_);
    }
    if (options.padding_bytes > 0) {
        e.padding_.set_length(options.padding_bytes);
        blocks.push_back(&e.padding_);
    }
    e.check(e.set_verify(true), "verify");
    e.check(e.set_channels(2), "channels");
    e.check(e.set_bits_per_sample(16), "bits per sample");
    e.check(e.set_sample_rate(kCdSamplesPerFrame * kCdFramesPerSecond), "sample rate");
    e.check(e.set_compression_level(static_cast<std::uint32_t>(options.compression_level)),
            "compression level");
    e.check(e.set_total_samples_estimate(total_samples), "total samples");
    e.check(e.set_metadata(blocks.data(), static_cast<std::uint32_t>(blocks.size())), "metadata");
    auto status = e.init();
    if (status != FLAC__STREAM_ENCODER_INIT_STATUS_OK) {
        if (!e.write_error_.empty()) {
            e.fail(e.write_error_);
        }
        e.fail(std::string("cannot start the encoder: ") +
               FLAC__StreamEncoderInitStatusString[status]);
    }
}

FlacWriter::~FlacWriter() = default;

void FlacWriter::write(std::span<const std::byte> pcm) {
    Encoder& e = *encoder_;
    auto sample = [](const std::byte* p) {
        auto bits = static_cast<std::uint16_t>(std::to_integer<unsigned>(p[0]) |
                                               std::to_integer<unsigned>(p[1]) << 8);
        return static_cast<FLAC__int32>(static_cast<std::int16_t>(bits));
    };
    std::size_t i = 0;
    if (e.carry_size_ > 0) {
        while (e.carry_size_ < e.carry_.size() && i < pcm.size()) {
            e.carry_[e.carry_size_++] = pcm[i++];
        }
        if (e.carry_size_ < e.carry_.size()) {
            return;
        }
        std::array<FLAC__int32, 2> one{sample(&e.carry_[0]), sample(&e.carry_[2])};
        e.carry_size_ = 0;
        e.encode(one);
    }
    constexpr std::size_t kBatchSamples = 4096;
    while (pcm.size() - i >= 4) {
        std::size_t n = std::min((pcm.size() - i) / 4, kBatchSamples);
        e.buffer_.resize(n * 2);
        for (std::size_t s = 0; s < n * 2; ++s, i += 2) {
            e.buffer_[s] = sample(&pcm[i]);
        }
        e.encode(e.buffer_);
    }
    while (i < pcm.size()) {
        e.carry_[e.carry_size_++] = pcm[i++];
    }
}

void FlacWriter::finish() {
    Encoder& e = *encoder_;
    if (e.carry_size_ > 0) {
        e.fail(std::to_string(e.carry_size_) + " bytes left over: not a whole stereo sample");
    }
    if (e.written_ != e.total_) {
        e.fail(std::to_string(e.written_) + " samples came, " + std::to_string(e.total_) +
               " were announced");
    }
    e.finished_ = true;
    if (!e.Stream::finish() || !e.write_error_.empty()) {
        e.fail_encoder();
    }
}

std::uint64_t FlacWriter::samples_written() const {
    return encoder_->written_;
}

}  // namespace freemkv
