#include "eta.hpp"

namespace freemkv {

std::optional<Nanos> eta_for(std::uint64_t remaining_bytes, double rate) {
    if (!(rate >= min_eta_rate)) {  // also NaN
        return std::nullopt;
    }
    // In double seconds first: the comparison keeps the cast to nanoseconds in range.
    double seconds = static_cast<double>(remaining_bytes) / rate;
    if (seconds > std::chrono::duration<double>(max_eta).count()) {
        return std::nullopt;
    }
    return std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(seconds));
}

}  // namespace freemkv
