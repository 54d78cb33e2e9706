#include "dvd_by_fd.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <string_view>

#include "dvd_titles.hpp"

namespace freemkv {

struct DvdByFd::State {
    std::string name;
    std::string last_error;
};

namespace {

void log_from_dvdread(void* priv, dvd_logger_level_t level, const char* format, va_list args) {
    auto* state = static_cast<DvdByFd::State*>(priv);
    char buffer[512];
    int length = std::vsnprintf(buffer, sizeof buffer, format, args);
    if (length < 0) {
        return;
    }
    std::string_view text(buffer, std::min<std::size_t>(length, sizeof buffer - 1));
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.remove_suffix(1);
    }
    spdlog::debug("{}: libdvdread: {}", state->name, text);
    if (level == DVD_LOGGER_LEVEL_ERROR) {
        state->last_error = text;
    }
}

const dvd_logger_cb logger{&log_from_dvdread};

}  // namespace

DvdByFd::DvdByFd(int fd, const std::filesystem::path& name)
    : state_(std::make_unique<State>(State{.name = name.string(), .last_error = {}})) {
    auto path = "/proc/self/fd/" + std::to_string(fd);
    dvd_ = DVDOpen2(state_.get(), &logger, path.c_str());
    if (dvd_ == nullptr) {
        throw DvdError(
            name.string() + ": cannot open it as a DVD" +
            (state_->last_error.empty() ? "" : " (libdvdread: " + state_->last_error + ")"));
    }
}

DvdByFd::~DvdByFd() {
    if (dvd_ != nullptr) {
        DVDClose(dvd_);
    }
}

const std::string& DvdByFd::name() const {
    return state_->name;
}

const std::string& DvdByFd::last_error() const {
    return state_->last_error;
}

}  // namespace freemkv
