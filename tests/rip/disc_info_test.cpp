// Identifying discs from their bytes: images built at test time with xorriso and mkudffs, and a
// read-only loop device (needs root; runs serially).

#include "disc_info.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <span>
#include <utility>

#include "io_error.hpp"
#include "support/test_support.hpp"

namespace freemkv {
namespace {

namespace fs = std::filesystem;
using test::run;
using test::TempDir;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;
using ::testing::ThrowsMessage;

std::string quoted(const fs::path& path) {
    return "'" + path.string() + "'";
}

void write_file(const fs::path& path, std::span<const std::byte> data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size()));
    ASSERT_TRUE(out.good()) << path;
}

// A loop device showing `image` read-only, detached again even when the test fails.
class ReadOnlyLoop {
  public:
    explicit ReadOnlyLoop(const fs::path& image)
        : device_(run("losetup -f --show -r " + quoted(image))) {
        while (!device_.empty() && device_.back() == '\n') {
            device_.pop_back();
        }
    }
    ~ReadOnlyLoop() {
        try {
            run("losetup -d " + device_);
        } catch (const std::exception& e) {
            ADD_FAILURE() << "detaching " << device_ << " failed: " << e.what();
        }
    }
    ReadOnlyLoop(const ReadOnlyLoop&) = delete;
    ReadOnlyLoop& operator=(const ReadOnlyLoop&) = delete;
    fs::path device() const { return device_; }

  private:
    std::string device_;
};

class DiscInfoTest : public ::testing::Test {
  protected:
    // An ISO9660 image holding a few files; `seed` varies their content.
    fs::path make_iso(const std::string& name, const std::string& label, const std::string& volset,
                      std::uint64_t seed, std::size_t big_file_bytes = 100'000) {
        auto content = dir_ / (name + ".d");
        fs::create_directories(content / "sub");
        write_file(content / "a.bin", test::random_bytes(big_file_bytes, seed));
        write_file(content / "sub" / "b.bin", test::random_bytes(5'000, seed + 1));
        auto iso = dir_ / name;
        run("xorriso -as mkisofs -V " + label + " -volset " + volset + " -o " + quoted(iso) + " " +
            quoted(content));
        return iso;
    }

    // A UDF 2.01 image with 2048-byte blocks, as on a DVD.
    fs::path make_udf(const std::string& name) {
        auto img = dir_ / name;
        run("truncate -s 20M " + quoted(img));
        run("mkudffs --media-type=dvd --label=UDF_LABEL --vid=UDF_VID --uuid=0123456789abcdef "
            "--vsid=MYSET " +
            quoted(img));
        return img;
    }

    TempDir dir_;
};

TEST_F(DiscInfoTest, Iso9660ReportsWhatBlkidSees) {
    auto iso = make_iso("x.iso", "MY_LABEL", "SETID", 1);
    auto info = identify_disc(iso);
    EXPECT_EQ(info.source, iso);
    EXPECT_FALSE(info.is_block_device);
    EXPECT_EQ(info.size_bytes, fs::file_size(iso));
    EXPECT_EQ(info.sector_size, 2048u);
    EXPECT_EQ(info.fs_type, "iso9660");
    EXPECT_EQ(info.label, "MY_LABEL");
    EXPECT_EQ(info.volume_id, "SETID");
    // ISO9660's UUID is the creation time: 2026-11-25-15-29-41-00.
    EXPECT_THAT(info.uuid, MatchesRegex("[0-9]{4}(-[0-9]{2}){6}"));
    EXPECT_THAT(info.identity, MatchesRegex("[0-9a-f]{16}"));
    EXPECT_EQ(info.type, DiscType::cd);
    EXPECT_TRUE(info.type_guessed);
}

TEST_F(DiscInfoTest, IdentityIsStableAcrossCopiesAndDiffersBetweenDiscs) {
    auto iso = make_iso("x.iso", "MY_LABEL", "SETID", 1);
    auto copy = dir_ / "elsewhere.iso";
    fs::copy_file(iso, copy);
    auto first = identify_disc(iso);
    EXPECT_EQ(identify_disc(iso).identity, first.identity);
    EXPECT_EQ(identify_disc(copy).identity, first.identity);

    auto other = make_iso("y.iso", "MY_LABEL", "SETID", 2);
    EXPECT_NE(identify_disc(other).identity, first.identity);
    auto relabelled = make_iso("z.iso", "OTHER", "SETID", 1);
    EXPECT_NE(identify_disc(relabelled).identity, first.identity);
}

TEST_F(DiscInfoTest, ReadOnlyLoopDeviceGivesTheSameIdentityAsItsImage) {
    FREEMKV_REQUIRE_ROOT();
    auto iso = make_iso("x.iso", "MY_LABEL", "SETID", 1);
    auto from_file = identify_disc(iso);
    ReadOnlyLoop loop(iso);
    auto from_device = identify_disc(loop.device());
    EXPECT_TRUE(from_device.is_block_device);
    EXPECT_EQ(from_device.source, loop.device());
    EXPECT_EQ(from_device.size_bytes, from_file.size_bytes);
    EXPECT_EQ(from_device.fs_type, "iso9660");
    EXPECT_EQ(from_device.label, "MY_LABEL");
    EXPECT_EQ(from_device.uuid, from_file.uuid);
    EXPECT_EQ(from_device.identity, from_file.identity);
}

// A scratch over the volume descriptors: identify_disc does not give up on the disc (the rip
// engine deals with bad sectors); udev's view of the filesystem stands in for its own.
TEST_F(DiscInfoTest, UnreadableVolumeDescriptorsFallBackToUdev) {
    FREEMKV_REQUIRE_ROOT();
    auto iso = make_iso("x.iso", "MY_LABEL", "SETID", 1);
    test::FaultFs scratched(iso, "--read-only --eio 40960:2048");  // sector 20
    test::LoopDevice loop(scratched.disk());
    std::map<std::string, std::string> udev = {{"ID_FS_TYPE", "iso9660"},
                                               {"ID_FS_LABEL", "MY_LABEL"},
                                               {"ID_FS_UUID", "2026-11-25-00-00-00-00"},
                                               {"ID_CDROM_MEDIA_DVD", "1"}};
    DiscInfo info = identify_disc(loop.device(), udev);
    EXPECT_TRUE(info.start_unreadable);
    EXPECT_EQ(info.fs_type, "iso9660");
    EXPECT_EQ(info.label, "MY_LABEL");
    EXPECT_EQ(info.type, DiscType::dvd);
    EXPECT_EQ(info.size_bytes, fs::file_size(iso));
    EXPECT_EQ(identify_disc(loop.device(), udev).identity, info.identity) << "stable";
    udev["ID_FS_LABEL"] = "OTHER";
    EXPECT_NE(identify_disc(loop.device(), udev).identity, info.identity);
    // Without udev it is still a disc, with no filesystem to name.
    DiscInfo bare = identify_disc(loop.device());
    EXPECT_TRUE(bare.start_unreadable);
    EXPECT_EQ(bare.label, "");
    EXPECT_FALSE(identify_disc(iso).start_unreadable);
}

TEST_F(DiscInfoTest, UdfReportsLogicalVolumeIdAsLabel) {
    auto img = make_udf("u.img");
    auto info = identify_disc(img);
    EXPECT_EQ(info.fs_type, "udf");
    EXPECT_EQ(info.label, "UDF_LABEL");
    EXPECT_EQ(info.uuid, "0123456789abcdef");
    EXPECT_EQ(info.volume_id, "0123456789abcdefMYSET");
    EXPECT_EQ(info.size_bytes, 20u * 1024 * 1024);
    EXPECT_THAT(info.identity, MatchesRegex("[0-9a-f]{16}"));
}

// A UDF bridge disc (as DVD-Video): ISO9660 descriptors at sectors 16-17, then the UDF volume
// recognition sequence. Built by moving mkudffs's recognition sequence two sectors on and
// putting an ISO's descriptors in front of it.
TEST_F(DiscInfoTest, UdfBridgeDiscPrefersTheUdfLabel) {
    auto iso = make_iso("x.iso", "ISO_LABEL", "SETID", 1);
    auto img = make_udf("bridge.img");
    auto plain = identify_disc(img);
    auto vrs = dir_ / "vrs.bin";
    run("dd if=" + quoted(img) + " of=" + quoted(vrs) + " bs=2048 skip=16 count=3 status=none");
    run("dd if=" + quoted(vrs) + " of=" + quoted(img) +
        " bs=2048 seek=18 conv=notrunc status=none");
    run("dd if=" + quoted(iso) + " of=" + quoted(img) +
        " bs=2048 skip=16 seek=16 count=2 conv=notrunc status=none");
    ASSERT_EQ(run("blkid -p -n iso9660 -s LABEL -o value " + quoted(img)), "ISO_LABEL\n")
        << "the image is not an ISO9660 as well";
    auto info = identify_disc(img);
    EXPECT_EQ(info.fs_type, "udf");
    EXPECT_EQ(info.label, "UDF_LABEL");
    EXPECT_NE(info.identity, plain.identity);
}

TEST_F(DiscInfoTest, UdevMediaPropertiesDecideTheType) {
    auto iso = make_iso("x.iso", "MY_LABEL", "SETID", 1);
    auto guessed = identify_disc(iso);
    auto type_of = [&](std::map<std::string, std::string> props) {
        auto info = identify_disc(iso, props);
        EXPECT_EQ(info.identity, guessed.identity) << "the type must not change the identity";
        return std::pair(info.type, info.type_guessed);
    };
    EXPECT_EQ(type_of({{"ID_CDROM_MEDIA_BD", "1"}, {"ID_FS_LABEL", "MY_LABEL"}}),
              std::pair(DiscType::bd, false));
    EXPECT_EQ(type_of({{"ID_CDROM_MEDIA_BD_R", "1"}}), std::pair(DiscType::bd, false));
    EXPECT_EQ(type_of({{"ID_CDROM_MEDIA_DVD", "1"}}), std::pair(DiscType::dvd, false));
    EXPECT_EQ(type_of({{"ID_CDROM_MEDIA_DVD_PLUS_R_DL", "1"}}), std::pair(DiscType::dvd, false));
    EXPECT_EQ(type_of({{"ID_CDROM_MEDIA_CD_RW", "1"}}), std::pair(DiscType::cd, false));
    // What the drive can read is not what is in it; "0" is not present.
    EXPECT_EQ(type_of({{"ID_CDROM_BD", "1"}, {"ID_CDROM_MEDIA_DVD", "0"}}),
              std::pair(DiscType::cd, true));
    EXPECT_EQ(type_of({{"ID_CDROM_MEDIA_HDDVD", "1"}}), std::pair(DiscType::cd, true));
}

TEST_F(DiscInfoTest, WithoutUdevTheTypeIsGuessedFromTheSize) {
    auto type_for_size = [&](std::uint64_t size) {
        auto img = dir_ / ("sparse-" + std::to_string(size));
        { std::ofstream create(img); }
        fs::resize_file(img, size);
        auto info = identify_disc(img);
        EXPECT_TRUE(info.type_guessed);
        EXPECT_EQ(info.fs_type, "");
        fs::remove(img);
        return info.type;
    };
    constexpr std::uint64_t kMiB = 1024 * 1024;
    EXPECT_EQ(type_for_size(700 * kMiB), DiscType::cd);
    EXPECT_EQ(type_for_size(900 * kMiB), DiscType::cd);
    EXPECT_EQ(type_for_size(900 * kMiB + 2048), DiscType::dvd);
    EXPECT_EQ(type_for_size(4'171'712ULL * 2048), DiscType::dvd);  // DVD-R DL
    EXPECT_EQ(type_for_size(4'173'824ULL * 2048), DiscType::dvd);  // DVD+R DL
    EXPECT_EQ(type_for_size(4'173'825ULL * 2048), DiscType::bd);
    EXPECT_EQ(type_for_size(12'219'392ULL * 2048), DiscType::bd);  // BD-25
}

TEST_F(DiscInfoTest, MissingPathIsAnIoErrorNamingIt) {
    auto missing = dir_ / "missing.iso";
    try {
        identify_disc(missing);
        FAIL() << "identified a missing file";
    } catch (const IoError& e) {
        EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
        EXPECT_EQ(e.path(), missing);
        EXPECT_THAT(e.what(), HasSubstr(missing.string()));
    }
}

TEST_F(DiscInfoTest, UnusableSourcesAreDiscErrorsNamingThePath) {
    auto empty = dir_ / "empty.iso";
    write_file(empty, {});
    EXPECT_THAT([&] { identify_disc(empty); },
                ThrowsMessage<DiscError>(empty.string() + ": is empty (0 bytes)"));

    auto odd = dir_ / "odd.iso";
    write_file(odd, test::random_bytes(3 * 2048 + 1, 5));
    EXPECT_THAT([&] { identify_disc(odd); },
                ThrowsMessage<DiscError>(
                    odd.string() +
                    ": size 6145 is not a whole number of 2048-byte sectors (truncated image?)"));

    EXPECT_THAT([&] { identify_disc(dir_.path()); },
                ThrowsMessage<DiscError>(dir_.path().string() +
                                         ": is a directory, not a disc or disc image"));

    auto fifo = dir_ / "fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_THAT(
        [&] { identify_disc(fifo); },
        ThrowsMessage<DiscError>(fifo.string() + ": is neither a block device nor a regular file"));
}

// A data disc without a filesystem can still be ripped: no error, just nothing to name it by.
TEST_F(DiscInfoTest, RandomBytesHaveNoFilesystemButAnIdentity) {
    auto raw = dir_ / "raw.bin";
    write_file(raw, test::random_bytes(2 * 1024 * 1024, 7));
    auto info = identify_disc(raw);
    EXPECT_EQ(info.fs_type, "");
    EXPECT_EQ(info.label, "");
    EXPECT_EQ(info.volume_id, "");
    EXPECT_EQ(info.uuid, "");
    EXPECT_EQ(info.size_bytes, 2u * 1024 * 1024);
    EXPECT_THAT(info.identity, MatchesRegex("[0-9a-f]{16}"));

    auto other = dir_ / "other.bin";
    write_file(other, test::random_bytes(2 * 1024 * 1024, 8));
    EXPECT_NE(identify_disc(other).identity, info.identity);
}

// blkid only reads the volume descriptors, so the first MiB of an ISO still names it; the size
// (and so the identity) shows it is not the whole disc.
TEST_F(DiscInfoTest, TruncatedIsoIsReportedByItsDescriptors) {
    auto iso = make_iso("big.iso", "BIG_LABEL", "SETID", 3, 2 * 1024 * 1024);
    auto whole = identify_disc(iso);
    auto cut = dir_ / "cut.iso";
    run("head -c 1M " + quoted(iso) + " > " + quoted(cut));
    auto info = identify_disc(cut);
    EXPECT_EQ(info.fs_type, "iso9660");
    EXPECT_EQ(info.label, "BIG_LABEL");
    EXPECT_EQ(info.uuid, whole.uuid);
    EXPECT_EQ(info.size_bytes, 1024u * 1024);
    EXPECT_NE(info.identity, whole.identity);

    // Only the system area (sectors 0-15), no descriptors: a raw disc as far as anyone can tell.
    auto system_area = dir_ / "system_area.iso";
    run("head -c 32K " + quoted(iso) + " > " + quoted(system_area));
    auto bare = identify_disc(system_area);
    EXPECT_EQ(bare.fs_type, "");
    EXPECT_EQ(bare.label, "");
    EXPECT_THAT(bare.identity, MatchesRegex("[0-9a-f]{16}"));
}

TEST(DiscType, NamesAndReadBlocks) {
    EXPECT_EQ(to_string(DiscType::unknown), "unknown");
    EXPECT_EQ(to_string(DiscType::cd), "cd");
    EXPECT_EQ(to_string(DiscType::dvd), "dvd");
    EXPECT_EQ(to_string(DiscType::bd), "bd");
    EXPECT_EQ(ecc_block_sectors(DiscType::unknown), 16u);
    EXPECT_EQ(ecc_block_sectors(DiscType::cd), 16u);
    EXPECT_EQ(ecc_block_sectors(DiscType::dvd), 16u);
    EXPECT_EQ(ecc_block_sectors(DiscType::bd), 32u);
}

}  // namespace
}  // namespace freemkv
