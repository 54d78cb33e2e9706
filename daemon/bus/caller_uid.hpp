#pragma once

// Who sent a method call, for the decisions made on a caller's behalf (StartRip's access check).

#include <sdbus-c++/IConnection.h>
#include <sdbus-c++/Message.h>
#include <sys/types.h>

namespace freemkv::bus {

// The uid of the connection that sent `call`, as the bus driver has it: dbus-daemon took it from
// the socket (SO_PEERCRED) when the caller connected. Not sdbus-c++'s getCredsUid(): that reads
// /proc/<pid>/status, which the unit's ProtectProc=invisible hides from the daemon (ENODATA,
// "Failed to get bus cred uid"). Asked on `connection` itself, from a handler on the event loop's
// thread: sdbus-c++ then makes a plain blocking sd_bus_call, and the messages that arrive
// meanwhile wait in sd-bus's queue for the loop.
uid_t caller_uid(sdbus::IConnection& connection, const sdbus::Message& call);

}  // namespace freemkv::bus
