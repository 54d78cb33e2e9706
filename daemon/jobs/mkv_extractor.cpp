#include "mkv_extractor.hpp"

#include "byte_sink.hpp"
#include "remux.hpp"

namespace freemkv {

namespace {

class OutputSink : public ByteSink {
  public:
    explicit OutputSink(OutputFile& file) : file_(file) {}
    void write_at(std::uint64_t offset, std::span<const std::byte> data) override {
        file_.write_at(offset, data);
    }

  private:
    OutputFile& file_;
};

}  // namespace

TitleExtractor mkv_extractor() {
    return [](const std::filesystem::path& image, const TitleInfo& title, OutputFile& out,
              const TitleProgress& progress, std::stop_token stop) {
        OutputSink sink(out);
        remux_title(
            image, title, sink, [&](const RemuxProgress& p) { progress(p.sectors_done * 2048); },
            stop);
    };
}

}  // namespace freemkv
