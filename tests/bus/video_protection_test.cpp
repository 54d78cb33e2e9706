// A CSS-protected DVD-Video image through the API: the job ends failed at once, and a client sees
// why (the package to install) in the job's ResultReason and in JobEnded's result.

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sdbus-c++/sdbus-c++.h>

#include <chrono>

#include "support/bus_fixture.hpp"
#include "support/dvd_images.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

using namespace std::chrono_literals;
using namespace test;

bool libdvdcss_installed() {
    void* handle = ::dlopen("libdvdcss.so.2", RTLD_LAZY | RTLD_LOCAL);
    if (handle != nullptr) {
        ::dlclose(handle);
    }
    return handle != nullptr;
}

TEST(BusVideoProtection, ACssDvdEndsFailedNamingThePackageToInstall) {
    REQUIRE_DVD_IMAGES();
    if (libdvdcss_installed()) {
        GTEST_SKIP() << "SKIPPED LOUDLY: libdvdcss is installed here, so the disc is not refused";
    }
    TempDir dir;
    Service service(dir);
    ManagerWatcher watcher(service.address(), true);

    std::string job = Service::job_of(service.start_rip_gdbus(dvd_css_image().string()));
    ASSERT_EQ(service.wait_for_result(job), "failed");
    std::string reason = service.get(job, kJob, "ResultReason");
    EXPECT_TRUE(contains(reason,
                         "this DVD is CSS-protected; install libdvdcss2 (Debian contrib: "
                         "apt install libdvd-pkg && dpkg-reconfigure libdvd-pkg)"))
        << reason;
    EXPECT_EQ(service.get(job, kJob, "BytesDone"), "0");
    EXPECT_EQ(service.get(job, kJob, "OutputPath"), "");

    ASSERT_TRUE(wait_until([&] { return watcher.ended_count() == 1; }, 10s));
    auto ended = watcher.ended().at(0);
    EXPECT_EQ(ended.job, job);
    EXPECT_EQ(ended.result, "failed");
    EXPECT_EQ(ended.output, "");
}

}  // namespace
}  // namespace freemkv
