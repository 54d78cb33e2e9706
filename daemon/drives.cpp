#include "drives.hpp"

#include <fcntl.h>
#include <linux/cdrom.h>
#include <sys/ioctl.h>
#include <systemd/sd-device.h>

#include <system_error>

#include "io_error.hpp"
#include "unique_fd.hpp"

namespace freemkv {

namespace {

void check(int r, const char* what) {
    if (r < 0) {
        throw std::system_error(-r, std::generic_category(), what);
    }
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
    auto prop = [&](const char* k) {
        auto it = d.properties.find(k);
        return it == d.properties.end() ? std::string() : it->second;
    };
    d.media_present = prop("ID_CDROM_MEDIA") == "1" || !prop("ID_FS_TYPE").empty();
    d.media_label = prop("ID_FS_LABEL");
    return d;
}

}  // namespace

std::vector<Drive> enumerate_drives() {
    sd_device_enumerator* e = nullptr;
    check(sd_device_enumerator_new(&e), "sd_device_enumerator_new");
    std::vector<Drive> drives;
    try {
        check(sd_device_enumerator_add_match_subsystem(e, "block", 1), "match block");
        check(sd_device_enumerator_add_match_property(e, "ID_CDROM", "1"), "match ID_CDROM");
        for (sd_device* dev = sd_device_enumerator_get_device_first(e); dev;
             dev = sd_device_enumerator_get_device_next(e)) {
            drives.push_back(drive_from(dev));
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
    check(sd_device_new_from_subsystem_sysname(&dev, "block", name.c_str()), name.c_str());
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
