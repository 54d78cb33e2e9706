// freemkvctl's --json output: the keys in a fixed order, null for what is unknown or not a
// number, and valid JSON (and UTF-8) whatever bytes a string holds.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "format.hpp"
#include "job_view.hpp"

namespace freemkv::ctl {
namespace {

TEST(Json, AJobsKeysInTheirDocumentedOrder) {
    JobView view;
    view.path = "/org/freemkv/Rip1/job/3";
    view.id = 3;
    view.state = "running";
    view.phase = "reading";
    view.source = "/dev/sr0";
    view.drive = "sr0";
    view.label = "MOVIE";
    view.output = "/library/MOVIE.iso.part";
    view.bytes_total = 4194304;
    view.bytes_done = 1048576;
    view.progress = 0.25;
    view.rate = 31200000.5;
    view.chunk_bytes = 8388608;
    EXPECT_EQ(
        dump(view.json()),
        R"({"job":"/org/freemkv/Rip1/job/3","id":3,"state":"running","phase":"reading",)"
        R"("source":"/dev/sr0","drive":"sr0","label":"MOVIE","progress":0.25,)"
        R"("bytes_done":1048576,"bytes_total":4194304,"rate":31200000.5,"speed":0.0,"track":0,)"
        R"("track_count":0,"track_progress":0.0,"eta_seconds":0,)"
        R"("chunk_bytes":8388608,"unreadable_sectors":0,"result":"","result_reason":"",)"
        R"("output":"/library/MOVIE.iso.part","resumable":false,"artifacts":[]})");
}

// A DVD-Video job in its extract stage: the phase, and its image and titles in order.
TEST(Json, AnExtractingJobsArtifactsInTheirDocumentedOrder) {
    JobView view;
    view.id = 5;
    view.state = "running";
    view.phase = "extract";
    view.output = "/library/MOVIE/MOVIE.mkv";
    view.artifacts = {
        {"image", "/library/MOVIE.iso", "published", "", 9000, 9000, 0, 0},
        {"title", "/library/MOVIE/MOVIE.mkv", "written", "", 6000, 6000, 1, 2.5},
        {"title", "/library/MOVIE/extras/MOVIE - title 03.mkv", "failed", "bad cell", 400, 10, 3,
         0},
    };
    Json json = view.json();
    EXPECT_EQ(json["phase"], "extract");
    EXPECT_EQ(dump(json["artifacts"]),
              R"([{"kind":"image","path":"/library/MOVIE.iso","state":"published","error":"",)"
              R"("bytes_total":9000,"bytes_done":9000,"title":0,"seconds_lost":0.0},)"
              R"({"kind":"title","path":"/library/MOVIE/MOVIE.mkv","state":"written",)"
              R"("error":"","bytes_total":6000,"bytes_done":6000,"title":1,"seconds_lost":2.5},)"
              R"({"kind":"title","path":"/library/MOVIE/extras/MOVIE - title 03.mkv",)"
              R"("state":"failed","error":"bad cell","bytes_total":400,"bytes_done":10,)"
              R"("title":3,"seconds_lost":0.0}])");
    EXPECT_EQ(view.artifacts[1].line(),
              "title 1  written  /library/MOVIE/MOVIE.mkv (2.5 s of video lost)");
    EXPECT_EQ(view.artifacts[2].line(),
              "title 3  failed  /library/MOVIE/extras/MOVIE - title 03.mkv: bad cell");
}

TEST(Json, UnknownsAndNumbersThatAreNotFiniteAreNull) {
    JobView view;
    view.id = 4;
    view.state = "failed";
    view.reason = "medium removed";
    view.resumable = true;
    view.progress = std::nan("");
    view.rate = std::numeric_limits<double>::infinity();
    EXPECT_EQ(dump(view.json()),
              R"({"job":"","id":4,"state":"failed","phase":"","source":"","drive":"","label":"",)"
              R"("progress":null,"bytes_done":0,"bytes_total":0,"rate":null,"speed":0.0,"track":0,)"
              R"("track_count":0,"track_progress":0.0,"eta_seconds":null,)"
              R"("chunk_bytes":null,"unreadable_sectors":0,"result":"failed",)"
              R"("result_reason":"medium removed","output":"","resumable":true,"artifacts":[]})");
}

// A rate decayed through a stall gives no ETA (and no out-of-range cast to compute one).
TEST(Json, NoEtaFromARateNearZero) {
    JobView view;
    view.state = "running";
    view.bytes_total = 50'050'629'632;
    view.rate = 1e-300;
    EXPECT_EQ(view.json()["eta_seconds"], Json(nullptr));
    view.rate = 1000;
    EXPECT_EQ(view.json()["eta_seconds"], Json(nullptr));
}

TEST(Json, StringsAreEscapedAndBytesThatAreNotUtf8Replaced) {
    EXPECT_EQ(dump(Json("q\" b\\ \n\r\t\b\f\x01\x1f\x7f é")),
              "\"q\\\" b\\\\ \\n\\r\\t\\b\\f\\u0001\\u001f\x7f é\"");
    // A disc label may hold any bytes: the output stays valid UTF-8.
    EXPECT_EQ(dump(Json("DISC\xff\xfe")), "\"DISC\xef\xbf\xbd\xef\xbf\xbd\"");
}

TEST(Json, ObjectsKeepTheirKeysInOrderAndArraysNest) {
    Json drives = Json::array();
    drives.push_back({{"path", "/org/freemkv/Rip1/drive/sr0"}, {"media_present", false}});
    Json status;
    status["version"] = "0.1.0";
    status["queue_length"] = 2;
    status["drives"] = drives;
    EXPECT_EQ(dump(status),
              R"({"version":"0.1.0","queue_length":2,)"
              R"("drives":[{"path":"/org/freemkv/Rip1/drive/sr0","media_present":false}]})");
    EXPECT_EQ(dump(Json::array()), "[]");
    EXPECT_EQ(dump({{"reloaded", true}}), R"({"reloaded":true})");
}

}  // namespace
}  // namespace freemkv::ctl
