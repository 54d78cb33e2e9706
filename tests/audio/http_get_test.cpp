#include "http_get.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <thread>

#include "support/canned_http.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::CannedHttp;

void write(const std::filesystem::path& path, const std::string& content) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
}

// The message of the AudioError `get` throws ("" if it throws none).
template <typename Get>
std::string error_of(Get get) {
    try {
        get();
    } catch (const AudioError& e) {
        return e.what();
    }
    return "";
}

class HttpGet : public ::testing::Test {
  protected:
    test::TempDir dir;
    std::filesystem::path root = dir / "www";
    void SetUp() override { std::filesystem::create_directories(root); }
};

TEST_F(HttpGet, ReturnsTheBodyAndSendsTheUserAgent) {
    write(root / "a" / "b.txt", "hello\n");
    CannedHttp server(root, dir.path());
    HttpResponse r = http_get(server.base() + "/a/b.txt?x=1");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "hello\n");
    ASSERT_EQ(server.requests().size(), 1u);
    EXPECT_EQ(server.requests()[0], "/a/b.txt?x=1\t" + http_user_agent());
    EXPECT_EQ(http_user_agent().rfind(std::string("freemkvd/") + "0.", 0), 0u) << http_user_agent();
    EXPECT_NE(http_user_agent().find(" ( https://"), std::string::npos) << http_user_agent();
}

TEST_F(HttpGet, NotFoundIsAResultNotAnError) {
    CannedHttp server(root, dir.path());
    HttpResponse r = http_get(server.base() + "/missing");
    EXPECT_EQ(r.status, 404);
}

TEST_F(HttpGet, ServerErrorThrowsNamingTheUrl) {
    CannedHttp server(root, dir.path(), {.status = 503});
    std::string url = server.base() + "/ws/2/discid/x";
    std::string error = error_of([&] { http_get(url); });
    EXPECT_NE(error.find(url), std::string::npos) << error;
    EXPECT_NE(error.find("503"), std::string::npos) << error;
}

TEST_F(HttpGet, NothingListeningThrowsNamingTheUrl) {
    int port = 0;
    {
        CannedHttp server(root, dir.path());
        port = server.port();
    }
    std::string url = "http://127.0.0.1:" + std::to_string(port) + "/x";
    std::string error = error_of([&] { http_get(url); });
    EXPECT_NE(error.find(url), std::string::npos) << error;
    EXPECT_NE(error.find("onnect"), std::string::npos) << error;
}

TEST_F(HttpGet, HangingServerTimesOutWithinTheTimeout) {
    CannedHttp server(root, dir.path(), {.delay_seconds = 120});
    HttpOptions options;
    options.timeout = 1s;
    std::string url = server.base() + "/slow";
    auto start = Clock::now();
    std::string error = error_of([&] { http_get(url, options); });
    auto took = Clock::now() - start;
    EXPECT_NE(error.find(url), std::string::npos) << error;
    EXPECT_GE(took, 900ms);
    EXPECT_LT(took, 1s + 10s);  // margin for a loaded machine; the server would hang 120 s
    EXPECT_NE(error.find("timed out"), std::string::npos) << error;
}

TEST_F(HttpGet, StopCancelsAHangingRequestPromptly) {
    CannedHttp server(root, dir.path(), {.delay_seconds = 120});
    HttpOptions options;
    options.timeout = 120s;
    std::stop_source stop;
    auto result = std::async(std::launch::async, [&] {
        try {
            http_get(server.base() + "/slow", options, stop.get_token());
        } catch (const HttpCancelled&) {
            return std::string("cancelled");
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::string("returned");
    });
    ASSERT_TRUE(server.wait_requests(1, 30s));
    auto start = Clock::now();
    stop.request_stop();
    ASSERT_EQ(result.wait_for(15s), std::future_status::ready);
    EXPECT_LT(Clock::now() - start, 15s);
    EXPECT_EQ(result.get(), "cancelled");
}

TEST_F(HttpGet, AStopRequestedBeforeStartSendsNothing) {
    CannedHttp server(root, dir.path());
    std::stop_source stop;
    stop.request_stop();
    EXPECT_THROW(http_get(server.base() + "/x", {}, stop.get_token()), HttpCancelled);
    EXPECT_TRUE(server.requests().empty());
}

TEST_F(HttpGet, BodyOverTheCapThrows) {
    write(root / "big", std::string(5000, 'x'));
    CannedHttp server(root, dir.path());
    HttpOptions options;
    options.max_body = 4999;
    std::string error = error_of([&] { http_get(server.base() + "/big", options); });
    EXPECT_NE(error.find("longer than 4999 bytes"), std::string::npos) << error;
    options.max_body = 5000;
    EXPECT_EQ(http_get(server.base() + "/big", options).body.size(), 5000u);
}

TEST_F(HttpGet, FollowsRedirectsOnlyToHttpAndOnlySoMany) {
    write(root / "target", "here");
    CannedHttp server(root, dir.path(),
                      {.redirects = {"/moved=/target", "/file=file:///etc/passwd", "/loop=/loop"}});
    EXPECT_EQ(http_get(server.base() + "/moved").body, "here");
    std::string error = error_of([&] { http_get(server.base() + "/file"); });
    EXPECT_NE(error.find(server.base() + "/file"), std::string::npos) << error;
    EXPECT_NE(error.find("file"), error.rfind("/file")) << error;  // curl names the protocol
    error = error_of([&] { http_get(server.base() + "/loop"); });
    EXPECT_NE(error.find(server.base() + "/loop"), std::string::npos) << error;
    EXPECT_NE(error.find("redirects"), std::string::npos) << error;
    EXPECT_EQ(server.requests().size(), 2u + 1u + 6u);  // /loop: the first and 5 redirects
    EXPECT_THROW(http_get("file:///etc/passwd"), AudioError);
}

TEST_F(HttpGet, WorksFromManyThreadsAtOnce) {
    for (int i = 0; i < 8; ++i) {
        write(root / std::to_string(i), std::string(1000 + i, static_cast<char>('a' + i)));
    }
    CannedHttp server(root, dir.path());
    std::vector<std::future<HttpResponse>> results;
    for (int i = 0; i < 8; ++i) {
        results.push_back(std::async(std::launch::async, [&, i] {
            return http_get(server.base() + "/" + std::to_string(i));
        }));
    }
    for (int i = 0; i < 8; ++i) {
        EXPECT_EQ(results[i].get().body, std::string(1000 + i, static_cast<char>('a' + i)));
    }
}

}  // namespace
}  // namespace freemkv
