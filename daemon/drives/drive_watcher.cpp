#include "drive_watcher.hpp"

#include <spdlog/spdlog.h>

#include "sd_check.hpp"

namespace freemkv {

DriveWatcher::DriveWatcher(sd_event* event, Handler on_event) : on_event_(std::move(on_event)) {
    check_sd(sd_device_monitor_new(&monitor_), "sd_device_monitor_new");
    try {
        check_sd(sd_device_monitor_filter_add_match_subsystem_devtype(monitor_, "block", "disk"),
                 "sd_device_monitor_filter_add_match_subsystem_devtype");
        check_sd(sd_device_monitor_attach_event(monitor_, event), "sd_device_monitor_attach_event");
        check_sd(sd_device_monitor_start(monitor_, on_device, this), "sd_device_monitor_start");
    } catch (...) {
        sd_device_monitor_unref(monitor_);
        throw;
    }
}

DriveWatcher::~DriveWatcher() {
    sd_device_monitor_stop(monitor_);
    sd_device_monitor_unref(monitor_);
}

int DriveWatcher::on_device(sd_device_monitor*, sd_device* device, void* self) {
    auto& watcher = *static_cast<DriveWatcher*>(self);
    Drive drive = drive_from(device);
    sd_device_action_t action = _SD_DEVICE_ACTION_INVALID;
    if (int r = sd_device_get_action(device, &action); r < 0) {
        spdlog::warn("udev event for {} without an action: {}", drive.name,
                     std::system_category().message(-r));
        return 0;
    }
    bool managed = action != SD_DEVICE_REMOVE && is_managed(drive.properties);
    try {
        watcher.on_event_(drive, managed);
    } catch (const std::exception& e) {
        // One bad event must not stop the watcher (sd-event would disable the source).
        spdlog::error("udev event for {}: {}", drive.name, e.what());
    }
    return 0;
}

}  // namespace freemkv
