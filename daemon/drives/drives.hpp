#pragma once

// The drives freemkvd manages, from udev (sd-device), and ejecting a disc.
//
// A drive is managed when udev says so in its current properties: FREEMKVD_MANAGED=1 (set by
// systemd/70-freemkvd.rules on every optical drive), or, where those rules are not installed,
// ID_CDROM=1. FREEMKVD_MANAGED=0 excludes a drive. Tags are not used: udev keeps a tag on a device
// once set, so it cannot say what the device is now.

#include <systemd/sd-device.h>

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

// What the daemon does with drives ([drives] in the configuration).
struct DriveOptions {
    bool auto_rip = true;             // an inserted disc queues a rip
    bool eject_when_done = true;      // open the tray after a successful rip
    std::vector<std::string> watch;   // device globs, e.g. "/dev/sr*"; empty = all optical drives
    std::vector<std::string> ignore;  // device globs to ignore
};

// Whether udev properties describe a drive freemkvd manages (see above).
bool is_managed(const std::map<std::string, std::string>& properties);

// Whether `device` passes the configuration's [drives] watch and ignore globs.
bool is_wanted(const std::filesystem::path& device, const std::vector<std::string>& watch,
               const std::vector<std::string>& ignore);

// What tells one medium from another in udev's view ("" when no medium is present): the
// filesystem's type, uuid and label and the drive's media properties. The same disc taken out and
// put back has the same key; the queue records it so that a restart does not rip a disc twice.
std::string media_key(const Drive& drive);

// The managed whole-disk block devices. Throws std::system_error.
std::vector<Drive> enumerate_drives();

// The drive's current state (media, label, properties) from udev. Throws std::system_error.
Drive read_drive(const std::string& name);

// A Drive from an sd_device (an enumerated device or a monitor event).
Drive drive_from(sd_device* device);

// Opens the tray (CDROMEJECT; for a loop device, which has no tray, nothing happens).
// Throws IoError.
void eject(const std::filesystem::path& device);

}  // namespace freemkv
