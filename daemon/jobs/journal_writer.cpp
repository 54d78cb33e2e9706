#include "journal_writer.hpp"

#include <spdlog/spdlog.h>

namespace freemkv {

JournalWriter::JournalWriter(const JobJournal& journal)
    : journal_(journal), thread_([this](std::stop_token stop) { loop(stop); }) {}

JournalWriter::~JournalWriter() {
    thread_.request_stop();  // the loop writes what is pending before it returns
    thread_.join();
}

void JournalWriter::post(std::vector<JobInfo> snapshot) {
    {
        std::lock_guard lock(mutex_);
        pending_ = std::move(snapshot);
        ++posted_;
    }
    changed_.notify_all();
}

void JournalWriter::flush() {
    std::unique_lock lock(mutex_);
    std::uint64_t wanted = posted_;
    changed_.wait(lock, [&] { return written_ >= wanted; });
}

void JournalWriter::loop(std::stop_token stop) {
    std::unique_lock lock(mutex_);
    while (true) {
        changed_.wait(lock, stop, [&] { return pending_.has_value(); });
        if (!pending_) {
            return;  // stopped with nothing left to write
        }
        std::vector<JobInfo> jobs = std::move(*pending_);
        pending_.reset();
        std::uint64_t number = posted_;
        lock.unlock();
        std::vector<const JobInfo*> list;
        for (const JobInfo& job : jobs) {
            list.push_back(&job);
        }
        try {
            journal_.save(list);
        } catch (const std::exception& e) {
            spdlog::error("cannot save the job journal: {}", e.what());
        }
        lock.lock();
        written_ = number;
        changed_.notify_all();
    }
}

}  // namespace freemkv
