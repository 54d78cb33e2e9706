#include "service.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <set>

#include "access.hpp"
#include "drive_object.hpp"
#include "errors.hpp"
#include "job_object.hpp"
#include "manager_object.hpp"
#include "sd_check.hpp"

namespace freemkv::bus {

namespace {

constexpr auto flush_period = std::chrono::milliseconds(250);

int on_stop_signal(sd_event_source* source, const signalfd_siginfo* info, void*) {
    spdlog::info("signal {}: stopping", info->ssi_signo);
    return sd_event_exit(sd_event_source_get_event(source), 0);
}

int on_reload_signal(sd_event_source*, const signalfd_siginfo*, void* service) {
    try {
        static_cast<Service*>(service)->reload();
    } catch (const std::exception& e) {
        // A bad file leaves the running configuration as it was.
        spdlog::error("reload failed, keeping the current configuration: {}", e.what());
    }
    return 0;
}

void add_signal(sd_event* event, int sig, sd_event_signal_handler_t handler, void* userdata) {
    check_sd(sd_event_add_signal(event, nullptr, sig, handler, userdata), "sd_event_add_signal");
}

// sd_notify() to systemd; without NOTIFY_SOCKET (not started by systemd) it does nothing.
void notify(const std::string& state) {
    if (int r = sd_notify(0, state.c_str()); r < 0) {
        spdlog::warn("sd_notify: {}", std::system_category().message(-r));
    }
}

}  // namespace

Service::Service(const Config& config, BusKind bus, ConfigLoader reload_config)
    : config_(config), bus_kind_(bus), reload_config_(std::move(reload_config)) {
    loop_thread_ = std::this_thread::get_id();
    connection_ = bus == BusKind::system ? sdbus::createSystemBusConnection()
                                         : sdbus::createSessionBusConnection();
    loop_.attach(*connection_);
    manager_ = std::make_unique<ManagerObject>(*connection_, *this);
    // The monitor first: an event that races the enumeration is queued, not lost, and the
    // tracker makes a repeat harmless.
    watcher_ = std::make_unique<DriveWatcher>(
        loop_.native(),
        [this](const freemkv::Drive& d, bool managed) { on_drive_event(d, managed); });
    for (const freemkv::Drive& d : enumerate_drives()) {
        if (is_wanted(d.device, config_.drives.watch, config_.drives.ignore)) {
            drives_.emplace(d.name, std::make_unique<DriveObject>(*connection_, d));
        }
    }
    if (drives_.empty()) {
        spdlog::info("no drives yet (udev marks them: FREEMKVD_MANAGED=1 or ID_CDROM=1)");
    }
    queue_ = std::make_unique<JobQueue>(config_.jobs, this);
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
    add_signal(loop_.native(), SIGTERM, on_stop_signal, nullptr);
    add_signal(loop_.native(), SIGINT, on_stop_signal, nullptr);
    add_signal(loop_.native(), SIGHUP, on_reload_signal, this);
    // Sends WATCHDOG=1 from this loop well within WatchdogSec, when systemd asks for it.
    check_sd(sd_event_set_watchdog(loop_.native(), true), "sd_event_set_watchdog");
    // Every object exists; now clients may find us.
    connection_->requestName(api::bus_name);
    spdlog::info("serving {} on the {} bus", api::bus_name,
                 bus_kind_ == BusKind::system ? "system" : "session");
    // The discs already in the drives, as if inserted now.
    for (const auto& [name, drive] : drives_) {
        if (media_.update(drive->drive()) == MediaChange::inserted) {
            media_inserted(drive->drive(), true);
        }
    }
    notify_status();
    notify("READY=1");
    int code = loop_.run();
    notify("STOPPING=1\nSTATUS=stopping: checkpointing running rips");
    // Running rips checkpoint and are queued again at the next start.
    queue_->shutdown();
    connection_->releaseName(api::bus_name);
    return code;
}

void Service::reload() {
    spdlog::info("reloading the configuration");
    notify("RELOADING=1");
    Config fresh;
    try {
        fresh = reload_config_();
    } catch (...) {
        notify("READY=1");
        throw;
    }
    bool library_changed = fresh.jobs.library != config_.jobs.library;
    config_ = fresh;
    queue_->set_options(config_.jobs);
    // The drives, as if udev announced each again: on_drive_event takes in or leaves out what
    // the new watch/ignore globs say; a known drive no longer listed is gone.
    try {
        std::set<std::string> listed;
        for (const freemkv::Drive& d : enumerate_drives()) {
            listed.insert(d.name);
            on_drive_event(d, true);
        }
        for (auto it = drives_.begin(); it != drives_.end();) {
            std::string name = (it++)->first;  // drive_gone() erases it
            if (!listed.contains(name)) {
                drive_gone(name);
            }
        }
    } catch (const std::system_error& e) {
        // The configuration is applied; the drives follow at their next udev event.
        spdlog::warn("cannot list the drives after the reload: {}", e.what());
    }
    if (library_changed) {
        manager_->emitPropertiesChangedSignal(org::freemkv::Rip1::Manager_adaptor::INTERFACE_NAME,
                                              {"LibraryPath"});
    }
    trim_history();
    notify("READY=1");
    spdlog::info("configuration reloaded");
}

void Service::on_drive_event(const freemkv::Drive& drive, bool managed) {
    if (!managed || !is_wanted(drive.device, config_.drives.watch, config_.drives.ignore)) {
        drive_gone(drive.name);
        return;
    }
    auto it = drives_.find(drive.name);
    if (it == drives_.end()) {
        spdlog::info("drive {} ({}) appeared", drive.name, drive.device.string());
        it = drives_.emplace(drive.name, std::make_unique<DriveObject>(*connection_, drive)).first;
    } else {
        it->second->update(drive);
    }
    switch (media_.update(drive)) {
        case MediaChange::inserted:
            media_inserted(drive, false);
            break;
        case MediaChange::removed:
            media_removed(drive.name);
            break;
        case MediaChange::none:
            break;
    }
    notify_status();
}

void Service::drive_gone(const std::string& name) {
    auto it = drives_.find(name);
    if (it == drives_.end()) {
        return;
    }
    spdlog::info("drive {} is gone", name);
    if (media_.forget(name) == MediaChange::removed) {
        media_removed(name);
    }
    drives_.erase(it);
    notify_status();
}

void Service::media_inserted(const freemkv::Drive& drive, bool at_start) {
    std::string label = drive.media_label.empty() ? "(no label)" : drive.media_label;
    spdlog::info("{}: disc {} inserted", drive.name, label);
    if (!config_.drives.auto_rip) {
        return;
    }
    std::string key = media_key(drive);
    if (at_start) {
        // Queued again from the journal, or ripped before the restart: not twice.
        for (const JobInfo& job : queue_->jobs()) {
            if (job.request.drive == drive.name && job.request.media == key) {
                spdlog::info("{}: disc {} already has job {}", drive.name, label, job.id);
                return;
            }
        }
    }
    JobRequest request{.drive = drive.name,
                       .source = drive.device,
                       .udev_props = drive.properties,
                       .media = key,
                       .uid = 0};
    try {
        queue_->submit(std::move(request));
    } catch (const std::exception& e) {
        spdlog::warn("{}: cannot queue a rip of {}: {}", drive.name, label, e.what());
    }
}

void Service::media_removed(const std::string& drive) {
    spdlog::info("{}: disc removed", drive);
    for (const JobInfo& job : queue_->jobs()) {
        if (job.request.drive == drive && job.state == JobState::queued) {
            queue_->cancel(job.id);
        }
    }
}

void Service::notify_status() {
    std::size_t running = queue_ ? queue_->running() : 0;
    std::size_t queued = queue_ ? queue_->queued() : 0;
    std::string status = running || queued ? fmt::format("ripping {}, queued {}", running, queued)
                                           : std::string("idle");
    status += fmt::format("; {} drive{}", drives_.size(), drives_.size() == 1 ? "" : "s");
    if (status != status_) {
        status_ = status;
        notify("STATUS=" + status);
    }
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
        fail(api::error_invalid_args, "no source given: a drive name, device or image path");
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
            fail(api::error_not_found, name + ": " + e.what());
        }
        const freemkv::Drive& d = drive->drive();
        {
            if (!d.media_present) {
                fail(api::error_no_media, d.name + " has no disc in it");
            }
            request.drive = d.name;
            request.source = d.device;
            request.udev_props = d.properties;
            request.media = media_key(d);
        }
    }
    if (request.source.empty()) {
        std::filesystem::path path(source);
        if (source.starts_with("/dev/")) {
            fail(api::error_not_found, source + " is not a drive freemkvd manages");
        }
        if (!path.is_absolute()) {
            fail(api::error_invalid_args, "image path '" + source + "' is not absolute");
        }
        std::error_code ec;
        auto real = std::filesystem::canonical(path, ec);
        if (ec) {
            fail(api::error_not_found, source + ": " + ec.message());
        }
        if (std::string why = read_denied(caller_from_uid(caller), real, &request.file);
            !why.empty()) {
            fail(api::error_not_authorized, why);
        }
        if (!std::filesystem::is_regular_file(real)) {
            fail(api::error_invalid_args, source + " is not a disc image (not a regular file)");
        }
        request.source = real;
    }
    try {
        return JobObject::path_for(queue_->submit(std::move(request)));
    } catch (const BusyError& e) {
        fail(api::error_busy, e.what());
    } catch (const std::invalid_argument& e) {
        fail(api::error_invalid_args, e.what());
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
        if (config_.drives.eject_when_done && job.state == JobState::done &&
            !job.request.drive.empty()) {
            try {
                eject(job.request.source);
                spdlog::info("{}: ejected", job.request.drive);
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
    notify_status();
    if (!changed.empty()) {
        manager_->emitPropertiesChangedSignal(org::freemkv::Rip1::Manager_adaptor::INTERFACE_NAME,
                                              changed);
    }
}

}  // namespace freemkv::bus
