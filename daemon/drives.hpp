#pragma once

// The optical drives on this machine, from udev (sd-device), and ejecting a disc.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace freemkv {

struct Drive {
    std::string name;              // kernel name, "sr0"
    std::filesystem::path device;  // "/dev/sr0"
    bool media_present = false;
    std::string media_label;
    std::map<std::string, std::string> properties;  // udev properties (ID_CDROM_MEDIA_*, ...)
};

// Block devices udev marks as optical drives (ID_CDROM=1). Throws std::system_error.
std::vector<Drive> enumerate_drives();

// The drive's current state (media, label, properties) from udev. Throws std::system_error.
Drive read_drive(const std::string& name);

// Opens the tray (CDROMEJECT; for a loop device, which has no tray, nothing happens).
// Throws IoError.
void eject(const std::filesystem::path& device);

}  // namespace freemkv
