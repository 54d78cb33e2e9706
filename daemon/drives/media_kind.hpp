#pragma once

// What kind of medium a drive holds, from udev's cdrom_id properties, so that the daemon does not
// grind through discs it cannot rip yet: an audio CD read as 2048-byte data sectors fails at
// every sector and would be "repaired" for the whole budget into a file of zeros.

#include <map>
#include <string>

namespace freemkv {

enum class MediaKind {
    data,      // something to rip (also a mixed-mode CD: it has a data track)
    audio_cd,  // a CD with audio tracks and no data track
    blank,     // nothing written yet
};

MediaKind media_kind(const std::map<std::string, std::string>& properties);

}  // namespace freemkv
