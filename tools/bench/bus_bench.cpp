// bus_bench: the two sides of tools/bench-bus, on the bus at ADDRESS (a private session bus).
//
//   bus_bench watch ADDRESS N
//       N client connections, each subscribed to every PropertiesChanged of org.freemkv.Rip1 and
//       calling Properties.GetAll on the changed object and interface for every one, as a UI that
//       does not trust the changed values would. Each connection has its own thread. Prints
//       "ready" once every match rule is in place; on SIGINT or SIGTERM prints
//       "SIGNALS REPLIES ERRORS" (totals over all clients) and exits.
//   bus_bench rip ADDRESS IMAGE
//       StartRip(IMAGE), then waits for its JobEnded. Prints "BYTES SECONDS RESULT OUTPUT",
//       SECONDS from the call to the signal.

#include <signal.h>

#include <sdbus-c++/sdbus-c++.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api_names.hpp"
#include "manager_proxy.h"

namespace {

constexpr const char* kName = freemkv::api::bus_name;
constexpr const char* kRoot = freemkv::api::root_path;
constexpr const char* kManager = org::freemkv::Rip1::Manager_proxy::INTERFACE_NAME;
constexpr const char* kProperties = "org.freedesktop.DBus.Properties";

using Clock = std::chrono::steady_clock;
using Props = std::map<std::string, sdbus::Variant>;

std::atomic<std::uint64_t> signals_seen{0};
std::atomic<std::uint64_t> replies{0};
std::atomic<std::uint64_t> errors{0};

// One watching client. Its proxies are only touched from its connection's thread.
class Watcher {
  public:
    explicit Watcher(const std::string& address)
        : connection_(sdbus::createSessionBusConnectionWithAddress(address)) {
        std::string rule = std::string("type='signal',sender='") + kName + "',interface='" +
                           kProperties + "',member='PropertiesChanged',path_namespace='" + kRoot +
                           "'";
        match_ =
            connection_->addMatch(rule, [this](sdbus::Message& message) { on_changed(message); });
        connection_->enterEventLoopAsync();
    }
    ~Watcher() { connection_->leaveEventLoop(); }

  private:
    void on_changed(sdbus::Message& message) {
        ++signals_seen;
        std::string iface;
        message >> iface;
        std::string path = message.getPath();
        auto& proxy = proxies_[path];
        if (!proxy) {
            proxy = sdbus::createProxy(*connection_, kName, path);
        }
        proxy->callMethodAsync("GetAll")
            .onInterface(kProperties)
            .withArguments(iface)
            .uponReplyInvoke(
                [](const sdbus::Error* error, const Props&) { ++(error ? errors : replies); });
    }

    std::unique_ptr<sdbus::IConnection> connection_;
    sdbus::Slot match_;
    std::map<std::string, std::unique_ptr<sdbus::IProxy>> proxies_;
};

int watch(const std::string& address, int clients) {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // before the connections' threads start
    std::vector<std::unique_ptr<Watcher>> watchers;
    for (int i = 0; i < clients; ++i) {
        watchers.push_back(std::make_unique<Watcher>(address));
    }
    std::printf("ready\n");
    std::fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    watchers.clear();
    std::printf("%llu %llu %llu\n", static_cast<unsigned long long>(signals_seen.load()),
                static_cast<unsigned long long>(replies.load()),
                static_cast<unsigned long long>(errors.load()));
    return 0;
}

int rip(const std::string& address, const std::string& image) {
    auto connection = sdbus::createSessionBusConnectionWithAddress(address);
    auto manager = sdbus::createProxy(*connection, kName, kRoot);
    std::mutex mutex;
    std::condition_variable cv;
    struct Ended {
        std::string result, output;
        Clock::time_point at;
    };
    std::map<std::string, Ended> ended;
    manager->uponSignal("JobEnded")
        .onInterface(kManager)
        .call([&](std::uint64_t, const sdbus::ObjectPath& job, const std::string& result,
                  const std::string& output) {
            std::lock_guard lock(mutex);
            ended[job] = {result, output, Clock::now()};
            cv.notify_all();
        });
    manager->finishRegistration();
    connection->enterEventLoopAsync();

    auto start = Clock::now();
    sdbus::ObjectPath job;
    manager->callMethod("StartRip")
        .onInterface(kManager)
        .withArguments(image, Props{})
        .storeResultsTo(job);
    std::unique_lock lock(mutex);
    if (!cv.wait_for(lock, std::chrono::minutes(30), [&] { return ended.count(job) > 0; })) {
        std::fprintf(stderr, "bus_bench: %s did not end within 30 minutes\n", job.c_str());
        return 1;
    }
    const Ended& e = ended[job];
    std::printf(
        "%llu %.3f %s %s\n", static_cast<unsigned long long>(std::filesystem::file_size(image)),
        std::chrono::duration<double>(e.at - start).count(), e.result.c_str(), e.output.c_str());
    lock.unlock();
    connection->leaveEventLoop();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string mode = argc > 1 ? argv[1] : "";
    try {
        if (argc == 4 && mode == "watch") {
            return watch(argv[2], std::atoi(argv[3]));
        }
        if (argc == 4 && mode == "rip") {
            return rip(argv[2], argv[3]);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bus_bench: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr, "usage: bus_bench watch ADDRESS N | bus_bench rip ADDRESS IMAGE\n");
    return 2;
}
