#include "caller_uid.hpp"

#include <sdbus-c++/IProxy.h>

#include <cstdint>
#include <map>
#include <string>

namespace freemkv::bus {

Caller caller_of(sdbus::IConnection& connection, const sdbus::Message& call) {
    auto driver = sdbus::createProxy(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus");
    std::map<std::string, sdbus::Variant> credentials;
    driver->callMethod("GetConnectionCredentials")
        .onInterface("org.freedesktop.DBus")
        .withArguments(call.getSender())
        .storeResultsTo(credentials);
    auto uid = credentials.find("UnixUserID");
    if (uid == credentials.end()) {
        throw sdbus::Error("org.freedesktop.DBus.Error.Failed",
                           "the bus does not say who the caller is (no UnixUserID)");
    }
    Caller caller;
    caller.uid = static_cast<uid_t>(uid->second.get<std::uint32_t>());
    if (auto groups = credentials.find("UnixGroupIDs"); groups != credentials.end()) {
        auto ids = groups->second.get<std::vector<std::uint32_t>>();
        caller.groups.emplace(ids.begin(), ids.end());
    }
    return caller;
}

uid_t caller_uid(sdbus::IConnection& connection, const sdbus::Message& call) {
    return caller_of(connection, call).uid;
}

}  // namespace freemkv::bus
