#pragma once

// The time a rip still needs, from the bytes it has left and its smoothed read rate.
//
// The rate is an exponential average that keeps decaying while no bytes arrive (a damaged zone,
// the repair pass), so it can approach zero without reaching it. An ETA from such a rate means
// nothing (years) and, once it passes the ~292 years a nanosecond count holds, converting it is
// undefined behaviour. So below min_eta_rate, or beyond max_eta, the ETA is unknown.

#include <chrono>
#include <cstdint>
#include <optional>

#include "chunk_policy.hpp"

namespace freemkv {

// 1 KiB/s: a sweep that reads at all brings far more (a good read is at least one ECC block,
// 32 KiB on BD). Only stalls and single-sector retries in the repair pass fall below it, and
// there the bytes left include sectors that may never read, so no ETA is the honest answer.
inline constexpr double min_eta_rate = 1024;
// A whole BD-XL (128 GB) at min_eta_rate takes about four years; no ETA beyond one year is useful.
inline constexpr Nanos max_eta = std::chrono::hours(24 * 365);

// Nothing when the rate is below min_eta_rate (or not a number) or the ETA would exceed max_eta.
std::optional<Nanos> eta_for(std::uint64_t remaining_bytes, double rate);

}  // namespace freemkv
