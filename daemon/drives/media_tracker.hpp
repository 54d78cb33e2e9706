#pragma once

// Turns udev's view of the drives into insert and removal events. udev sends a `change` for many
// reasons (a media change, a re-probe, `udevadm trigger`, a rule reload), and a real drive sends
// several while a disc spins up, so the tracker remembers each drive's medium (media_key) and
// reports an insert only when a medium appears or a different one replaces it: one insert, one
// job.

#include <map>
#include <string>

#include "drives.hpp"

namespace freemkv {

enum class MediaChange { none, inserted, removed };

class MediaTracker {
  public:
    // The drive's current state, from enumeration or an event.
    MediaChange update(const Drive& drive);
    // The drive is gone (unplugged, or no longer managed). Returns `removed` if it held a medium.
    MediaChange forget(const std::string& drive);

  private:
    std::map<std::string, std::string> media_;  // drive name -> media_key, "" when empty
};

}  // namespace freemkv
