#include "http_get.hpp"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <mutex>

namespace freemkv {
namespace {

// Where MusicBrainz may reach whoever runs this client, as its User-Agent rules ask.
constexpr const char* kContact = "https://github.com/freemkv/freemkvd";

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] {
        CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
        if (rc != CURLE_OK) {
            // call_once runs this again on the next call.
            throw AudioError(std::string("curl_global_init: ") + curl_easy_strerror(rc));
        }
    });
}

struct Transfer {
    std::string body;
    std::size_t max_body = 0;
    bool too_long = false;
    std::stop_token stop;
};

std::size_t on_data(char* data, std::size_t size, std::size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    std::size_t bytes = size * count;
    if (bytes > transfer->max_body - transfer->body.size()) {
        transfer->too_long = true;
        return 0;  // CURLE_WRITE_ERROR
    }
    transfer->body.append(data, bytes);
    return bytes;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return static_cast<Transfer*>(user)->stop.stop_requested() ? 1 : 0;
}

struct CurlDeleter {
    void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};

template <typename T>
void set(CURL* curl, CURLoption option, T value, const std::string& url) {
    CURLcode rc = curl_easy_setopt(curl, option, value);
    if (rc != CURLE_OK) {
        throw AudioError("GET " + url + ": setting up libcurl: " + curl_easy_strerror(rc));
    }
}

}  // namespace

const std::string& http_user_agent() {
    static const std::string agent =
        std::string("freemkvd/") + FREEMKV_VERSION + " ( " + kContact + " )";
    return agent;
}

HttpResponse http_get(const std::string& url, const HttpOptions& options, std::stop_token stop) {
    global_init();
    if (stop.stop_requested()) {
        throw HttpCancelled("GET " + url + ": cancelled");
    }
    std::unique_ptr<CURL, CurlDeleter> handle(curl_easy_init());
    if (!handle) {
        throw AudioError("GET " + url + ": curl_easy_init failed");
    }
    CURL* curl = handle.get();
    Transfer transfer;
    transfer.max_body = options.max_body;
    transfer.stop = stop;
    char error[CURL_ERROR_SIZE] = {};

    set(curl, CURLOPT_ERRORBUFFER, error, url);
    set(curl, CURLOPT_URL, url.c_str(), url);
    set(curl, CURLOPT_PROTOCOLS_STR, "http,https", url);
    set(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https", url);
    set(curl, CURLOPT_FOLLOWLOCATION, 1L, url);
    set(curl, CURLOPT_MAXREDIRS, options.max_redirects, url);
    set(curl, CURLOPT_USERAGENT, http_user_agent().c_str(), url);
    // No SIGALRM for DNS timeouts: this runs on worker threads.
    set(curl, CURLOPT_NOSIGNAL, 1L, url);
    set(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()), url);
    set(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()), url);
    set(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options.max_body), url);
    set(curl, CURLOPT_WRITEFUNCTION, on_data, url);
    set(curl, CURLOPT_WRITEDATA, &transfer, url);
    set(curl, CURLOPT_XFERINFOFUNCTION, on_progress, url);
    set(curl, CURLOPT_XFERINFODATA, &transfer, url);
    set(curl, CURLOPT_NOPROGRESS, 0L, url);

    spdlog::debug("GET {}", url);
    CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_ABORTED_BY_CALLBACK && stop.stop_requested()) {
        throw HttpCancelled("GET " + url + ": cancelled");
    }
    if (transfer.too_long || rc == CURLE_FILESIZE_EXCEEDED) {
        throw AudioError("GET " + url + ": the response is longer than " +
                         std::to_string(options.max_body) + " bytes");
    }
    if (rc != CURLE_OK) {
        throw AudioError("GET " + url + ": " + (error[0] != '\0' ? error : curl_easy_strerror(rc)));
    }
    HttpResponse response;
    rc = curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    if (rc != CURLE_OK) {
        throw AudioError("GET " + url + ": " + curl_easy_strerror(rc));
    }
    if (response.status >= 500) {
        throw AudioError("GET " + url + ": HTTP " + std::to_string(response.status));
    }
    response.body = std::move(transfer.body);
    spdlog::debug("GET {}: HTTP {}, {} bytes", url, response.status, response.body.size());
    return response;
}

}  // namespace freemkv
