#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace freemkv {

// 0x00YYCrCb as a DVD's PGC palette holds it (ITU-R BT.601, studio range) to 0xRRGGBB.
std::uint32_t ycrcb_to_rgb(std::uint32_t ycrcb);

// The CodecPrivate of an S_VOBSUB track, as a .idx file starts:
// "size: 720x576\npalette: rrggbb, ... (16 colours)\n".
std::string vobsub_private(int width, int height, const std::array<std::uint32_t, 16>& palette);

}  // namespace freemkv
