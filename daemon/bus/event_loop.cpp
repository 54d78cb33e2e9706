#include "event_loop.hpp"

#include <sys/eventfd.h>
#include <time.h>

#include <sdbus-c++/IConnection.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstring>
#include <system_error>

#include "sd_check.hpp"

namespace freemkv {

namespace {

std::uint64_t now_usec() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000 +
           static_cast<std::uint64_t>(ts.tv_nsec) / 1000;
}

}  // namespace

EventLoop::EventLoop() {
    check_sd(sd_event_new(&event_), "sd_event_new");
    wake_fd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake_fd_) {
        throw std::system_error(errno, std::generic_category(), "eventfd");
    }
    check_sd(sd_event_add_io(event_, nullptr, wake_fd_.get(), EPOLLIN, &EventLoop::on_wake, this),
             "sd_event_add_io(eventfd)");
}

EventLoop::~EventLoop() {
    for (Timer& t : timers_) {
        sd_event_source_unref(t.source);
    }
    sd_event_source_unref(bus_io_);
    sd_event_source_unref(bus_timer_);
    sd_event_unref(event_);
}

void EventLoop::attach(sdbus::IConnection& connection) {
    connection_ = &connection;
    auto poll = connection.getEventLoopPollData();
    check_sd(sd_event_add_io(event_, &bus_io_, poll.fd, static_cast<uint32_t>(poll.events),
                             &EventLoop::on_bus, this),
             "sd_event_add_io(bus)");
    check_sd(sd_event_source_set_prepare(bus_io_, &EventLoop::on_prepare), "set_prepare");
    check_sd(sd_event_add_time(event_, &bus_timer_, CLOCK_MONOTONIC, UINT64_MAX, 0,
                               &EventLoop::on_bus_timeout, this),
             "sd_event_add_time(bus)");
    check_sd(sd_event_source_set_enabled(bus_timer_, SD_EVENT_OFF), "disable bus timer");
}

void EventLoop::post(std::function<void()> task) {
    {
        std::lock_guard lock(mutex_);
        tasks_.push_back(std::move(task));
    }
    std::uint64_t one = 1;
    // A full eventfd counter still wakes the loop; nothing else can go wrong here.
    if (::write(wake_fd_.get(), &one, sizeof one) < 0 && errno != EAGAIN) {
        spdlog::error("cannot wake the event loop: {}", std::strerror(errno));
    }
}

void EventLoop::every(std::chrono::microseconds period, std::function<void()> tick) {
    Timer& t = timers_.emplace_back(Timer{this, period, std::move(tick)});
    check_sd(sd_event_add_time_relative(event_, &t.source, CLOCK_MONOTONIC,
                                        static_cast<uint64_t>(period.count()), 0,
                                        &EventLoop::on_timer, &t),
             "sd_event_add_time_relative");
    check_sd(sd_event_source_set_enabled(t.source, SD_EVENT_ON), "enable timer");
}

int EventLoop::run() {
    int r = sd_event_loop(event_);
    check_sd(r, "sd_event_loop");
    return r;
}

void EventLoop::exit(int code) {
    check_sd(sd_event_exit(event_, code), "sd_event_exit");
}

int EventLoop::on_wake(sd_event_source*, int fd, uint32_t, void* self) {
    auto* loop = static_cast<EventLoop*>(self);
    std::uint64_t count;
    if (::read(fd, &count, sizeof count) < 0 && errno != EAGAIN) {
        spdlog::error("event loop wake-up read failed: {}", std::strerror(errno));
    }
    std::deque<std::function<void()>> tasks;
    {
        std::lock_guard lock(loop->mutex_);
        tasks.swap(loop->tasks_);
    }
    for (auto& task : tasks) {
        try {
            task();
        } catch (const std::exception& e) {
            spdlog::error("event loop task failed: {}", e.what());
        }
    }
    return 0;
}

// At most this many messages per callback: a flood of calls must not keep the loop from its
// timers, posted tasks and the watchdog (sd-event sends WATCHDOG=1 between callbacks). The rest
// wait in sd-bus's queue, which makes the connection's timeout "now".
constexpr int max_messages_per_callback = 32;

void EventLoop::process_bus() {
    try {
        for (int i = 0; i < max_messages_per_callback && connection_->processPendingRequest();
             ++i) {
        }
    } catch (const std::exception& e) {
        // sd-bus turns a dropped connection into a Disconnected message first; an error here
        // means the connection is closed for good.
        lost_bus(e);
    }
}

void EventLoop::lost_bus(const std::exception& e) {
    spdlog::error("lost the D-Bus connection ({}): exiting for a restart", e.what());
    sd_event_source_set_enabled(bus_io_, SD_EVENT_OFF);
    sd_event_source_set_enabled(bus_timer_, SD_EVENT_OFF);
    if (int r = sd_event_exit(event_, exit_lost_bus); r < 0) {
        spdlog::error("sd_event_exit: {}", std::strerror(-r));
    }
}

int EventLoop::on_bus(sd_event_source*, int, uint32_t, void* self) {
    static_cast<EventLoop*>(self)->process_bus();
    return 0;
}

int EventLoop::on_bus_timeout(sd_event_source*, uint64_t, void* self) {
    static_cast<EventLoop*>(self)->process_bus();
    return 0;
}

// Before each poll: what the connection wants now (POLLOUT while messages wait to be sent) and
// when its next timeout is. This is what keeps emitted signals from sitting in the queue.
int EventLoop::on_prepare(sd_event_source*, void* self) {
    auto* loop = static_cast<EventLoop*>(self);
    loop->process_bus();
    sdbus::IConnection::PollData poll;
    try {
        poll = loop->connection_->getEventLoopPollData();
    } catch (const std::exception& e) {
        loop->lost_bus(e);
        return 0;
    }
    sd_event_source_set_io_events(loop->bus_io_, static_cast<uint32_t>(poll.events));
    if (poll.timeout_usec == UINT64_MAX) {
        sd_event_source_set_enabled(loop->bus_timer_, SD_EVENT_OFF);
    } else {
        sd_event_source_set_time(loop->bus_timer_, std::max(poll.timeout_usec, now_usec()));
        sd_event_source_set_enabled(loop->bus_timer_, SD_EVENT_ONESHOT);
    }
    return 0;
}

int EventLoop::on_timer(sd_event_source* source, uint64_t, void* timer) {
    auto* t = static_cast<Timer*>(timer);
    try {
        t->tick();
    } catch (const std::exception& e) {
        spdlog::error("timer failed: {}", e.what());
    }
    // From now, not from `usec`: after a stall, one late tick rather than a burst of them.
    sd_event_source_set_time(source, now_usec() + static_cast<uint64_t>(t->period.count()));
    sd_event_source_set_enabled(source, SD_EVENT_ON);
    return 0;
}

}  // namespace freemkv
