#include "drive_manager.hpp"

#include <spdlog/spdlog.h>

#include <system_error>

#include "media_kind.hpp"

namespace freemkv {

JobRequest rip_request(const Drive& drive, std::uint32_t uid) {
    JobRequest request{.drive = drive.name,
                       .source = drive.device,
                       .udev_props = drive.properties,
                       .media = media_key(drive),
                       .uid = uid,
                       .file = {},
                       .refused = {}};
    switch (media_kind(drive.properties)) {
        case MediaKind::audio_cd:
            request.audio = true;
            break;
        case MediaKind::blank:
            request.refused = drive.name + ": the disc is blank, there is nothing to rip";
            break;
        case MediaKind::data:
            break;
    }
    return request;
}

DriveManager::DriveManager(const DriveOptions& options, JobQueue& queue, DriveListener& listener,
                           DriveSystem system)
    : options_(options), queue_(queue), listener_(listener), system_(std::move(system)) {}

void DriveManager::enumerate() {
    for (const Drive& d : system_.enumerate()) {
        if (is_wanted(d.device, options_.watch, options_.ignore) &&
            drives_.emplace(d.name, d).second) {
            listener_.on_added(d);
        }
    }
    if (drives_.empty()) {
        spdlog::info("no drives yet (udev marks them: FREEMKVD_MANAGED=1 or ID_CDROM=1)");
    }
}

void DriveManager::queue_present_discs() {
    for (const auto& [name, drive] : drives_) {
        if (media_.update(drive) == MediaChange::inserted) {
            inserted(drive, true);
        }
    }
}

void DriveManager::on_event(const Drive& drive, bool managed) {
    if (!managed || !is_wanted(drive.device, options_.watch, options_.ignore)) {
        gone(drive.name);
        return;
    }
    auto it = drives_.find(drive.name);
    if (it == drives_.end()) {
        spdlog::info("drive {} ({}) appeared", drive.name, drive.device.string());
        drives_.emplace(drive.name, drive);
        listener_.on_added(drive);
    } else {
        it->second = drive;
        listener_.on_changed(drive);
    }
    switch (media_.update(drive)) {
        case MediaChange::inserted:
            inserted(drive, false);
            break;
        case MediaChange::removed:
            removed(drive.name);
            break;
        case MediaChange::none:
            break;
    }
}

void DriveManager::reload(const DriveOptions& options) {
    options_ = options;
    try {
        std::set<std::string> listed;
        for (const Drive& d : system_.enumerate()) {
            listed.insert(d.name);
            on_event(d, true);
        }
        for (auto it = drives_.begin(); it != drives_.end();) {
            std::string name = (it++)->first;  // gone() erases it
            if (!listed.contains(name)) {
                gone(name);
            }
        }
    } catch (const std::system_error& e) {
        spdlog::warn("cannot list the drives after the reload: {}", e.what());
    }
}

const Drive* DriveManager::find(const std::string& name_or_device) const {
    for (const auto& [name, drive] : drives_) {
        if (name_or_device == name || name_or_device == drive.device.string()) {
            return &drive;
        }
    }
    return nullptr;
}

const Drive& DriveManager::refresh(const std::string& name) {
    Drive& drive = drives_.at(name);
    drive = system_.read(name);
    listener_.on_changed(drive);
    return drive;
}

void DriveManager::on_added(const JobInfo& job) {
    set_busy(job.request.drive, true);
}

void DriveManager::on_acquired(const JobInfo& job) {
    set_busy(job.request.drive, false);
    eject_after(job);
}

void DriveManager::on_ended(const JobInfo& job) {
    if (job.released) {
        return;  // the drive was let go when the acquire stage ended
    }
    set_busy(job.request.drive, false);
    if (job.state == JobState::done) {
        eject_after(job);
    }
}

void DriveManager::eject_after(const JobInfo& job) {
    if (options_.eject_when_done && !job.request.drive.empty()) {
        try {
            system_.eject(job.request.source);
            spdlog::info("{}: ejected", job.request.drive);
        } catch (const std::exception& e) {
            spdlog::warn("cannot eject {}: {}", job.request.drive, e.what());
        }
    }
}

void DriveManager::gone(const std::string& name) {
    auto it = drives_.find(name);
    if (it == drives_.end()) {
        return;
    }
    spdlog::info("drive {} is gone", name);
    if (media_.forget(name) == MediaChange::removed) {
        removed(name);
    }
    drives_.erase(it);
    busy_.erase(name);
    listener_.on_removed(name);
}

void DriveManager::inserted(const Drive& drive, bool at_start) {
    if (media_kind(drive.properties) == MediaKind::blank) {
        spdlog::info("{}: blank disc inserted, ignored", drive.name);
        return;
    }
    std::string label = drive.media_label.empty() ? "(no label)" : drive.media_label;
    spdlog::info("{}: disc {} inserted", drive.name, label);
    if (!options_.auto_rip) {
        return;
    }
    std::string key = media_key(drive);
    if (at_start) {
        // Queued again from the journal, or ripped before the restart: not twice.
        for (const JobInfo& job : queue_.jobs()) {
            if (job.request.drive == drive.name && job.request.media == key) {
                spdlog::info("{}: disc {} already has job {}", drive.name, label, job.id);
                return;
            }
        }
    }
    try {
        queue_.submit(rip_request(drive, 0));
    } catch (const std::exception& e) {
        spdlog::warn("{}: cannot queue a rip of {}: {}", drive.name, label, e.what());
    }
}

void DriveManager::removed(const std::string& name) {
    spdlog::info("{}: disc removed", name);
    for (const JobInfo& job : queue_.jobs()) {
        // A released job extracts from its image: the disc is no longer needed.
        if (job.request.drive == name && job.state == JobState::queued && !job.released) {
            queue_.cancel(job.id);
        }
    }
}

void DriveManager::set_busy(const std::string& name, bool busy) {
    if (!drives_.contains(name) || busy == busy_.contains(name)) {
        return;
    }
    if (busy) {
        busy_.insert(name);
    } else {
        busy_.erase(name);
    }
    listener_.on_busy(name, busy);
}

}  // namespace freemkv
