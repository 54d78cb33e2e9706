#include "protection_check.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include "css.hpp"
#include "unique_fd.hpp"

namespace freemkv {

std::string protection_refusal(const JobRequest& request, const DiscInfo& disc) {
    // A DVD-Video has a UDF file system (blkid reports the UDF bridge as "udf"). Blu-ray (AACS)
    // and CDs are out of scope; an image's type is only guessed from its size, so anything not
    // known to be a BD or CD is looked at. A disc whose start is unreadable is left to the rip:
    // probing it for VOBs would cost retries before the sweep has even begun.
    if (disc.fs_type != "udf" || disc.start_unreadable || disc.type == DiscType::bd ||
        (disc.type == DiscType::cd && !disc.type_guessed)) {
        return {};
    }
    UniqueFd own;
    int fd = -1;
    if (request.image) {
        fd = request.image->get();
    } else {
        own = UniqueFd{::open(request.source.c_str(), O_RDONLY | O_CLOEXEC)};
        if (!own) {
            return {};  // the rip opens it again and reports why it cannot
        }
        expect_same_file(own.get(), request.file, request.source);
        fd = own.get();
    }
    Protection protection = detect_css(fd, request.source);
    if (!protection.css) {
        if (!protection.evidence.empty()) {
            spdlog::debug("{}: not CSS-protected: {}", request.source.string(),
                          protection.evidence);
        }
        return {};
    }
    bool dvdcss = dvdcss_available();
    if (dvdcss) {
        // Decrypting during acquisition (authenticating with libdvdcss and reading the title
        // VOBs through it) is not implemented: the image keeps the disc's scrambled sectors,
        // which libdvdread with libdvdcss can still decrypt from the image.
        spdlog::warn(
            "{}: CSS-protected ({}); libdvdcss is present, the rip goes on but the "
            "image's title VOBs stay scrambled (freemkvd does not decrypt while "
            "ripping)",
            request.source.string(), protection.evidence);
    }
    return css_refusal(protection, dvdcss);
}

}  // namespace freemkv
