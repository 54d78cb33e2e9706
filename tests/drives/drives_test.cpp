// What makes a drive managed, a medium new, and a udev event an insert or a removal: the pure
// decisions behind the udev watcher (udev_test drives them with real udev events).

#include <gtest/gtest.h>

#include "drives.hpp"
#include "media_tracker.hpp"

namespace freemkv {
namespace {

Drive dvd(const std::string& label, const std::string& uuid = "2026-11-25-12-00-00-00") {
    Drive d;
    d.name = "sr0";
    d.device = "/dev/sr0";
    d.media_present = true;
    d.media_label = label;
    d.properties = {{"ID_CDROM", "1"},     {"ID_CDROM_MEDIA", "1"}, {"ID_CDROM_MEDIA_DVD", "1"},
                    {"ID_FS_TYPE", "udf"}, {"ID_FS_LABEL", label},  {"ID_FS_UUID", uuid}};
    return d;
}

Drive empty_drive() {
    Drive d;
    d.name = "sr0";
    d.device = "/dev/sr0";
    d.properties = {{"ID_CDROM", "1"}};
    return d;
}

TEST(Drives, ManagedByTheRulesPropertyElseByBeingOptical) {
    EXPECT_TRUE(is_managed({{"ID_CDROM", "1"}}));
    EXPECT_TRUE(is_managed({{"FREEMKVD_MANAGED", "1"}}));
    EXPECT_TRUE(is_managed({{"FREEMKVD_MANAGED", "1"}, {"ID_CDROM", "0"}}));
    EXPECT_FALSE(is_managed({{"FREEMKVD_MANAGED", "0"}, {"ID_CDROM", "1"}}))
        << "excluded by a rule";
    EXPECT_FALSE(is_managed({{"ID_CDROM", "0"}}));
    EXPECT_FALSE(is_managed({{"ID_FS_TYPE", "iso9660"}}));
    EXPECT_FALSE(is_managed({}));
}

TEST(Drives, WatchAndIgnoreGlobs) {
    EXPECT_TRUE(is_wanted("/dev/sr0", {}, {}));
    EXPECT_TRUE(is_wanted("/dev/sr1", {"/dev/sr*"}, {}));
    EXPECT_FALSE(is_wanted("/dev/sdb", {"/dev/sr*"}, {}));
    EXPECT_FALSE(is_wanted("/dev/sr1", {"/dev/sr*"}, {"/dev/sr1"})) << "ignore wins";
    EXPECT_FALSE(is_wanted("/dev/sr1", {}, {"/dev/sr[0-9]"}));
    EXPECT_FALSE(is_wanted("/dev/disk/by-id/x", {"/dev/*"}, {})) << "* stops at a slash";
}

TEST(Drives, MediaKeyTellsDiscsApartAndIsEmptyWithoutOne) {
    EXPECT_EQ(media_key(empty_drive()), "");
    EXPECT_EQ(media_key(dvd("MOVIE")), media_key(dvd("MOVIE")));
    EXPECT_NE(media_key(dvd("MOVIE")), media_key(dvd("OTHER")));
    EXPECT_NE(media_key(dvd("MOVIE", "a")), media_key(dvd("MOVIE", "b")));
    Drive bd = dvd("MOVIE");
    bd.properties.erase("ID_CDROM_MEDIA_DVD");
    bd.properties["ID_CDROM_MEDIA_BD"] = "1";
    EXPECT_NE(media_key(bd), media_key(dvd("MOVIE")));
    // Present without a filesystem udev knows (an audio CD): still a medium.
    Drive audio = empty_drive();
    audio.media_present = true;
    audio.properties["ID_CDROM_MEDIA"] = "1";
    EXPECT_NE(media_key(audio), "");
}

TEST(MediaTracker, OneInsertPerDiscHoweverManyEventsUdevSends) {
    MediaTracker tracker;
    EXPECT_EQ(tracker.update(empty_drive()), MediaChange::none) << "an empty drive appears";
    EXPECT_EQ(tracker.update(dvd("MOVIE")), MediaChange::inserted);
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(tracker.update(dvd("MOVIE")), MediaChange::none) << "a repeated change";
    }
    EXPECT_EQ(tracker.update(empty_drive()), MediaChange::removed);
    EXPECT_EQ(tracker.update(empty_drive()), MediaChange::none);
    EXPECT_EQ(tracker.update(dvd("MOVIE")), MediaChange::inserted) << "the same disc again";
}

TEST(MediaTracker, ADiscSwappedBetweenEventsIsANewInsert) {
    MediaTracker tracker;
    EXPECT_EQ(tracker.update(dvd("ONE")), MediaChange::inserted) << "present when first seen";
    EXPECT_EQ(tracker.update(dvd("TWO")), MediaChange::inserted);
}

TEST(MediaTracker, DrivesAreTrackedApart) {
    MediaTracker tracker;
    Drive other = dvd("MOVIE");
    other.name = "sr1";
    EXPECT_EQ(tracker.update(dvd("MOVIE")), MediaChange::inserted);
    EXPECT_EQ(tracker.update(other), MediaChange::inserted);
    EXPECT_EQ(tracker.update(empty_drive()), MediaChange::removed);
    EXPECT_EQ(tracker.update(other), MediaChange::none);
}

TEST(MediaTracker, ADriveThatGoesAwayWithADiscRemovesIt) {
    MediaTracker tracker;
    EXPECT_EQ(tracker.forget("sr0"), MediaChange::none) << "never seen";
    tracker.update(dvd("MOVIE"));
    EXPECT_EQ(tracker.forget("sr0"), MediaChange::removed);
    EXPECT_EQ(tracker.forget("sr0"), MediaChange::none);
    tracker.update(empty_drive());
    EXPECT_EQ(tracker.forget("sr0"), MediaChange::none) << "gone empty";
    EXPECT_EQ(tracker.update(dvd("MOVIE")), MediaChange::inserted) << "plugged in again";
}

}  // namespace
}  // namespace freemkv
