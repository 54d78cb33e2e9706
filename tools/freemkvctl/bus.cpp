#include "bus.hpp"

#include <algorithm>

#include "ctl.hpp"

namespace freemkv::ctl {

std::unique_ptr<sdbus::IConnection> connect(bool user_bus) {
    return user_bus ? sdbus::createSessionBusConnection() : sdbus::createSystemBusConnection();
}

Props get_all(sdbus::IConnection& connection, const std::string& path, const char* iface) {
    auto proxy = sdbus::createProxy(connection, api::bus_name, path);
    Props props;
    proxy->callMethod("GetAll")
        .onInterface("org.freedesktop.DBus.Properties")
        .withArguments(std::string(iface))
        .storeResultsTo(props);
    return props;
}

ManagerProxy::ManagerProxy(sdbus::IConnection& connection)
    : ProxyInterfaces(connection, api::bus_name, api::root_path) {
    registerProxy();
}

ManagerProxy::~ManagerProxy() {
    unregisterProxy();
}

void ManagerProxy::onJobAdded(const uint64_t&, const sdbus::ObjectPath& job, const std::string&) {
    if (on_added) {
        on_added(job);
    }
}

void ManagerProxy::onJobEnded(const uint64_t&, const sdbus::ObjectPath& job,
                              const std::string& result, const std::string& output) {
    if (on_ended) {
        on_ended(job, result, safe_text(output));
    }
}

JobProxy::JobProxy(sdbus::IConnection& connection, const std::string& path, Changed on_changed)
    : ProxyInterfaces(connection, api::bus_name, path), on_changed_(std::move(on_changed)) {
    registerProxy();
}

JobProxy::~JobProxy() {
    unregisterProxy();
}

void JobProxy::fetch(const char* iface, Fetched done) {
    // The pending call is owned by the proxy: destroying the proxy cancels it.
    (void)getProxy()
        .callMethodAsync("GetAll")
        .onInterface("org.freedesktop.DBus.Properties")
        .withArguments(std::string(iface))
        .uponReplyInvoke([done = std::move(done)](const sdbus::Error* error, const Props& props) {
            done(error, props);
        });
}

void JobProxy::onPropertiesChanged(const std::string& iface, const Props& changed,
                                   const std::vector<std::string>& invalidated) {
    if (on_changed_) {
        on_changed_(iface, changed, invalidated);
    }
}

DriveProxy::DriveProxy(sdbus::IConnection& connection, const std::string& path)
    : ProxyInterfaces(connection, api::bus_name, path) {
    registerProxy();
}

DriveProxy::~DriveProxy() {
    unregisterProxy();
}

std::string path_tail(const std::string& path) {
    return path.substr(path.rfind('/') + 1);
}

std::string resolve_job(ManagerProxy& manager, const std::string& arg) {
    bool digits = !arg.empty() &&
                  std::all_of(arg.begin(), arg.end(), [](char c) { return c >= '0' && c <= '9'; });
    std::string path;
    if (digits) {
        path = api::job_path_prefix + arg;
    } else if (arg.starts_with(api::job_path_prefix)) {
        path = arg;
    } else {
        throw UsageError("not a job id or job object path: '" + arg + "'");
    }
    auto jobs = manager.ListJobs();
    if (std::find(jobs.begin(), jobs.end(), path) == jobs.end()) {
        throw sdbus::Error(api::error_not_found, "no job " + path_tail(path));
    }
    return path;
}

std::string resolve_drive(sdbus::IConnection& connection, ManagerProxy& manager,
                          const std::string& arg) {
    for (const sdbus::ObjectPath& path : manager.ListDrives()) {
        if (path == arg) {
            return path;
        }
        Props props = get_all(connection, path, drive_iface);
        std::string name, device;
        read_prop(props, "Name", name);
        read_prop(props, "Device", device);
        if (arg == name || arg == device) {
            return path;
        }
    }
    throw sdbus::Error(api::error_not_found, "no drive '" + arg + "'");
}

}  // namespace freemkv::ctl
