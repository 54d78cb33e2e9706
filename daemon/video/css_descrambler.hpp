#pragma once

// A CSS-protected DVD read in the clear while it is ripped, through libdvdcss.
//
// The pathology: a drive refuses a CSS disc's scrambled sectors until the host authenticates with
// it, so a raw sweep would "repair" them for minutes into zeros; and once authenticated it still
// delivers them scrambled, an image only a player with libdvdcss can use.
//
// The strategy: libdvdcss (when the user installed it: Debian's contrib package libdvd-pkg builds
// it) opens the disc, which authenticates with the drive or, for an image, finds the keys from
// its data, and reads every VOB set (VIDEO_TS.VOB, each titleset's menu VOB and its title VOBs)
// with that set's title key: a seek with DVDCSS_SEEK_KEY to the set's first sector when the key
// changes, then reads with DVDCSS_READ_DECRYPT, which decrypts the scrambled sectors and clears
// their scrambling bits. The rip reads everything else (the file system, the IFOs) itself. The
// image is clear: it plays and remuxes without libdvdcss, and extracting it needs no key.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "descrambler.hpp"

namespace freemkv {

class CssDescrambler final : public Descrambler {
  public:
    // Opens `library` (a soname for dlopen, or a path) on `source`, by path; or, with `fd` >= 0,
    // only through a duplicate of that descriptor (dvdcss_open_stream; `source` then only names
    // it). Finds the VOB sets with libdvdread through the same access. Throws DvdError: not a
    // DVD-Video; DescrambleError: libdvdcss cannot be loaded or cannot open the disc.
    CssDescrambler(const std::filesystem::path& source, int fd,
                   const char* library = "libdvdcss.so.2");
    ~CssDescrambler() override;
    CssDescrambler(const CssDescrambler&) = delete;
    CssDescrambler& operator=(const CssDescrambler&) = delete;

    const std::vector<SectorRun>& runs() const override { return runs_; }
    int read(std::uint64_t sector, std::span<std::byte> out) override;

    // The VOB set whose key covers `sector` ("VTS_01_1.VOB" for a titleset's title VOBs), ""
    // outside them: for messages and tests.
    std::string set_name(std::uint64_t sector) const;

  private:
    struct VobSet {
        SectorRun run;
        std::string name;
    };
    struct Library;
    struct Stream;

    const VobSet* set_of(std::uint64_t sector) const;
    std::string last_error() const;

    std::string name_;
    std::vector<VobSet> sets_;
    std::vector<SectorRun> runs_;
    std::unique_ptr<Library> library_;
    std::unique_ptr<Stream> stream_;
    const VobSet* keyed_ = nullptr;  // whose title key libdvdcss holds
};

}  // namespace freemkv
