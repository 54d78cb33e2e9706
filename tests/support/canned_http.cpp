#include "canned_http.hpp"

#include <sstream>
#include <stdexcept>
#include <thread>

namespace freemkv::test {
namespace {

std::vector<std::string> server_args(const std::filesystem::path& root,
                                     const std::filesystem::path& log,
                                     const CannedHttp::Options& options) {
    std::vector<std::string> args{FREEMKV_CANNED_HTTP, root.string(), "--log", log.string()};
    if (options.delay_seconds > 0) {
        args.push_back("--delay");
        args.push_back(std::to_string(options.delay_seconds));
    }
    if (options.status != 0) {
        args.push_back("--status");
        args.push_back(std::to_string(options.status));
    }
    for (const std::string& redirect : options.redirects) {
        args.push_back("--redirect");
        args.push_back(redirect);
    }
    return args;
}

}  // namespace

CannedHttp::CannedHttp(const std::filesystem::path& root, const std::filesystem::path& work,
                       const Options& options)
    : log_(work / "canned_http.log"),
      process_("python3", server_args(root, work / "canned_http.log", options),
               work / "canned_http.out", work / "canned_http.err") {
    auto deadline = Process::Clock::now() + std::chrono::seconds(30);
    while (Process::Clock::now() < deadline && process_.running()) {
        std::string out = process_.out();
        if (out.find('\n') != std::string::npos) {
            port_ = std::stoi(out);
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    throw std::runtime_error("canned_http.py did not start:\n" + process_.output());
}

std::string CannedHttp::base() const {
    return "http://127.0.0.1:" + std::to_string(port_);
}

std::vector<std::string> CannedHttp::requests() const {
    std::vector<std::string> lines;
    std::istringstream in(slurp(log_));
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

bool CannedHttp::wait_requests(std::size_t count, Process::Clock::duration timeout) const {
    auto deadline = Process::Clock::now() + timeout;
    while (requests().size() < count) {
        if (Process::Clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

}  // namespace freemkv::test
