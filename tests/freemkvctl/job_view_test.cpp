// What freemkvctl reads from the bus is safe to print, whatever the daemon sends.

#include <gtest/gtest.h>

#include <string>

#include "job_view.hpp"

namespace freemkv::ctl {
namespace {

TEST(JobView, StringPropertiesAreReadWithoutControlCharacters) {
    Props props;
    props["DiscLabel"] = sdbus::Variant(std::string("EVIL\x1b]0;owned\x07\nLINE"));
    props["ResultReason"] = sdbus::Variant(std::string("read error\r\nat sector 5"));
    props["Id"] = sdbus::Variant(std::uint64_t{7});
    JobView view;
    view.apply_job(props);
    EXPECT_EQ(view.label, "EVIL\xef\xbf\xbd]0;owned\xef\xbf\xbd LINE");
    EXPECT_EQ(view.reason, "read error  at sector 5");
    EXPECT_EQ(view.id, 7u);
}

TEST(JobView, ArtifactsAreReadFromTheBusTuples) {
    using Entry = sdbus::Struct<std::string, std::string, std::string, std::string, std::uint64_t,
                                std::uint64_t, std::int32_t, double>;
    Props props;
    props["Artifacts"] = sdbus::Variant(std::vector<Entry>{
        {"image", "/l/X.iso", "deleted", "", 10, 10, 0, 0.0},
        {"title", "/l/X/X.mkv\x1b[2J", "published", "", 7, 7, 1, 1.5},
    });
    JobView view;
    view.apply_job(props);
    ASSERT_EQ(view.artifacts.size(), 2u);
    EXPECT_EQ(view.artifacts[0].kind, "image");
    EXPECT_EQ(view.artifacts[0].state, "deleted");
    EXPECT_EQ(view.artifacts[1].path, "/l/X/X.mkv\xef\xbf\xbd[2J") << "no control characters";
    EXPECT_EQ(view.artifacts[1].title, 1);
    EXPECT_EQ(view.artifacts[1].seconds_lost, 1.5);
}

}  // namespace
}  // namespace freemkv::ctl
