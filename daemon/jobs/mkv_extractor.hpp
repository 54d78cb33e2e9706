#pragma once

// The daemon's title extractor: a DVD-Video title remuxed to Matroska (remux.hpp) and written
// through the job's OutputFile, so the MKV goes through the same writeback pipeline as the rip.

#include "extract_stage.hpp"

namespace freemkv {

// Progress is reported in bytes of the title read from the image (its sectors x 2048), which is
// what the title's artifact counts as its total.
TitleExtractor mkv_extractor();

}  // namespace freemkv
