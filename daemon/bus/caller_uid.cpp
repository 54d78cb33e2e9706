#include "caller_uid.hpp"

#include <sdbus-c++/IProxy.h>

#include <cstdint>

namespace freemkv::bus {

uid_t caller_uid(sdbus::IConnection& connection, const sdbus::Message& call) {
    auto driver = sdbus::createProxy(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus");
    std::uint32_t uid = 0;
    driver->callMethod("GetConnectionUnixUser")
        .onInterface("org.freedesktop.DBus")
        .withArguments(call.getSender())
        .storeResultsTo(uid);
    return static_cast<uid_t>(uid);
}

}  // namespace freemkv::bus
