#include "service.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>

#include "access.hpp"
#include "drive_object.hpp"
#include "errors.hpp"
#include "job_object.hpp"
#include "manager_object.hpp"

namespace freemkv::bus {

namespace {

constexpr auto flush_period = std::chrono::milliseconds(250);

int on_signal(sd_event_source* source, const signalfd_siginfo* info, void*) {
    spdlog::info("signal {}: stopping", info->ssi_signo);
    return sd_event_exit(sd_event_source_get_event(source), 0);
}

}  // namespace

Service::Service(const Config& config, BusKind bus) : config_(config), bus_kind_(bus) {
    loop_thread_ = std::this_thread::get_id();
    connection_ = bus == BusKind::system ? sdbus::createSystemBusConnection()
                                         : sdbus::createSessionBusConnection();
    loop_.attach(*connection_);
    manager_ = std::make_unique<ManagerObject>(*connection_, *this);
    for (const freemkv::Drive& d : enumerate_drives()) {
        drives_.emplace(d.name, std::make_unique<DriveObject>(*connection_, d));
    }
    queue_ = std::make_unique<JobQueue>(config_, this);
    for (const JobInfo& job : queue_->jobs()) {
        job_object(job);
    }
    trim_history();
    loop_.every(flush_period, [this] { flush(); });
}

Service::~Service() {
    // Stop the workers first: they report into the objects.
    queue_.reset();
}

int Service::run() {
    // main() blocked these in every thread before any was started.
    for (int sig : {SIGTERM, SIGINT}) {
        if (int r = sd_event_add_signal(loop_.native(), nullptr, sig, on_signal, nullptr); r < 0) {
            throw std::system_error(-r, std::generic_category(), "sd_event_add_signal");
        }
    }
    // Every object exists; now clients may find us.
    connection_->requestName(bus_name);
    spdlog::info("serving {} on the {} bus", bus_name,
                 bus_kind_ == BusKind::system ? "system" : "session");
    int code = loop_.run();
    // Running rips checkpoint and are queued again at the next start.
    queue_->shutdown();
    connection_->releaseName(bus_name);
    return code;
}

void Service::on_loop(std::function<void()> task) {
    if (std::this_thread::get_id() == loop_thread_) {
        task();
    } else {
        loop_.post(std::move(task));
    }
}

JobObject& Service::job_object(const JobInfo& job) {
    auto it = jobs_.find(job.id);
    if (it == jobs_.end()) {
        auto cancel = [this](std::uint64_t id) { return queue_->cancel(id); };
        it = jobs_.emplace(job.id, std::make_unique<JobObject>(*connection_, job, cancel)).first;
    }
    return *it->second;
}

void Service::set_drive_busy(const std::string& drive, bool busy) {
    if (auto it = drives_.find(drive); it != drives_.end()) {
        it->second->set_busy(busy);
    }
}

std::string Service::start_rip(const std::string& source, uid_t caller) {
    if (source.empty()) {
        fail(error_invalid_args, "no source given: a drive name, device or image path");
    }
    JobRequest request;
    request.uid = caller;
    for (const auto& [name, drive] : drives_) {
        if (source != drive->drive().name && source != drive->drive().device.string()) {
            continue;
        }
        // Media come and go: ask udev now, not what it said at start-up.
        try {
            drive->update(read_drive(name));
        } catch (const std::system_error& e) {
            fail(error_not_found, name + ": " + e.what());
        }
        const freemkv::Drive& d = drive->drive();
        {
            if (!d.media_present) {
                fail(error_no_media, d.name + " has no disc in it");
            }
            request.drive = d.name;
            request.source = d.device;
            request.udev_props = d.properties;
        }
    }
    if (request.source.empty()) {
        std::filesystem::path path(source);
        if (source.starts_with("/dev/")) {
            fail(error_not_found, source + " is not a drive freemkvd manages");
        }
        if (!path.is_absolute()) {
            fail(error_invalid_args, "image path '" + source + "' is not absolute");
        }
        std::error_code ec;
        auto real = std::filesystem::canonical(path, ec);
        if (ec) {
            fail(error_not_found, source + ": " + ec.message());
        }
        if (std::string why = read_denied(caller_from_uid(caller), real); !why.empty()) {
            fail(error_not_authorized, why);
        }
        if (!std::filesystem::is_regular_file(real)) {
            fail(error_invalid_args, source + " is not a disc image (not a regular file)");
        }
        request.source = real;
    }
    try {
        return JobObject::path_for(queue_->submit(std::move(request)));
    } catch (const BusyError& e) {
        fail(error_busy, e.what());
    } catch (const std::invalid_argument& e) {
        fail(error_invalid_args, e.what());
    }
}

std::vector<std::string> Service::job_paths() const {
    std::vector<std::string> paths;
    for (const auto& [id, job] : jobs_) {
        paths.push_back(JobObject::path_for(id));
    }
    return paths;
}

std::vector<std::string> Service::drive_paths() const {
    std::vector<std::string> paths;
    for (const auto& [name, drive] : drives_) {
        paths.push_back(DriveObject::path_for(name));
    }
    return paths;
}

void Service::on_added(const JobInfo& job) {
    on_loop([this, job] {
        job_object(job);
        manager_->emitJobAdded(job.id, sdbus::ObjectPath(JobObject::path_for(job.id)),
                               job.request.source.string());
        set_drive_busy(job.request.drive, true);
    });
}

void Service::on_progress(const JobInfo& job) {
    on_loop([this, job] { job_object(job).update(job); });
}

void Service::on_resize(const JobInfo& job, const Resize& resize) {
    on_loop([this, job, resize] { job_object(job).add_resize(resize); });
}

void Service::on_ended(const JobInfo& job) {
    on_loop([this, job] {
        JobObject& object = job_object(job);
        object.update(job);
        // The result is readable (properties, Completed) before JobEnded goes out.
        object.complete();
        std::string result = job.result ? std::string(to_string(job.result->outcome)) : "";
        manager_->emitJobEnded(job.id, sdbus::ObjectPath(JobObject::path_for(job.id)), result,
                               object.info().result ? object.info().result->output.string() : "");
        set_drive_busy(job.request.drive, false);
        if (config_.eject_when_done && job.state == JobState::done && !job.request.drive.empty()) {
            try {
                eject(job.request.source);
            } catch (const std::exception& e) {
                spdlog::warn("cannot eject {}: {}", job.request.drive, e.what());
            }
        }
        // Not now: this may run inside the Cancel() handler of the very object trimmed.
        loop_.post([this] { trim_history(); });
    });
}

void Service::trim_history() {
    std::size_t ended = 0;
    for (const auto& [id, job] : jobs_) {
        ended += job->info().ended();
    }
    for (auto it = jobs_.begin(); it != jobs_.end() && ended > config_.history;) {
        if (it->second->info().ended()) {
            it = jobs_.erase(it);  // oldest first: ids grow
            --ended;
        } else {
            ++it;
        }
    }
}

void Service::flush() {
    for (auto& [id, job] : jobs_) {
        job->flush();
    }
    auto queued = static_cast<std::uint32_t>(queue_->queued());
    auto running = static_cast<std::uint32_t>(queue_->running());
    std::vector<std::string> changed;
    if (queued != last_queued_) {
        changed.push_back("QueueLength");
    }
    if (running != last_running_) {
        changed.push_back("RunningJobs");
    }
    last_queued_ = queued;
    last_running_ = running;
    if (!changed.empty()) {
        manager_->emitPropertiesChangedSignal(org::freemkv::Rip1::Manager_adaptor::INTERFACE_NAME,
                                              changed);
    }
}

}  // namespace freemkv::bus
