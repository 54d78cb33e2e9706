#include "drive_object.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-bus.h>

#include <cstdlib>
#include <memory>

#include "errors.hpp"
#include "io_error.hpp"
#include "sd_check.hpp"

namespace freemkv::bus {

namespace {
constexpr const char* drive_iface = org::freemkv::Rip1::Drive_adaptor::INTERFACE_NAME;
}

std::string DriveObject::path_for(const std::string& name) {
    char* path = nullptr;
    check_sd(sd_bus_path_encode(api::drive_path_parent, name.c_str(), &path), "sd_bus_path_encode");
    std::unique_ptr<char, decltype(&std::free)> owned(path, &std::free);
    return path;
}

DriveObject::DriveObject(sdbus::IConnection& connection, const freemkv::Drive& drive)
    : AdaptorInterfaces(connection, path_for(drive.name)), drive_(drive) {
    registerAdaptor();
    emitInterfacesAddedSignal({drive_iface});
}

DriveObject::~DriveObject() {
    try {
        emitInterfacesRemovedSignal({drive_iface});
    } catch (const sdbus::Error& e) {
        // The connection is gone (the daemon is on its way out); a destructor must not throw.
        spdlog::warn("InterfacesRemoved for {}: {}", getObject().getObjectPath(), e.what());
    }
    unregisterAdaptor();
}

void DriveObject::update(const freemkv::Drive& drive) {
    bool media = drive.media_present != drive_.media_present;
    bool label = drive.media_label != drive_.media_label;
    drive_ = drive;
    std::vector<std::string> changed;
    if (media) {
        changed.push_back("MediaPresent");
    }
    if (label) {
        changed.push_back("MediaLabel");
    }
    if (!changed.empty()) {
        emitPropertiesChangedSignal(drive_iface, changed);
    }
}

void DriveObject::set_busy(bool busy) {
    if (busy != busy_) {
        busy_ = busy;
        emitPropertiesChangedSignal(drive_iface, {"State"});
    }
}

void DriveObject::Eject() {
    if (busy_) {
        fail(api::error_busy, drive_.name + " is ripping; cancel the job first");
    }
    try {
        eject(drive_.device);
    } catch (const IoError& e) {
        fail(api::error_failed, std::string(e.what()) + ": " + e.code().message());
    }
}

}  // namespace freemkv::bus
