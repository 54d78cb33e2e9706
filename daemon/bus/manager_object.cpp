#include "manager_object.hpp"

#include "caller_uid.hpp"
#include "errors.hpp"
#include "service.hpp"
#include "utf8.hpp"

namespace freemkv::bus {

ManagerObject::ManagerObject(sdbus::IConnection& connection, Service& service)
    : AdaptorInterfaces(connection, api::root_path), service_(service) {
    registerAdaptor();
}

ManagerObject::~ManagerObject() {
    unregisterAdaptor();
}

sdbus::ObjectPath ManagerObject::StartRip(const std::string& source,
                                          const std::map<std::string, sdbus::Variant>& options) {
    if (!options.empty()) {
        fail(api::error_invalid_args,
             "StartRip takes no options yet, got '" + options.begin()->first + "'");
    }
    uid_t caller =
        caller_uid(getObject().getConnection(), *getObject().getCurrentlyProcessedMessage());
    return sdbus::ObjectPath(service_.start_rip(source, caller));
}

sdbus::ObjectPath ManagerObject::StartRipImage(
    const sdbus::UnixFd& image, const std::map<std::string, sdbus::Variant>& options) {
    if (!options.empty()) {
        fail(api::error_invalid_args,
             "StartRipImage takes no options yet, got '" + options.begin()->first + "'");
    }
    uid_t caller =
        caller_uid(getObject().getConnection(), *getObject().getCurrentlyProcessedMessage());
    return sdbus::ObjectPath(service_.start_rip_image(image.get(), caller));
}

std::vector<sdbus::ObjectPath> ManagerObject::ListJobs() {
    auto paths = service_.job_paths();
    return {paths.begin(), paths.end()};
}

std::vector<sdbus::ObjectPath> ManagerObject::ListDrives() {
    auto paths = service_.drive_paths();
    return {paths.begin(), paths.end()};
}

void ManagerObject::Reload() {
    try {
        service_.reload();
    } catch (const std::exception& e) {
        fail(api::error_failed, std::string("the configuration was not reloaded: ") + e.what());
    }
}

std::string ManagerObject::Version() {
    return FREEMKV_VERSION;
}
std::string ManagerObject::LibraryPath() {
    return safe_text(service_.config().jobs.library.string());
}
uint32_t ManagerObject::QueueLength() {
    return static_cast<uint32_t>(service_.queue().queued());
}
uint32_t ManagerObject::RunningJobs() {
    return static_cast<uint32_t>(service_.queue().running());
}

}  // namespace freemkv::bus
