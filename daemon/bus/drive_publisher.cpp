#include "drive_publisher.hpp"

#include "drive_object.hpp"

namespace freemkv::bus {

DrivePublisher::DrivePublisher(sdbus::IConnection& connection) : connection_(connection) {}

DrivePublisher::~DrivePublisher() = default;

std::vector<std::string> DrivePublisher::paths() const {
    std::vector<std::string> paths;
    for (const auto& [name, object] : objects_) {
        paths.push_back(DriveObject::path_for(name));
    }
    return paths;
}

void DrivePublisher::on_added(const Drive& drive) {
    objects_[drive.name] = std::make_unique<DriveObject>(connection_, drive);
}

void DrivePublisher::on_changed(const Drive& drive) {
    if (auto it = objects_.find(drive.name); it != objects_.end()) {
        it->second->update(drive);
    }
}

void DrivePublisher::on_removed(const std::string& name) {
    objects_.erase(name);
}

void DrivePublisher::on_busy(const std::string& name, bool busy) {
    if (auto it = objects_.find(name); it != objects_.end()) {
        it->second->set_busy(busy);
    }
}

}  // namespace freemkv::bus
