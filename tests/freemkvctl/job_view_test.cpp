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

}  // namespace
}  // namespace freemkv::ctl
