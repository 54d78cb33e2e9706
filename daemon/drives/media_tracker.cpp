#include "media_tracker.hpp"

namespace freemkv {

MediaChange MediaTracker::update(const Drive& drive) {
    std::string key = media_key(drive);
    std::string& known = media_[drive.name];
    if (key == known) {
        return MediaChange::none;
    }
    // A different disc without a removal in between counts as a new insert.
    MediaChange change = key.empty() ? MediaChange::removed : MediaChange::inserted;
    known = std::move(key);
    return change;
}

MediaChange MediaTracker::forget(const std::string& drive) {
    auto it = media_.find(drive);
    if (it == media_.end()) {
        return MediaChange::none;
    }
    bool had_medium = !it->second.empty();
    media_.erase(it);
    return had_medium ? MediaChange::removed : MediaChange::none;
}

}  // namespace freemkv
