#pragma once

// CD-TEXT as UTF-8. Internal to daemon/audio (cd_source.cpp), in its own file to be tested.

#include <string>
#include <string_view>

namespace freemkv {

// The text libcdio returns for a cue sheet's TITLE or PERFORMER, as valid UTF-8 without control
// characters. libcdio 2.1 reads a cue's text as ISO-8859-1 and converts it to UTF-8, so a cue
// written in UTF-8 (as most are now) comes back double-encoded ("CafÃ©"): when `text` maps back
// to Latin-1 bytes that are valid UTF-8 with a non-ASCII character, those bytes are the text.
std::string cue_text(std::string_view text);

}  // namespace freemkv
