#pragma once

// The API's names that the interface XML does not hold: the bus name, the object paths and the
// error names. The daemon, freemkvctl and freemkv-notify take them from here.
//
// The interface names are not repeated here: the XML defines them, and the glue generated from
// it carries them as INTERFACE_NAME (org::freemkv::Rip1::Job_adaptor::INTERFACE_NAME on the
// daemon's side, Job_proxy::INTERFACE_NAME on a client's). That is the name sdbus-c++ registers
// and calls, so a copy here could only drift from it.

namespace freemkv::api {

inline constexpr const char* bus_name = "org.freemkv.Rip1";

// The Manager, and the ObjectManager of everything below it.
inline constexpr const char* root_path = "/org/freemkv/Rip1";
// A job's object is the prefix and its id ("/org/freemkv/Rip1/job/3").
inline constexpr const char* job_path_prefix = "/org/freemkv/Rip1/job/";
// A drive's object is below this one, named by its kernel name in sd-bus's path encoding
// (sd_bus_path_encode, sd_bus_path_decode): letters and digits as they are, any other byte as _XX
// ("/org/freemkv/Rip1/drive/sr0", "/org/freemkv/Rip1/drive/dm_2d0" for dm-0).
inline constexpr const char* drive_path_parent = "/org/freemkv/Rip1/drive";

// The named errors a method call can return.
inline constexpr const char* error_not_found = "org.freemkv.Rip1.Error.NotFound";
inline constexpr const char* error_invalid_args = "org.freemkv.Rip1.Error.InvalidArgs";
inline constexpr const char* error_busy = "org.freemkv.Rip1.Error.Busy";
inline constexpr const char* error_no_media = "org.freemkv.Rip1.Error.NoMedia";
inline constexpr const char* error_not_authorized = "org.freemkv.Rip1.Error.NotAuthorized";
inline constexpr const char* error_failed = "org.freemkv.Rip1.Error.Failed";
// ListTitles, ListTitlesImage: the disc or image has no readable DVD-Video (VIDEO_TS) on it.
inline constexpr const char* error_not_dvd_video = "org.freemkv.Rip1.Error.NotDvdVideo";

}  // namespace freemkv::api
