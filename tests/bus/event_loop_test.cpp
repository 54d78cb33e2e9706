// The event loop on its own: posted tasks keep their order, a flood of bus messages yields to
// timers (and so to the watchdog), and a timer that missed its time during a stall fires once,
// not once per missed period.

#include <gtest/gtest.h>
#include <sdbus-c++/sdbus-c++.h>
#include <systemd/sd-bus.h>

#include <atomic>
#include <thread>
#include <vector>

#include "event_loop.hpp"
#include "support/bus_fixture.hpp"

namespace freemkv {
namespace {

using namespace test;

TEST(EventLoop, PostedTasksRunInTheOrderEachThreadPostedThem) {
    EventLoop loop;
    constexpr int per_thread = 5000;
    std::vector<std::pair<int, int>> ran;  // (thread, sequence), loop thread only
    {
        std::vector<std::jthread> posters;
        for (int t = 0; t < 3; ++t) {
            posters.emplace_back([&, t] {
                for (int i = 0; i < per_thread; ++i) {
                    loop.post([&ran, t, i] { ran.emplace_back(t, i); });
                }
            });
        }
    }
    // Posted after every task above: it runs last.
    loop.post([&] { loop.exit(7); });
    EXPECT_EQ(loop.run(), 7);
    ASSERT_EQ(ran.size(), 3u * per_thread);
    std::vector<int> next(3, 0);
    for (auto [t, i] : ran) {
        EXPECT_EQ(i, next[std::size_t(t)]) << "thread " << t;
        next[std::size_t(t)] = i + 1;
    }
}

TEST(EventLoop, ATimerThatMissedItsTimeFiresOnceAndThenKeepsItsPeriod) {
    EventLoop loop;
    constexpr auto period = std::chrono::milliseconds(50);
    std::vector<Clock::time_point> ticks;
    loop.every(period, [&] {
        ticks.push_back(Clock::now());
        if (ticks.size() == 2) {
            std::this_thread::sleep_for(12 * period);  // a stalled callback
        }
        if (ticks.size() == 6) {
            loop.exit(0);
        }
    });
    EXPECT_EQ(loop.run(), 0);
    ASSERT_EQ(ticks.size(), 6u);
    // Load only makes ticks later; back-to-back catching up would make them early.
    for (std::size_t i = 1; i < ticks.size(); ++i) {
        EXPECT_GE(ticks[i] - ticks[i - 1], period * 9 / 10) << "tick " << i;
    }
}

// A client that sends `count` calls of t.Flood.Work to `dest` without waiting for replies, then
// makes sure the bus has routed them all (a round-trip to the bus driver, which handles its
// client's messages in order).
void flood(const std::string& address, const std::string& dest, int count) {
    sd_bus* bus = nullptr;
    ASSERT_GE(sd_bus_new(&bus), 0);
    ASSERT_GE(sd_bus_set_address(bus, address.c_str()), 0);
    ASSERT_GE(sd_bus_set_bus_client(bus, 1), 0);
    ASSERT_GE(sd_bus_start(bus), 0);
    for (int i = 0; i < count; ++i) {
        sd_bus_message* m = nullptr;
        ASSERT_GE(sd_bus_message_new_method_call(bus, &m, dest.c_str(), "/t", "t.Flood", "Work"),
                  0);
        ASSERT_GE(sd_bus_message_set_expect_reply(m, 0), 0);
        ASSERT_GE(sd_bus_send(bus, m, nullptr), 0);
        sd_bus_message_unref(m);
    }
    ASSERT_GE(sd_bus_flush(bus), 0);
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    ASSERT_GE(sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                 "org.freedesktop.DBus", "GetId", &error, &reply, ""),
              0)
        << error.message;
    sd_bus_message_unref(reply);
    sd_bus_error_free(&error);
    sd_bus_flush_close_unref(bus);
}

TEST(EventLoop, AFloodOfBusCallsLetsTimersRunWhileItIsServed) {
    BusDaemon bus("--session");
    auto connection = sdbus::createSessionBusConnectionWithAddress(bus.address());
    connection->requestName("t.flood");
    EventLoop loop;
    loop.attach(*connection);
    constexpr int calls = 1500;
    int handled = 0;
    auto object = sdbus::createObject(*connection, "/t");
    object->registerMethod("Work").onInterface("t.Flood").implementedAs([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));  // each call costs a little
        if (++handled == calls) {
            loop.exit(0);
        }
    });
    object->finishRegistration();
    std::vector<int> seen;  // `handled` at each tick
    loop.every(std::chrono::milliseconds(20), [&] { seen.push_back(handled); });

    // The whole flood waits at the bus before the loop serves any of it.
    std::thread client([&] { flood(bus.address(), "t.flood", calls); });
    client.join();
    EXPECT_EQ(loop.run(), 0);
    bool mid_flood =
        std::any_of(seen.begin(), seen.end(), [](int h) { return h > 0 && h < calls; });
    EXPECT_TRUE(mid_flood) << "no timer ran while " << calls << " queued calls were served";
}

}  // namespace
}  // namespace freemkv
