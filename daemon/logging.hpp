#pragma once

#include <spdlog/spdlog.h>

namespace freemkv {

// Logs to the journal (with priorities, no timestamps of our own) when stderr is connected to
// it (JOURNAL_STREAM set, as under systemd), else to stderr with timestamps.
void setup_logging(spdlog::level::level_enum level);

}  // namespace freemkv
