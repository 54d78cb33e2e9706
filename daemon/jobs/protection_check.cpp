#include "protection_check.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include "css.hpp"
#include "css_descrambler.hpp"
#include "dvd_titles.hpp"
#include "unique_fd.hpp"

namespace freemkv {

ProtectionPlan plan_protection(const JobRequest& request, const DiscInfo& disc,
                               const char* dvdcss_library) {
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
    if (!dvdcss_available(dvdcss_library)) {
        return {css_refusal(protection, false), nullptr};
    }
    spdlog::info("{}: CSS-protected ({}); it is ripped decrypted through libdvdcss",
                 request.source.string(), protection.evidence);
    try {
        // libdvdcss opens a drive or an image by path (authenticating with the drive), and a
        // caller's image only through its descriptor.
        return {{},
                std::make_shared<CssDescrambler>(request.source, request.image ? fd : -1,
                                                 dvdcss_library)};
    } catch (const DescrambleError& e) {
        return {std::string("this DVD is CSS-protected and cannot be decrypted: ") + e.what(),
                nullptr};
    } catch (const DvdError& e) {
        return {std::string("this DVD is CSS-protected, and its VOBs cannot be found: ") + e.what(),
                nullptr};
    }
}

}  // namespace freemkv
