#pragma once

#include <string>
#include <string_view>

namespace freemkv {

// The ISO 639-2/B code Matroska wants for an ISO 639-1 code as a DVD's IFO has it ("en" ->
// "eng", "fr" -> "fre", "de" -> "ger"); "und" for an empty or unknown code. The table is generated
// at build time from the iso-codes package (gen-iso639.py), so the daemon reads no file for it.
std::string matroska_language(std::string_view iso639_1);

}  // namespace freemkv
