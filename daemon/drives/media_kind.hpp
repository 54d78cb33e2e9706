#pragma once

// What kind of medium a drive holds, from udev's cdrom_id properties: an audio CD read as
// 2048-byte data sectors fails at every sector and would be "repaired" for the whole budget into a
// file of zeros, so it goes to the audio stage instead; a blank disc is not ripped at all.

#include <map>
#include <string>

namespace freemkv {

enum class MediaKind {
    data,      // sectors to rip into an image: a DVD, a BD, a CD with a data track in the session
               // of its audio (mixed mode)
    audio_cd,  // a CD with audio tracks (an enhanced CD's data session is left out)
    blank,     // nothing written yet
};

MediaKind media_kind(const std::map<std::string, std::string>& properties);

}  // namespace freemkv
