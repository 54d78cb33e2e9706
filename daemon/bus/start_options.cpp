#include "start_options.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "errors.hpp"

namespace freemkv::bus {

namespace {

// A DVD-Video numbers its titles 1 to 99.
constexpr int max_title = 99;

std::vector<int> parse_titles(const std::string& method, const sdbus::Variant& value) {
    auto bad = [&](const std::string& why) {
        fail(api::error_invalid_args, method + ": option 'titles' " + why);
    };
    if (!value.containsValueOfType<std::vector<std::uint16_t>>()) {
        bad("must be an array of title numbers (aq), got '" + value.peekValueType() + "'");
    }
    auto numbers = value.get<std::vector<std::uint16_t>>();
    if (numbers.empty()) {
        bad("is empty: name at least one title, or leave the option out");
    }
    std::vector<int> titles;
    for (std::uint16_t n : numbers) {
        if (n < 1 || n > max_title) {
            bad("has " + std::to_string(n) + ": title numbers are 1 to " +
                std::to_string(max_title));
        }
        if (std::find(titles.begin(), titles.end(), n) != titles.end()) {
            bad("names title " + std::to_string(n) + " twice");
        }
        titles.push_back(n);
    }
    return titles;
}

}  // namespace

StartOptions parse_start_options(const std::string& method,
                                 const std::map<std::string, sdbus::Variant>& options) {
    StartOptions parsed;
    for (const auto& [key, value] : options) {
        const bool image = method == "StartRipImage";
        if (key == "titles") {
            parsed.titles = parse_titles(method, value);
        } else if (key == "bin" && image) {
            if (!value.containsValueOfType<sdbus::UnixFd>()) {
                fail(api::error_invalid_args, method +
                                                  ": option 'bin' must be the cue sheet's data "
                                                  "file opened for reading (h), got '" +
                                                  value.peekValueType() + "'");
            }
            // Our own copy, close-on-exec (sdbus's is a plain dup).
            sdbus::UnixFd fd = value.get<sdbus::UnixFd>();
            parsed.bin = std::make_shared<UniqueFd>(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0));
            if (!*parsed.bin) {
                fail(api::error_failed,
                     method + ": cannot keep the 'bin' descriptor: " + std::strerror(errno));
            }
        } else {
            fail(api::error_invalid_args,
                 method + ": unknown option '" + key +
                     "' (its options are: " + (image ? "titles, bin" : "titles") + ")");
        }
    }
    return parsed;
}

}  // namespace freemkv::bus
