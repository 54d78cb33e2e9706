#pragma once

// The file of a DVD-Video title inside its job's folder, from NamingOptions::title_main and
// ::title_extra. Those templates know three placeholders: {name} (the folder's name), {title}
// and {title:02} (the title's number, the latter with at least two digits); "{{" and "}}" are
// literal braces. The result must lie inside "{name}/", because the folder is what is published
// atomically.

#include <filesystem>
#include <string_view>

namespace freemkv {

// The title's path relative to the folder, with ".mkv" added: "Name.mkv",
// "extras/Name - title 03.mkv". Throws std::invalid_argument for an unknown placeholder, a
// result outside "{name}/" or with an empty, "." or ".." component.
std::filesystem::path title_file(std::string_view tmpl, std::string_view name, int title);

}  // namespace freemkv
