#pragma once

// Watches udev for the drives freemkvd manages, with an sd-device monitor on the caller's
// sd-event loop: every add, change and remove of a whole-disk block device, after udev's rules
// ran, reaches `on_event` with the device's current state. A device that is removed, or that
// udev no longer marks as managed, arrives with `managed` false.

#include <systemd/sd-device.h>
#include <systemd/sd-event.h>

#include <functional>

#include "drives.hpp"

namespace freemkv {

class DriveWatcher {
  public:
    using Handler = std::function<void(const Drive& drive, bool managed)>;

    // Starts watching at once. Throws std::system_error.
    DriveWatcher(sd_event* event, Handler on_event);
    ~DriveWatcher();
    DriveWatcher(const DriveWatcher&) = delete;
    DriveWatcher& operator=(const DriveWatcher&) = delete;

  private:
    static int on_device(sd_device_monitor*, sd_device* device, void* self);

    sd_device_monitor* monitor_ = nullptr;
    Handler on_event_;
};

}  // namespace freemkv
