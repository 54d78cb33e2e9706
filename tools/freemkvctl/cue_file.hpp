#pragma once

// `freemkvctl rip x.cue`: a cue sheet is handed over open with its data file (StartRipImage's
// option "bin"), since the daemon must not open the path the cue names with its own rights. The
// client finds that file the way a player does: the cue's one FILE line, relative to the cue's
// folder.

#include <filesystem>
#include <string_view>

namespace freemkv::ctl {

// A path ending in ".cue", in any case.
bool is_cue_sheet(const std::filesystem::path& path);

// The data file the cue sheet `text` (read from `cue`) names. Throws std::runtime_error naming
// the cue when it has no FILE line or more than one (freemkvd reads cue sheets with one BIN).
std::filesystem::path cue_data_file(const std::filesystem::path& cue, std::string_view text);

}  // namespace freemkv::ctl
