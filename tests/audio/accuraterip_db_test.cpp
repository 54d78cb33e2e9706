#include "accuraterip_db.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <random>
#include <sstream>

#include "audio_error_of.hpp"
#include "support/canned_http.hpp"
#include "support/process.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using test::CannedHttp;

const ArDiscIds kIds{0x0001a2b3, 0x000c4d5e, 0x2a0a7604};
const std::string kPath = "3/b/2/dBAR-003-0001a2b3-000c4d5e-2a0a7604.bin";

void put32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        out += static_cast<char>((v >> (8 * i)) & 0xff);
    }
}

// A dBAR file, written independently of the parser.
std::string dbar(const std::vector<ArResponse>& responses) {
    std::string out;
    for (const ArResponse& r : responses) {
        out += static_cast<char>(r.tracks.size());
        put32(out, r.ids.id1);
        put32(out, r.ids.id2);
        put32(out, r.ids.cddb);
        for (const ArEntry& e : r.tracks) {
            out += static_cast<char>(e.confidence);
            put32(out, e.crc);
            put32(out, e.frame450_crc);
        }
    }
    return out;
}

// Like the database: one response of v1 CRCs, one of v2 CRCs, and another pressing.
const std::vector<ArResponse> kResponses = {
    {kIds, {{12, 0x11111111, 0xf1}, {12, 0x22222222, 0xf2}, {11, 0x33333333, 0xf3}}},
    {kIds, {{7, 0xa1a1a1a1, 0xf1}, {7, 0xa2a2a2a2, 0xf2}, {7, 0xa3a3a3a3, 0xf3}}},
    {kIds, {{3, 0xb1b1b1b1, 0xf4}, {3, 0xb2b2b2b2, 0xf5}, {2, 0x33333333, 0xf6}}},
};

using test::error_of;

TEST(AccurateRipDb, ParsesEveryResponse) {
    std::vector<ArResponse> parsed = parse_accuraterip(dbar(kResponses), "test");
    ASSERT_EQ(parsed.size(), 3u);
    for (std::size_t r = 0; r < 3; ++r) {
        EXPECT_EQ(parsed[r].ids, kIds);
        ASSERT_EQ(parsed[r].tracks.size(), 3u);
        for (std::size_t t = 0; t < 3; ++t) {
            EXPECT_EQ(parsed[r].tracks[t].confidence, kResponses[r].tracks[t].confidence);
            EXPECT_EQ(parsed[r].tracks[t].crc, kResponses[r].tracks[t].crc);
            EXPECT_EQ(parsed[r].tracks[t].frame450_crc, kResponses[r].tracks[t].frame450_crc);
        }
    }
}

// whipper's own parser (whipper/common/accurip.py) reads the same file the same way.
TEST(AccurateRipDb, ReadsAsWhipperDoes) {
    if (!std::filesystem::exists("/usr/lib/python3/dist-packages/whipper/common/accurip.py")) {
        if (test::in_ci()) {
            FAIL() << "whipper is not installed (tools/install-deps installs it)";
        }
        GTEST_SKIP() << "SKIPPED LOUDLY: whipper is not installed";
    }
    test::TempDir dir;
    std::vector<ArResponse> mixed = kResponses;
    mixed.push_back({{0xffffffff, 0x80000000, 0x7fffffff}, {{255, 0xffffffff, 0}}});
    std::ofstream(dir / "entry.bin", std::ios::binary) << dbar(mixed);
    std::string whipper = test::run(
        "/usr/bin/python3 -c 'import sys\n"
        "from whipper.common.accurip import _split_responses\n"
        "for r in _split_responses(open(sys.argv[1], \"rb\").read()):\n"
        "    print(r.num_tracks, r.discId1, r.discId2, r.cddbDiscId, *r.confidences, "
        "*r.checksums)' " +
        (dir / "entry.bin").string());
    std::ostringstream ours;
    auto hex = [](std::uint32_t v) {
        char text[9];
        std::snprintf(text, sizeof text, "%08x", v);
        return std::string(text);
    };
    for (const ArResponse& r : parse_accuraterip(dbar(mixed), "test")) {
        ours << r.tracks.size() << ' ' << hex(r.ids.id1) << ' ' << hex(r.ids.id2) << ' '
             << hex(r.ids.cddb);
        for (const ArEntry& e : r.tracks) {
            ours << ' ' << e.confidence;
        }
        for (const ArEntry& e : r.tracks) {
            ours << ' ' << hex(e.crc);
        }
        ours << '\n';
    }
    EXPECT_EQ(ours.str(), whipper);
}

TEST(AccurateRipDb, VerdictPerTrack) {
    std::vector<ArTrackVerdict> v =
        accuraterip_verdict(kResponses, kIds,
                            {{0x11111111, 0xa1a1a1a1},    // both: v1 has the higher confidence
                             {0x99999999, 0xa2a2a2a2},    // v2 only
                             {0x98989898, 0x97979797}});  // none
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[0].match, ArMatch::v1);
    EXPECT_EQ(v[0].confidence, 12u);
    EXPECT_EQ(v[0].total_confidence, 12u);
    EXPECT_EQ(v[0].max_confidence, 12u);
    EXPECT_EQ(v[0].db_crc, 0x11111111u);
    EXPECT_EQ(v[1].match, ArMatch::v2);
    EXPECT_EQ(v[1].confidence, 7u);
    EXPECT_EQ(v[1].max_confidence, 12u);
    EXPECT_EQ(v[1].db_crc, 0xa2a2a2a2u);
    EXPECT_EQ(v[2].match, ArMatch::none);
    EXPECT_EQ(v[2].confidence, 0u);
    EXPECT_EQ(v[2].max_confidence, 11u);
    EXPECT_EQ(v[2].db_crc, 0x33333333u);
    EXPECT_FALSE(accurately_ripped(v));
}

TEST(AccurateRipDb, ACrcInSeveralResponsesTakesTheHighestAndSumsTheTotal) {
    std::vector<ArTrackVerdict> v = accuraterip_verdict(
        kResponses, kIds, {{0x11111111, 0}, {0x22222222, 0}, {0x33333333, 0x13131313}});
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[2].match, ArMatch::v1);
    EXPECT_EQ(v[2].confidence, 11u);  // whipper's number: the best response
    EXPECT_EQ(v[2].total_confidence, 13u);
    EXPECT_TRUE(accurately_ripped(v));
}

TEST(AccurateRipDb, BothKindsMatchingEquallyIsV2) {
    std::vector<ArResponse> responses = {{kIds, {{5, 1, 0}}}, {kIds, {{5, 2, 0}}}};
    std::vector<ArTrackVerdict> v =
        accuraterip_verdict(responses, kIds, {ArChecksums{.v1 = 1, .v2 = 2}});
    EXPECT_EQ(v[0].match, ArMatch::v2);
    EXPECT_EQ(v[0].db_crc, 2u);
}

TEST(AccurateRipDb, ResponsesOfAnotherDiscOrTrackCountCountForNothing) {
    std::vector<ArResponse> responses = kResponses;
    for (ArResponse& r : responses) {
        r.ids.cddb ^= 1;
    }
    responses.push_back({kIds, {{200, 0x11111111, 0}, {200, 0x22222222, 0}}});  // 2 tracks
    std::vector<ArTrackVerdict> v =
        accuraterip_verdict(responses, kIds, {{0x11111111, 0}, {0x22222222, 0}, {0x33333333, 0}});
    ASSERT_EQ(v.size(), 3u);
    for (const ArTrackVerdict& t : v) {
        EXPECT_EQ(t.match, ArMatch::none);
        EXPECT_EQ(t.max_confidence, 0u);
    }
    EXPECT_FALSE(accurately_ripped(v));
    EXPECT_FALSE(accurately_ripped({}));
}

TEST(AccurateRipDb, MalformedFilesAreErrorsNamingTheSource) {
    std::string error = error_of([] { parse_accuraterip("", "entry.bin"); });
    EXPECT_NE(error.find("entry.bin: empty"), std::string::npos) << error;
    std::string zero = dbar(kResponses);
    zero += std::string(13, '\0');
    error = error_of([&] { parse_accuraterip(zero, "entry.bin"); });
    EXPECT_NE(error.find("no tracks at byte 120"), std::string::npos) << error;
}

TEST(AccurateRipDb, EveryTruncationIsAnErrorButAtAResponsesEnd) {
    std::string whole = dbar(kResponses);
    std::size_t response = 13 + 3 * 9;
    ASSERT_EQ(whole.size(), 3 * response);
    for (std::size_t n = 0; n < whole.size(); ++n) {
        std::string error = error_of([&] { parse_accuraterip(whole.substr(0, n), "cut"); });
        if (n > 0 && n % response == 0) {
            EXPECT_EQ(error, "") << n;
        } else {
            EXPECT_NE(error.find("cut"), std::string::npos) << n;
        }
    }
}

// Whatever the bytes, the parser throws AudioError or returns responses that are those bytes.
TEST(AccurateRipDb, RandomBytesAreAnErrorOrReadExactly) {
    std::mt19937 random(7);
    int parsed = 0;
    for (int i = 0; i < 20000; ++i) {
        std::string bytes(random() % 200, '\0');
        for (char& c : bytes) {
            c = static_cast<char>(random());
        }
        if (i % 2 == 0 && !bytes.empty()) {
            bytes[0] = static_cast<char>(random() % 4);  // short responses: some parse
        }
        try {
            std::vector<ArResponse> responses = parse_accuraterip(bytes, "random");
            ASSERT_EQ(dbar(responses), bytes);
            ++parsed;
        } catch (const AudioError&) {
        }
    }
    EXPECT_GT(parsed, 0);
}

TEST(AccurateRipDb, OnlyAnEntryPathGoesIntoTheUrl) {
    EXPECT_EQ(accuraterip_url("http://www.accuraterip.com", kPath),
              "http://www.accuraterip.com/accuraterip/" + kPath);
    EXPECT_EQ(accuraterip_url("http://x/", "accuraterip/" + kPath),
              "http://x/accuraterip/" + kPath);
    EXPECT_EQ(accuraterip_url("http://x", "/" + kPath), "http://x/accuraterip/" + kPath);
    for (const std::string& bad :
         std::vector<std::string>{"", "3/b/2/dBAR-003-0001a2b3-000c4d5e-2a0a7604.bin/",
                                  "3/b/2/dBAR-003-0001A2B3-000c4d5e-2a0a7604.bin",
                                  "3/b/2/dBAR-0x3-0001a2b3-000c4d5e-2a0a7604.bin",
                                  "../../dBAR-003-0001a2b3-000c4d5e-2a0a7604.bin",
                                  "3/b/2/dBAR-003-0001a2b3-000c4d5e-2a0a7604.bi?"}) {
        EXPECT_THROW(accuraterip_url("http://x", bad), AudioError) << bad;
    }
}

class AccurateRipServer : public ::testing::Test {
  protected:
    test::TempDir dir;
    std::filesystem::path root = dir / "www";
    AccurateRipOptions options;
    void SetUp() override {
        std::filesystem::path file = root / "accuraterip" / kPath;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << dbar(kResponses);
    }
};

TEST_F(AccurateRipServer, FetchesTheEntry) {
    CannedHttp server(root, dir.path());
    options.base = server.base();
    std::optional<std::vector<ArResponse>> responses = fetch_accuraterip(kPath, options);
    ASSERT_TRUE(responses);
    EXPECT_EQ(dbar(*responses), dbar(kResponses));
    ASSERT_EQ(server.requests().size(), 1u);
    EXPECT_EQ(server.requests()[0], "/accuraterip/" + kPath + "\t" + http_user_agent());
}

TEST_F(AccurateRipServer, ADiscNotInTheDatabaseIsNotFound) {
    CannedHttp server(root, dir.path());
    options.base = server.base();
    EXPECT_FALSE(fetch_accuraterip("1/2/3/dBAR-003-00000321-000c4d5e-2a0a7604.bin", options));
}

TEST_F(AccurateRipServer, UnavailableIsAnErrorNamingTheUrl) {
    CannedHttp server(root, dir.path(), {.status = 503});
    options.base = server.base();
    std::string error = error_of([&] { fetch_accuraterip(kPath, options); });
    EXPECT_NE(error.find(server.base() + "/accuraterip/" + kPath + ": HTTP 503"), std::string::npos)
        << error;
}

TEST_F(AccurateRipServer, AHangingServerTimesOutAndCancelsPromptly) {
    CannedHttp server(root, dir.path(), {.delay_seconds = 120});
    options.base = server.base();
    options.http.timeout = std::chrono::seconds(1);
    auto start = std::chrono::steady_clock::now();
    std::string error = error_of([&] { fetch_accuraterip(kPath, options); });
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(11));
    EXPECT_NE(error.find("timed out"), std::string::npos) << error;

    options.http.timeout = std::chrono::seconds(120);
    std::stop_source stop;
    auto result = std::async(std::launch::async, [&] {
        try {
            fetch_accuraterip(kPath, options, stop.get_token());
        } catch (const HttpCancelled&) {
            return true;
        }
        return false;
    });
    ASSERT_TRUE(server.wait_requests(2, std::chrono::seconds(30)));
    stop.request_stop();
    ASSERT_EQ(result.wait_for(std::chrono::seconds(15)), std::future_status::ready);
    EXPECT_TRUE(result.get());
}

}  // namespace
}  // namespace freemkv
