#pragma once

// /org/freemkv/Rip1/drive/NAME: a drive the daemon manages. Strings go out through safe_text()
// (see job_object.hpp).

#include <sdbus-c++/sdbus-c++.h>

#include "drive_adaptor.h"
#include "drives.hpp"
#include "utf8.hpp"

namespace freemkv::bus {

class DriveObject final
    : public sdbus::AdaptorInterfaces<org::freemkv::Rip1::Drive_adaptor,
                                      sdbus::ManagedObject_adaptor, sdbus::Properties_adaptor> {
  public:
    DriveObject(sdbus::IConnection& connection, const freemkv::Drive& drive);
    ~DriveObject();

    // The kernel name in sd-bus's path encoding (sd_bus_path_encode): a name such as "dm-0" is
    // not a valid path element as it is.
    static std::string path_for(const std::string& name);

    void update(const freemkv::Drive& drive);
    void set_busy(bool busy);
    const freemkv::Drive& drive() const { return drive_; }

  private:
    void Eject() override;
    std::string Name() override { return safe_text(drive_.name); }
    std::string Device() override { return safe_text(drive_.device.string()); }
    bool MediaPresent() override { return drive_.media_present; }
    std::string MediaLabel() override { return safe_text(drive_.media_label); }
    std::string State() override { return busy_ ? "ripping" : "idle"; }

    freemkv::Drive drive_;
    bool busy_ = false;
};

}  // namespace freemkv::bus
