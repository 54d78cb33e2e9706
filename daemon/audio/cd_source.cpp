#include "cd_source.hpp"

#include <cdio/cdio.h>
#include <cdio/cdtext.h>
#include <cdio/logging.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/cdrom.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "audio_error.hpp"
#include "cd_text.hpp"
#include "utf8.hpp"

namespace freemkv {

namespace {

// libcdio's last warning or error on this thread, for the AudioError that follows it.
thread_local std::string last_cdio_message;

void log_from_cdio(cdio_log_level_t level, const char* message) {
    std::string text = safe_text(message != nullptr ? message : "");
    switch (level) {
        case CDIO_LOG_DEBUG:
            spdlog::trace("libcdio: {}", text);
            break;
        case CDIO_LOG_INFO:
            spdlog::debug("libcdio: {}", text);
            break;
        case CDIO_LOG_WARN:
            spdlog::warn("libcdio: {}", text);
            last_cdio_message = text;
            break;
        default:
            spdlog::error("libcdio: {}", text);
            last_cdio_message = text;
            break;
    }
}

void route_cdio_log() {
    static std::once_flag once;
    std::call_once(once, [] { cdio_log_set_handler(&log_from_cdio); });
}

std::string with_cdio_message(std::string what) {
    if (!last_cdio_message.empty()) {
        what += " (libcdio: " + last_cdio_message + ")";
    }
    return what;
}

// libcdio's malloc'd strings.
std::string take(char* s) {
    std::string out = s != nullptr ? s : "";
    cdio_free(s);
    return out;
}

std::string read_all(int fd, const std::string& name) {
    std::string out;
    char buffer[4096];
    for (off_t offset = 0;;) {
        ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw AudioError(
                fmt::format("{}: cannot read the cue sheet: {}", name, std::strerror(errno)));
        }
        if (n == 0) {
            return out;
        }
        out.append(buffer, static_cast<std::size_t>(n));
        offset += n;
        if (out.size() > 1024 * 1024) {
            throw AudioError(name + ": not a cue sheet (larger than 1 MiB)");
        }
    }
}

struct CueFile {
    std::string name;
    std::string type;
};

// What libcdio may see of a cue sheet: the commands that describe the disc. Anything else is left
// out; CDTEXTFILE would have libcdio open a path of the cue's choosing with the daemon's rights
// (and hang on a FIFO), so a cue with it is refused.
bool describes_the_disc(const std::string& keyword) {
    static const std::set<std::string, std::less<>> known = {
        "ARRANGER",   "CATALOG", "COMPOSER",  "DISC_ID",   "FLAGS",  "GENRE",  "INDEX",
        "ISRC",       "MESSAGE", "PERFORMER", "POSTGAP",   "PREGAP", "REM",    "SIZE_INFO",
        "SONGWRITER", "TITLE",   "TOC_INFO1", "TOC_INFO2", "TRACK",  "UPC_EAN"};
    return known.contains(keyword);
}

// The cue's FILE lines, and the cue with them rewritten to `disc.bin`.
std::vector<CueFile> rewrite_files(const std::string& cue, std::string& rewritten) {
    std::vector<CueFile> files;
    std::istringstream in(cue);
    std::string line;
    while (std::getline(in, line)) {
        std::size_t at = line.find_first_not_of(" \t\r\xEF\xBB\xBF");
        if (at == std::string::npos) {
            rewritten += "\n";
            continue;
        }
        std::size_t keyword_end = line.find_first_of(" \t\r", at);
        std::string keyword =
            line.substr(at, keyword_end == std::string::npos ? keyword_end : keyword_end - at);
        if (keyword == "CDTEXTFILE") {
            throw std::invalid_argument(
                "CDTEXTFILE is not read (it names another file); put the CD-TEXT in the cue");
        }
        if (keyword != "FILE") {
            if (describes_the_disc(keyword)) {
                rewritten += line + "\n";
            }
            continue;
        }
        at += 4;  // FILE, then its name (quoted or not) and type, as below
        std::size_t p = line.find_first_not_of(" \t", at);
        CueFile file;
        if (p != std::string::npos && line[p] == '"') {
            std::size_t end = line.find('"', p + 1);
            if (end == std::string::npos) {
                throw std::invalid_argument("a FILE line's name has no closing quote");
            }
            file.name = line.substr(p + 1, end - p - 1);
            p = end + 1;
        } else if (p != std::string::npos) {
            std::size_t end = line.find_first_of(" \t", p);
            file.name = line.substr(p, end == std::string::npos ? end : end - p);
            p = end;
        }
        if (p != std::string::npos) {
            std::istringstream rest(line.substr(p));
            rest >> file.type;
        }
        files.push_back(file);
        rewritten += "FILE \"disc.bin\" " + file.type + "\n";
    }
    return files;
}

void write_file(const std::filesystem::path& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary);
    out << content;
    out.close();
    if (!out) {
        throw AudioError("cannot write " + path.string());
    }
}

// Why the device is no CD drive ("" when it is one, or cannot be asked): a loop device udev was
// told is a drive, or a disk, opens fine and then fails libcdio's table of contents with
// "error in ioctl CDROMREADTOCHDR: Invalid argument", which tells a person nothing. Every CD
// drive answers CDROM_GET_CAPABILITY, disc or not. `fd`: the drive opened O_NONBLOCK (the tray
// stays as it is).
std::string not_a_cd_drive(int fd) {
    if (fd < 0 || ::ioctl(fd, CDROM_GET_CAPABILITY, 0) >= 0) {
        return {};
    }
    return fmt::format("the device is not a CD drive (it refuses CD-ROM requests: {})",
                       std::strerror(errno));
}

}  // namespace

std::unique_ptr<CdSource> CdSource::open_drive(const std::string& device) {
    route_cdio_log();
    last_cdio_message.clear();
    std::unique_ptr<CdSource> source(new CdSource());
    source->name_ = device;
    source->cdio_ = cdio_open(device.c_str(), DRIVER_DEVICE);
    if (source->cdio_ == nullptr) {
        throw AudioError(with_cdio_message(device + ": cannot open the drive"));
    }
    // O_NONBLOCK: the status must be readable with the tray open.
    source->status_fd_ = ::open(device.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    cdio_hwinfo_t hw{};
    if (cdio_get_hwinfo(source->cdio_, &hw)) {
        source->drive_model_ = safe_text(fmt::format(
            "{} {}",
            std::string_view(hw.psz_vendor, ::strnlen(hw.psz_vendor, sizeof hw.psz_vendor)),
            std::string_view(hw.psz_model, ::strnlen(hw.psz_model, sizeof hw.psz_model))));
    }
    try {
        source->read_toc();
    } catch (const AudioError&) {
        if (std::string why = not_a_cd_drive(source->status_fd_); !why.empty()) {
            throw AudioError(device + ": cannot read an audio CD's table of contents: " + why);
        }
        throw;
    }
    return source;
}

std::unique_ptr<CdSource> CdSource::open_cue(const std::filesystem::path& cue) {
    route_cdio_log();
    std::unique_ptr<CdSource> source(new CdSource());
    source->name_ = cue.string();
    int fd = ::open(cue.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        throw AudioError(
            fmt::format("{}: cannot open the cue sheet: {}", cue.string(), std::strerror(errno)));
    }
    std::string text;
    try {
        text = read_all(fd, cue.string());
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    source->open_image(text, cue.parent_path());
    return source;
}

std::unique_ptr<CdSource> CdSource::open_cue_fds(int cue_fd, int bin_fd, const std::string& name) {
    route_cdio_log();
    std::unique_ptr<CdSource> source(new CdSource());
    source->name_ = name;
    std::string text = read_all(cue_fd, name);
    source->bin_fd_ = ::fcntl(bin_fd, F_DUPFD_CLOEXEC, 0);
    if (source->bin_fd_ < 0) {
        throw AudioError(fmt::format("{}: bad BIN descriptor: {}", name, std::strerror(errno)));
    }
    source->open_image(text, {});
    return source;
}

namespace {

// The cue's one FILE, of type BINARY, and the cue rewritten to name "disc.bin". Throws AudioError.
CueFile one_binary_file(const std::string& cue_text, const std::string& name,
                        std::string& rewritten) {
    std::vector<CueFile> files;
    try {
        files = rewrite_files(cue_text, rewritten);
    } catch (const std::invalid_argument& e) {
        throw AudioError(name + ": " + e.what());
    }
    if (files.size() != 1 || files[0].name.empty()) {
        throw AudioError(
            fmt::format("{}: not a cue sheet of one BIN file ({} FILE lines)", name, files.size()));
    }
    if (files[0].type != "BINARY") {
        throw AudioError(fmt::format("{}: FILE \"{}\" is of type \"{}\", only BINARY is read", name,
                                     safe_text(files[0].name), safe_text(files[0].type)));
    }
    return files[0];
}

}  // namespace

std::string read_cue_sheet(int fd, const std::string& name) {
    return read_all(fd, name);
}

std::filesystem::path cue_bin_path(const std::string& cue_text,
                                   const std::filesystem::path& cue_dir, const std::string& name) {
    std::string rewritten;
    std::filesystem::path bin = one_binary_file(cue_text, name, rewritten).name;
    return bin.is_relative() ? cue_dir / bin : bin;
}

void CdSource::open_image(const std::string& cue_text, const std::filesystem::path& cue_dir) {
    std::string rewritten;
    const CueFile file = one_binary_file(cue_text, name_, rewritten);
    std::string bin_name = name_ + ": FILE \"" + safe_text(file.name) + "\"";
    if (bin_fd_ < 0) {
        std::filesystem::path bin = file.name;
        if (bin.is_relative()) {
            bin = cue_dir / bin;
        }
        bin_name = bin.string();
        bin_fd_ = ::open(bin.c_str(), O_RDONLY | O_CLOEXEC);
        if (bin_fd_ < 0) {
            throw AudioError(fmt::format("{}: cannot open the BIN of {}: {}", bin.string(), name_,
                                         std::strerror(errno)));
        }
    }
    struct stat st {};
    if (::fstat(bin_fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
        throw AudioError(bin_name + ": the BIN is not a regular file");
    }
    bin_size_ = static_cast<std::uint64_t>(st.st_size);

    std::string dir_template =
        (std::filesystem::temp_directory_path() / "freemkv-cue.XXXXXX").string();
    if (::mkdtemp(dir_template.data()) == nullptr) {
        throw AudioError(fmt::format("{}: cannot make a temporary directory in {}: {}", name_,
                                     std::filesystem::temp_directory_path().string(),
                                     std::strerror(errno)));
    }
    temp_dir_ = dir_template;
    write_file(temp_dir_ / "disc.cue", rewritten);
    write_file(temp_dir_ / "disc.bin", "");
    std::error_code error;
    std::filesystem::resize_file(temp_dir_ / "disc.bin", bin_size_, error);
    if (error) {
        throw AudioError(
            fmt::format("{}: cannot make the sparse BIN copy: {}", name_, error.message()));
    }
    last_cdio_message.clear();
    cdio_ = cdio_open_cue((temp_dir_ / "disc.cue").c_str());
    if (cdio_ == nullptr) {
        throw AudioError(with_cdio_message(name_ + ": libcdio cannot read the cue sheet"));
    }
    try {
        read_toc();
    } catch (const AudioError& e) {
        if (toc_.tracks.empty()) {
            throw;
        }
        throw AudioError(
            fmt::format("{} (is {}, of {} bytes, short?)", e.what(), bin_name, bin_size_));
    }
}

bool CdSource::medium_present() const {
    if (bin_fd_ >= 0) {
        struct stat st {};
        return ::fstat(bin_fd_, &st) != 0 || static_cast<std::uint64_t>(st.st_size) >= bin_size_;
    }
    if (status_fd_ < 0) {
        return true;
    }
    int status = ::ioctl(status_fd_, CDROM_DRIVE_STATUS, CDSL_CURRENT);
    return status != CDS_NO_DISC && status != CDS_TRAY_OPEN;
}

CdSource::~CdSource() {
    if (cdio_ != nullptr) {
        cdio_destroy(cdio_);
    }
    if (status_fd_ >= 0) {
        ::close(status_fd_);
    }
    if (bin_fd_ >= 0) {
        ::close(bin_fd_);
    }
    if (!temp_dir_.empty()) {
        std::error_code error;
        std::filesystem::remove_all(temp_dir_, error);
        if (error) {
            spdlog::warn("{}: cannot remove {}: {}", name_, temp_dir_.string(), error.message());
        }
    }
}

void CdSource::read_toc() {
    track_t first = cdio_get_first_track_num(cdio_);
    track_t count = cdio_get_num_tracks(cdio_);
    if (first == CDIO_INVALID_TRACK || count == CDIO_INVALID_TRACK || count == 0) {
        throw AudioError(
            with_cdio_message(name_ + ": no disc, or its table of contents is unreadable"));
    }
    bool image = bin_fd_ >= 0;
    auto text = [&](cdtext_t* cdtext, cdtext_field_t field, track_t track) -> std::string {
        const char* s = cdtext != nullptr ? cdtext_get_const(cdtext, field, track) : nullptr;
        if (s == nullptr) {
            return {};
        }
        return image ? cue_text(s) : safe_text(s);
    };
    cdtext_t* cdtext = cdio_get_cdtext(cdio_);
    toc_ = {};
    toc_.album_title = text(cdtext, CDTEXT_FIELD_TITLE, 0);
    toc_.album_performer = text(cdtext, CDTEXT_FIELD_PERFORMER, 0);
    toc_.catalog = safe_text(take(cdio_get_mcn(cdio_)));
    for (track_t i = first; i < first + count; ++i) {
        lsn_t lsn = cdio_get_track_lsn(cdio_, i);
        if (lsn == CDIO_INVALID_LSN || lsn < 0) {
            throw AudioError(with_cdio_message(
                fmt::format("{}: track {} has no start in the table of contents", name_, i)));
        }
        CdTrack t;
        t.number = i;
        t.start = static_cast<std::uint32_t>(lsn);
        lba_t pregap = cdio_get_track_pregap_lba(cdio_, i);
        lba_t start_lba = cdio_lsn_to_lba(lsn);
        if (pregap != CDIO_INVALID_LBA && pregap >= CDIO_PREGAP_SECTORS && pregap < start_lba) {
            t.pregap = static_cast<std::uint32_t>(start_lba - pregap);
        }
        t.audio = cdio_get_track_format(cdio_, i) == TRACK_FORMAT_AUDIO;
        t.pre_emphasis = cdio_get_track_preemphasis(cdio_, i) == CDIO_TRACK_FLAG_TRUE;
        if (t.audio) {
            t.isrc = safe_text(take(cdio_get_track_isrc(cdio_, i)));
        }
        t.title = text(cdtext, CDTEXT_FIELD_TITLE, i);
        t.performer = text(cdtext, CDTEXT_FIELD_PERFORMER, i);
        toc_.tracks.push_back(std::move(t));
    }
    lsn_t leadout = cdio_get_track_lsn(cdio_, CDIO_CDROM_LEADOUT_TRACK);
    if (leadout == CDIO_INVALID_LSN || leadout < 0) {
        throw AudioError(with_cdio_message(name_ + ": the table of contents has no lead-out"));
    }
    toc_.leadout = static_cast<std::uint32_t>(leadout);
    try {
        check_toc(toc_);
    } catch (const std::invalid_argument& e) {
        throw AudioError(fmt::format("{}: {}", name_, e.what()));
    }
}

}  // namespace freemkv
