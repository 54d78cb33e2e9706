#include "job_publisher.hpp"

#include "job_object.hpp"
#include "manager_object.hpp"
#include "utf8.hpp"

namespace freemkv::bus {

JobPublisher::JobPublisher(sdbus::IConnection& connection, EventLoop& loop, ManagerObject& manager,
                           unsigned history)
    : connection_(connection),
      loop_(loop),
      manager_(manager),
      history_(history),
      loop_thread_(std::this_thread::get_id()) {}

JobPublisher::~JobPublisher() = default;

void JobPublisher::attach(JobQueue& queue, JobListener& next) {
    queue_ = &queue;
    next_ = &next;
    for (const JobInfo& job : queue.jobs()) {
        object(job);
    }
    trim();
}

void JobPublisher::set_history(unsigned history) {
    history_ = history;
    trim();
}

std::vector<std::string> JobPublisher::paths() const {
    std::vector<std::string> paths;
    for (const auto& [id, job] : jobs_) {
        paths.push_back(JobObject::path_for(id));
    }
    return paths;
}

void JobPublisher::on_added(const JobInfo& job) {
    on_loop([this, job] {
        object(job);
        manager_.emitJobAdded(job.id, sdbus::ObjectPath(JobObject::path_for(job.id)),
                              safe_text(job.request.source.string()));
        next_->on_added(job);
    });
}

void JobPublisher::on_progress(const JobInfo& job) {
    on_loop([this, job] {
        object(job).update(job);
        next_->on_progress(job);
    });
}

void JobPublisher::on_resize(const JobInfo& job, const Resize& resize) {
    on_loop([this, job, resize] {
        object(job).add_resize(resize);
        next_->on_resize(job, resize);
    });
}

void JobPublisher::on_acquired(const JobInfo& job) {
    on_loop([this, job] {
        object(job).update(job);
        next_->on_acquired(job);
    });
}

void JobPublisher::on_ended(const JobInfo& job) {
    on_loop([this, job] {
        JobObject& o = object(job);
        o.update(job);
        // The result is readable (properties, Completed) before JobEnded goes out.
        o.complete();
        std::string result = job.result ? std::string(to_string(job.result->outcome)) : "";
        manager_.emitJobEnded(job.id, sdbus::ObjectPath(JobObject::path_for(job.id)), result,
                              o.info().result ? o.output_path() : "");
        next_->on_ended(job);
        // Not now: this may run inside the Cancel() handler of the very object trimmed.
        loop_.post([this] { trim(); });
    });
}

void JobPublisher::interrupted(const std::vector<std::uint64_t>& ids) {
    for (std::uint64_t id : ids) {
        auto it = jobs_.find(id);
        if (it == jobs_.end()) {
            continue;
        }
        it->second->interrupt();
        manager_.emitJobEnded(id, sdbus::ObjectPath(JobObject::path_for(id)),
                              std::string(interrupted_name), "");
    }
}

void JobPublisher::flush() {
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
        manager_.emitPropertiesChangedSignal(org::freemkv::Rip1::Manager_adaptor::INTERFACE_NAME,
                                             changed);
    }
}

void JobPublisher::on_loop(std::function<void()> task) {
    if (std::this_thread::get_id() == loop_thread_) {
        task();
    } else {
        loop_.post(std::move(task));
    }
}

JobObject& JobPublisher::object(const JobInfo& job) {
    auto it = jobs_.find(job.id);
    if (it == jobs_.end()) {
        auto cancel = [this](std::uint64_t id) { return queue_->cancel(id); };
        it = jobs_.emplace(job.id, std::make_unique<JobObject>(connection_, job, cancel)).first;
    }
    return *it->second;
}

void JobPublisher::trim() {
    std::size_t ended = 0;
    for (const auto& [id, job] : jobs_) {
        ended += job->info().ended();
    }
    for (auto it = jobs_.begin(); it != jobs_.end() && ended > history_;) {
        if (it->second->info().ended()) {
            it = jobs_.erase(it);  // oldest first: ids grow
            --ended;
        } else {
            ++it;
        }
    }
}

}  // namespace freemkv::bus
