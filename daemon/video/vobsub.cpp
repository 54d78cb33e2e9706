#include "vobsub.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace freemkv {

std::uint32_t ycrcb_to_rgb(std::uint32_t ycrcb) {
    double y = 1.164 * (static_cast<int>((ycrcb >> 16) & 0xff) - 16);
    double cr = static_cast<int>((ycrcb >> 8) & 0xff) - 128;
    double cb = static_cast<int>(ycrcb & 0xff) - 128;
    auto channel = [](double value) {
        return static_cast<std::uint32_t>(std::clamp(std::lround(value), 0L, 255L));
    };
    return channel(y + 1.596 * cr) << 16 | channel(y - 0.813 * cr - 0.391 * cb) << 8 |
           channel(y + 2.018 * cb);
}

std::string vobsub_private(int width, int height, const std::array<std::uint32_t, 16>& palette) {
    std::string text =
        "size: " + std::to_string(width) + "x" + std::to_string(height) + "\npalette:";
    for (std::size_t i = 0; i < palette.size(); ++i) {
        char colour[8];
        std::snprintf(colour, sizeof colour, "%06x", ycrcb_to_rgb(palette[i]) & 0xffffff);
        text += (i == 0 ? " " : ", ");
        text += colour;
    }
    return text + "\n";
}

}  // namespace freemkv
