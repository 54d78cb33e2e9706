#pragma once

// One HTTP GET through libcurl, for the optional online lookups (MusicBrainz, AccurateRip).
//
// Only http and https, also across redirects. The User-Agent is "freemkvd/<version> ( <contact> )"
// as MusicBrainz requires of every client. libcurl's global state is initialised once, on first
// use; http_get may then be called from any number of threads at once (each call has its own
// handle, and libcurl is told not to use signals).
//
// Blocks the calling thread for at most about `timeout`, or until `stop` is requested (libcurl
// looks at it from its progress callback, at least once a second while a transfer idles).

#include <chrono>
#include <cstddef>
#include <stop_token>
#include <string>

#include "audio_error.hpp"

namespace freemkv {

struct HttpOptions {
    std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
    std::chrono::milliseconds timeout{std::chrono::seconds(30)};  // the whole transfer
    long max_redirects = 5;
    std::size_t max_body = 8 * 1024 * 1024;  // bytes; a longer body is an error
};

struct HttpResponse {
    long status = 0;  // the final response's, after redirects
    std::string body;
};

// Thrown when `stop` was requested before the transfer ended.
class HttpCancelled : public AudioError {
  public:
    using AudioError::AudioError;
};

// The User-Agent every request sends.
const std::string& http_user_agent();

// GETs `url`. Any status below 500 is returned (404 is how a database says it has no entry); the
// caller decides what else it accepts. Throws AudioError naming the URL and the reason for a
// transport error (DNS, connect, TLS, a timeout, a protocol other than http/https, too many
// redirects), a body over `max_body`, or a 5xx status; HttpCancelled when `stop` was requested.
HttpResponse http_get(const std::string& url, const HttpOptions& options = {},
                      std::stop_token stop = {});

}  // namespace freemkv
