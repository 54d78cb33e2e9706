#include "worker.hpp"

#include <spdlog/spdlog.h>

namespace freemkv {

Worker::Worker() : thread_([this](std::stop_token stop) { run(stop); }) {}

Worker::~Worker() {
    thread_.request_stop();
    wake_.notify_all();
}

void Worker::post(std::function<void()> task) {
    {
        std::lock_guard lock(mutex_);
        tasks_.push_back(std::move(task));
    }
    wake_.notify_one();
}

void Worker::run(std::stop_token stop) {
    while (true) {
        std::function<void()> task;
        {
            std::unique_lock lock(mutex_);
            if (!wake_.wait(lock, stop, [&] { return !tasks_.empty(); })) {
                return;
            }
            task = std::move(tasks_.front());
            tasks_.pop_front();
        }
        try {
            task();
        } catch (const std::exception& e) {
            spdlog::error("background task failed: {}", e.what());
        }
    }
}

}  // namespace freemkv
