#pragma once

// Who sent a method call, for the decisions made on a caller's behalf (StartRip's path rule,
// Cancel's owner rule).

#include <sdbus-c++/IConnection.h>
#include <sdbus-c++/Message.h>
#include <sys/types.h>

#include <optional>
#include <vector>

namespace freemkv::bus {

struct Caller {
    uid_t uid = 0;
    // The supplementary groups the kernel gave the caller's socket (SO_PEERGROUPS), as the bus
    // driver has them; nullopt when the bus does not say.
    std::optional<std::vector<gid_t>> groups;
};

// The credentials of the connection that sent `call`, as the bus driver has them
// (GetConnectionCredentials): dbus-daemon took them from the socket when the caller connected.
// Not sdbus-c++'s getCredsUid(): that reads /proc/<pid>/status, which the unit's
// ProtectProc=invisible hides from the daemon (ENODATA, "Failed to get bus cred uid"). Asked on
// `connection` itself, from a handler on the event loop's thread: sdbus-c++ then makes a plain
// blocking sd_bus_call, and the messages that arrive meanwhile wait in sd-bus's queue for the
// loop.
Caller caller_of(sdbus::IConnection& connection, const sdbus::Message& call);
uid_t caller_uid(sdbus::IConnection& connection, const sdbus::Message& call);

}  // namespace freemkv::bus
