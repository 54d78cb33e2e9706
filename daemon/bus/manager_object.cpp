#include "manager_object.hpp"

#include "caller_uid.hpp"
#include "errors.hpp"
#include "service.hpp"
#include "start_options.hpp"
#include "title_list.hpp"
#include "utf8.hpp"

namespace freemkv::bus {

ManagerObject::ManagerObject(sdbus::IConnection& connection, Service& service)
    : AdaptorInterfaces(connection, api::root_path), service_(service) {
    registerAdaptor();
}

ManagerObject::~ManagerObject() {
    unregisterAdaptor();
}

namespace {

// The reply of a method whose work goes on after the handler returns (Service::Reply), sent
// from the loop thread.
Service::Reply reply_with(sdbus::Result<sdbus::ObjectPath>&& result) {
    auto shared = std::make_shared<sdbus::Result<sdbus::ObjectPath>>(std::move(result));
    return [shared](const std::string& job, const sdbus::Error* error) {
        if (error) {
            shared->returnError(*error);
        } else {
            shared->returnResults(sdbus::ObjectPath(job));
        }
    };
}

using TitlesResult = sdbus::Result<std::vector<std::map<std::string, sdbus::Variant>>>;

Service::TitlesReply titles_reply_with(TitlesResult&& result) {
    auto shared = std::make_shared<TitlesResult>(std::move(result));
    return [shared](const std::vector<TitleInfo>& titles, const sdbus::Error* error) {
        if (error) {
            shared->returnError(*error);
        } else {
            shared->returnResults(title_dicts(titles));
        }
    };
}

}  // namespace

void ManagerObject::StartRip(sdbus::Result<sdbus::ObjectPath>&& result, std::string source,
                             std::map<std::string, sdbus::Variant> options) {
    StartOptions parsed;
    try {
        parsed = parse_start_options("StartRip", options);
    } catch (const sdbus::Error& e) {
        result.returnError(e);
        return;
    }
    uid_t caller =
        caller_uid(getObject().getConnection(), *getObject().getCurrentlyProcessedMessage());
    service_.start_rip(source, caller, reply_with(std::move(result)), std::move(parsed.titles));
}

void ManagerObject::StartRipImage(sdbus::Result<sdbus::ObjectPath>&& result, sdbus::UnixFd image,
                                  std::map<std::string, sdbus::Variant> options) {
    StartOptions parsed;
    try {
        parsed = parse_start_options("StartRipImage", options);
    } catch (const sdbus::Error& e) {
        result.returnError(e);
        return;
    }
    uid_t caller =
        caller_uid(getObject().getConnection(), *getObject().getCurrentlyProcessedMessage());
    service_.start_rip_image(image.get(), caller, reply_with(std::move(result)),
                             std::move(parsed.titles), std::move(parsed.bin));
}

void ManagerObject::ListTitles(TitlesResult&& result, std::string source) {
    uid_t caller =
        caller_uid(getObject().getConnection(), *getObject().getCurrentlyProcessedMessage());
    service_.list_titles(source, caller, titles_reply_with(std::move(result)));
}

void ManagerObject::ListTitlesImage(TitlesResult&& result, sdbus::UnixFd image) {
    service_.list_titles_image(image.get(), titles_reply_with(std::move(result)));
}

std::vector<sdbus::ObjectPath> ManagerObject::ListJobs() {
    auto paths = service_.job_paths();
    return {paths.begin(), paths.end()};
}

std::vector<sdbus::ObjectPath> ManagerObject::ListDrives() {
    auto paths = service_.drive_paths();
    return {paths.begin(), paths.end()};
}

void ManagerObject::Reload(sdbus::Result<>&& result) {
    auto shared = std::make_shared<sdbus::Result<>>(std::move(result));
    service_.reload([shared](const std::string& error) {
        if (error.empty()) {
            shared->returnResults();
        } else {
            shared->returnError(sdbus::Error(
                api::error_failed, safe_text("the configuration was not reloaded: " + error)));
        }
    });
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
