#pragma once

// One thread for the loop's blocking work: path lookups on a filesystem that may hang (a stale
// NFS mount, FUSE), the CDROMEJECT ioctl (seconds on some drives), creating the library's
// directories at a reload. The loop hands a task over and goes on serving; the task posts its
// result back to the loop (EventLoop::post), which replies to the caller. Tasks run one at a time,
// in order.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace freemkv {

class Worker {
  public:
    Worker();
    // Finishes the running task; the ones still waiting are dropped.
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // Runs `task` on the worker thread after the tasks before it. Safe from any thread.
    void post(std::function<void()> task);

  private:
    void run(std::stop_token stop);

    std::mutex mutex_;
    std::condition_variable_any wake_;
    std::deque<std::function<void()>> tasks_;
    std::jthread thread_;  // last: started after the members it uses
};

}  // namespace freemkv
