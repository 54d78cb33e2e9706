#pragma once

// The drives on the bus: one DriveObject per drive the DriveManager manages, kept up to date from
// its DriveListener calls (loop thread).

#include <sdbus-c++/sdbus-c++.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "drive_manager.hpp"

namespace freemkv::bus {

class DriveObject;

class DrivePublisher final : public DriveListener {
  public:
    explicit DrivePublisher(sdbus::IConnection& connection);
    ~DrivePublisher();

    std::vector<std::string> paths() const;

    void on_added(const Drive& drive) override;
    void on_changed(const Drive& drive) override;
    void on_removed(const std::string& name) override;
    void on_busy(const std::string& name, bool busy) override;

  private:
    sdbus::IConnection& connection_;
    std::map<std::string, std::unique_ptr<DriveObject>> objects_;
};

}  // namespace freemkv::bus
