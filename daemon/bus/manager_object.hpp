#pragma once

// /org/freemkv/Rip1: the Manager interface and the ObjectManager for jobs and drives. Method
// handlers translate arguments and errors; the decisions are the Service's.

#include <sdbus-c++/sdbus-c++.h>

#include "manager_adaptor.h"

namespace freemkv::bus {

class Service;

class ManagerObject final
    : public sdbus::AdaptorInterfaces<org::freemkv::Rip1::Manager_adaptor,
                                      sdbus::ObjectManager_adaptor, sdbus::Properties_adaptor> {
  public:
    ManagerObject(sdbus::IConnection& connection, Service& service);
    ~ManagerObject();

  private:
    void StartRip(sdbus::Result<sdbus::ObjectPath>&& result, std::string source,
                  std::map<std::string, sdbus::Variant> options) override;
    void StartRipImage(sdbus::Result<sdbus::ObjectPath>&& result, sdbus::UnixFd image,
                       std::map<std::string, sdbus::Variant> options) override;
    void ListTitles(sdbus::Result<std::vector<std::map<std::string, sdbus::Variant>>>&& result,
                    std::string source) override;
    void ListTitlesImage(sdbus::Result<std::vector<std::map<std::string, sdbus::Variant>>>&& result,
                         sdbus::UnixFd image) override;
    std::vector<sdbus::ObjectPath> ListJobs() override;
    std::vector<sdbus::ObjectPath> ListDrives() override;
    void Reload(sdbus::Result<>&& result) override;
    std::string Version() override;
    std::string LibraryPath() override;
    uint32_t QueueLength() override;
    uint32_t RunningJobs() override;

    Service& service_;
};

}  // namespace freemkv::bus
