#include "drives.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <linux/cdrom.h>
#include <sys/ioctl.h>
#include <systemd/sd-device.h>

#include <string_view>
#include <system_error>

#include "io_error.hpp"
#include "sd_check.hpp"
#include "unique_fd.hpp"

namespace freemkv {

namespace {

std::string property(const std::map<std::string, std::string>& properties, const char* key) {
    auto it = properties.find(key);
    return it == properties.end() ? std::string() : it->second;
}

bool matches_any(const std::filesystem::path& device, const std::vector<std::string>& globs) {
    for (const std::string& glob : globs) {
        if (::fnmatch(glob.c_str(), device.c_str(), FNM_PATHNAME) == 0) {
            return true;
        }
    }
    return false;
}

}  // namespace

bool is_managed(const std::map<std::string, std::string>& properties) {
    if (auto it = properties.find("FREEMKVD_MANAGED"); it != properties.end()) {
        return it->second == "1";
    }
    return property(properties, "ID_CDROM") == "1";
}

bool is_wanted(const std::filesystem::path& device, const std::vector<std::string>& watch,
               const std::vector<std::string>& ignore) {
    return (watch.empty() || matches_any(device, watch)) && !matches_any(device, ignore);
}

std::string media_key(const Drive& drive) {
    if (!drive.media_present) {
        return "";
    }
    std::string key;
    for (const char* name : {"ID_FS_TYPE", "ID_FS_UUID", "ID_FS_LABEL",
                             "ID_CDROM_MEDIA_TRACK_COUNT", "ID_CDROM_MEDIA_SESSION_COUNT"}) {
        key += property(drive.properties, name);
        key += '|';
    }
    for (const auto& [name, value] : drive.properties) {
        // The medium's kind: ID_CDROM_MEDIA_DVD=1, ID_CDROM_MEDIA_BD=1, ...
        if (name.starts_with("ID_CDROM_MEDIA_") && value == "1") {
            key += name.substr(15) + ',';
        }
    }
    return key;
}

Drive drive_from(sd_device* dev) {
    Drive d;
    const char* value = nullptr;
    if (sd_device_get_sysname(dev, &value) >= 0) {
        d.name = value;
    }
    if (sd_device_get_devname(dev, &value) >= 0) {
        d.device = value;
    }
    const char* key = nullptr;
    for (key = sd_device_get_property_first(dev, &value); key;
         key = sd_device_get_property_next(dev, &value)) {
        d.properties[key] = value;
    }
    d.media_present = property(d.properties, "ID_CDROM_MEDIA") == "1" ||
                      !property(d.properties, "ID_FS_TYPE").empty();
    d.media_label = property(d.properties, "ID_FS_LABEL");
    return d;
}

std::vector<Drive> enumerate_drives() {
    sd_device_enumerator* e = nullptr;
    check_sd(sd_device_enumerator_new(&e), "sd_device_enumerator_new");
    std::vector<Drive> drives;
    try {
        check_sd(sd_device_enumerator_add_match_subsystem(e, "block", 1), "match block");
        for (sd_device* dev = sd_device_enumerator_get_device_first(e); dev;
             dev = sd_device_enumerator_get_device_next(e)) {
            const char* devtype = nullptr;
            if (sd_device_get_devtype(dev, &devtype) < 0 || std::string_view(devtype) != "disk") {
                continue;
            }
            Drive d = drive_from(dev);
            if (is_managed(d.properties)) {
                drives.push_back(std::move(d));
            }
        }
    } catch (...) {
        sd_device_enumerator_unref(e);
        throw;
    }
    sd_device_enumerator_unref(e);
    return drives;
}

Drive read_drive(const std::string& name) {
    sd_device* dev = nullptr;
    check_sd(sd_device_new_from_subsystem_sysname(&dev, "block", name.c_str()), name.c_str());
    Drive d = drive_from(dev);
    sd_device_unref(dev);
    return d;
}

void eject(const std::filesystem::path& device) {
    UniqueFd fd(::open(device.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fd) {
        throw IoError("open", device, 0, errno);
    }
    if (::ioctl(fd.get(), CDROMEJECT, 0) != 0 && errno != ENOTTY && errno != EINVAL) {
        throw IoError("eject", device, 0, errno);
    }
}

}  // namespace freemkv
