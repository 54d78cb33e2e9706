#pragma once

// The daemon's one loop thread, on sd-event. It drives the D-Bus connection (sdbus-c++ 1.2 has
// no sd-event attach, so the connection's fd, events and timeout are refreshed before every
// poll), runs tasks that other threads post(), and runs periodic timers. Everything that touches
// bus objects runs here: sdbus-c++ 1.2 can leave messages emitted from other threads unsent.

#include <systemd/sd-event.h>

#include <chrono>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>

#include "unique_fd.hpp"

namespace sdbus {
class IConnection;
}

namespace freemkv {

class EventLoop {
  public:
    EventLoop();
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // Serves `connection` from this loop. Call once, before run().
    void attach(sdbus::IConnection& connection);
    // Runs `task` on the loop thread soon. Safe from any thread.
    void post(std::function<void()> task);
    // Calls `tick` every `period` on the loop thread.
    void every(std::chrono::microseconds period, std::function<void()> tick);
    // What run() returns when the bus connection is gone: non-zero, so that systemd restarts us.
    static constexpr int exit_lost_bus = 1;

    // Runs until exit(), or until the bus connection is lost; returns the exit code.
    int run();
    // Makes run() return `code`. Loop thread only (post() it from elsewhere).
    void exit(int code);

    sd_event* native() const { return event_; }

  private:
    static int on_wake(sd_event_source*, int, uint32_t, void* self);
    static int on_bus(sd_event_source*, int, uint32_t, void* self);
    static int on_bus_timeout(sd_event_source*, uint64_t, void* self);
    static int on_prepare(sd_event_source*, void* self);
    static int on_timer(sd_event_source*, uint64_t, void* timer);
    void process_bus();
    void lost_bus(const std::exception& e);

    sd_event* event_ = nullptr;
    UniqueFd wake_fd_;
    std::mutex mutex_;
    std::deque<std::function<void()>> tasks_;

    sdbus::IConnection* connection_ = nullptr;
    sd_event_source* bus_io_ = nullptr;
    sd_event_source* bus_timer_ = nullptr;

    struct Timer {
        EventLoop* loop;
        std::chrono::microseconds period;
        std::function<void()> tick;
        sd_event_source* source = nullptr;
    };
    std::deque<Timer> timers_;
};

}  // namespace freemkv
