#pragma once

// The interfaces' names, the connection, and proxies built on the glue generated from dbus/*.xml.
// The bus name, object paths and error names are api::*, from dbus/api_names.hpp.

#include <sdbus-c++/sdbus-c++.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "api_names.hpp"
#include "drive_proxy.h"
#include "job_proxy.h"
#include "manager_proxy.h"
#include "telemetry_proxy.h"
#include "utf8.hpp"

namespace freemkv::ctl {

inline constexpr const char* manager_iface = org::freemkv::Rip1::Manager_proxy::INTERFACE_NAME;
inline constexpr const char* job_iface = org::freemkv::Rip1::Job_proxy::INTERFACE_NAME;
inline constexpr const char* telemetry_iface = org::freemkv::Rip1::Telemetry_proxy::INTERFACE_NAME;
inline constexpr const char* drive_iface = org::freemkv::Rip1::Drive_proxy::INTERFACE_NAME;

using Props = std::map<std::string, sdbus::Variant>;

// Reads property `name` into `out` when it is present with the expected type. A string is made
// safe to print (safe_text): an older or a foreign daemon may send a label with a terminal escape
// or a newline in it.
template <typename T>
void read_prop(const Props& props, const char* name, T& out) {
    auto it = props.find(name);
    if (it != props.end() && it->second.containsValueOfType<T>()) {
        out = it->second.get<T>();
        if constexpr (std::is_same_v<T, std::string>) {
            out = safe_text(out);
        }
    }
}

std::unique_ptr<sdbus::IConnection> connect(bool user_bus);

// One blocking Properties.GetAll.
Props get_all(sdbus::IConnection& connection, const std::string& path, const char* iface);

class ManagerProxy final : public sdbus::ProxyInterfaces<org::freemkv::Rip1::Manager_proxy> {
  public:
    explicit ManagerProxy(sdbus::IConnection& connection);
    ~ManagerProxy();

    std::function<void(const std::string& job)> on_added;
    std::function<void(const std::string& job, const std::string& result,
                       const std::string& output)>
        on_ended;

  private:
    void onJobAdded(const uint64_t& id, const sdbus::ObjectPath& job,
                    const std::string& source) override;
    void onJobEnded(const uint64_t& id, const sdbus::ObjectPath& job, const std::string& result,
                    const std::string& output) override;
};

class JobProxy final
    : public sdbus::ProxyInterfaces<org::freemkv::Rip1::Job_proxy,
                                    org::freemkv::Rip1::Telemetry_proxy, sdbus::Properties_proxy> {
  public:
    using Fetched = std::function<void(const sdbus::Error* error, const Props& props)>;
    using Changed = std::function<void(const std::string& iface, const Props& changed,
                                       const std::vector<std::string>& invalidated)>;

    // The signal subscriptions are in place when the constructor returns.
    JobProxy(sdbus::IConnection& connection, const std::string& path, Changed on_changed);
    ~JobProxy();

    // An asynchronous GetAll: `done` runs from the connection's message processing, in order
    // with the signals.
    void fetch(const char* iface, Fetched done);

  private:
    void onCompleted(const bool&, const std::string&) override {}
    void onResized(const std::vector<sdbus::Struct<uint64_t, uint64_t, uint64_t>>&) override {}
    void onPropertiesChanged(const std::string& iface, const Props& changed,
                             const std::vector<std::string>& invalidated) override;

    Changed on_changed_;
};

class DriveProxy final : public sdbus::ProxyInterfaces<org::freemkv::Rip1::Drive_proxy> {
  public:
    DriveProxy(sdbus::IConnection& connection, const std::string& path);
    ~DriveProxy();
};

// "3" or "/org/freemkv/Rip1/job/3" to a listed job's path. Throws UsageError for anything else,
// sdbus::Error NotFound when the daemon does not list it.
std::string resolve_job(ManagerProxy& manager, const std::string& arg);
// A drive's name ("sr0"), device ("/dev/sr0") or object path to its path.
std::string resolve_drive(sdbus::IConnection& connection, ManagerProxy& manager,
                          const std::string& arg);
// The last element of an object path ("3" for a job).
std::string path_tail(const std::string& path);

}  // namespace freemkv::ctl
