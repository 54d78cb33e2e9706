#include "logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>

#include <cstdlib>

namespace freemkv {

void setup_logging(spdlog::level::level_enum level) {
    std::shared_ptr<spdlog::logger> logger;
    if (std::getenv("JOURNAL_STREAM") != nullptr) {
        logger = std::make_shared<spdlog::logger>(
            "freemkvd", std::make_shared<spdlog::sinks::systemd_sink_mt>("freemkvd"));
        logger->set_pattern("%v");
    } else {
        logger = spdlog::stderr_color_mt("freemkvd");
        logger->set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
    }
    logger->set_level(level);
    spdlog::set_default_logger(logger);
}

}  // namespace freemkv
