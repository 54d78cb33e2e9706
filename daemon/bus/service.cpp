#include "service.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <system_error>

#include "access.hpp"
#include "audio_error.hpp"
#include "audio_stage.hpp"
#include "cd_source.hpp"
#include "drive_publisher.hpp"
#include "dvd_titles.hpp"
#include "errors.hpp"
#include "job_object.hpp"
#include "job_publisher.hpp"
#include "manager_object.hpp"
#include "mkv_extractor.hpp"
#include "sd_check.hpp"

namespace freemkv::bus {

// What a worker's checks of an image found: the job to queue, or a block device for the loop
// to match to a managed drive.
struct CheckedImage {
    JobRequest request;
    dev_t block_device = 0;
};

namespace {

constexpr auto flush_period = std::chrono::milliseconds(250);

int on_stop_signal(sd_event_source* source, const signalfd_siginfo* info, void*) {
    spdlog::info("signal {}: stopping", info->ssi_signo);
    return sd_event_exit(sd_event_source_get_event(source), 0);
}

int on_reload_signal(sd_event_source*, const signalfd_siginfo*, void* service) {
    // A bad file leaves the running configuration as it was (reload() logs why).
    static_cast<Service*>(service)->reload([](const std::string&) {});
    return 0;
}

void add_signal(sd_event* event, int sig, sd_event_signal_handler_t handler, void* userdata) {
    check_sd(sd_event_add_signal(event, nullptr, sig, handler, userdata), "sd_event_add_signal");
}

// sd_notify() to systemd; without NOTIFY_SOCKET (not started by systemd) it does nothing.
void notify(const std::string& state) {
    if (int r = sd_notify(0, state.c_str()); r < 0) {
        spdlog::warn("sd_notify: {}", std::system_category().message(-r));
    }
}

// A name for a descriptor's file in messages and the job's Source: its path as this process sees
// it (the client's may differ: another mount namespace), or the descriptor.
std::string fd_name(int fd) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(fd), ec);
    if (ec || target.empty() || !target.is_absolute()) {
        return "the image handed over open";
    }
    return target.string();
}

struct CheckedPath {
    std::filesystem::path real;
    FileId file;
};

// StartRip's checks of a path the daemon is to read (a worker's: they stat, and resolve links).
// `what` starts the messages about it ("" for the image itself).
CheckedPath checked_image_path(const std::string& source, uid_t caller, bool system_bus,
                               const std::vector<std::filesystem::path>& import_folders,
                               const std::string& what = "") {
    std::filesystem::path path(source);
    if (!path.is_absolute()) {
        fail(api::error_invalid_args, what + "path '" + source + "' is not absolute");
    }
    if (is_kernel_interface(path)) {
        fail(api::error_invalid_args,
             what + source + " is a kernel interface (/proc, /sys), not an image");
    }
    // The daemon reads a path with its own rights: on the system bus, only for root or from a
    // folder the administrator opened for it. Everyone else hands the image over open.
    if (system_bus && caller != 0 && !in_import_folder(path, import_folders)) {
        fail(api::error_not_authorized,
             what + source +
                 ": on the system bus an image path is taken only from root or inside an import "
                 "folder (images.import_folders); hand the image over open instead "
                 "(StartRipImage; freemkvctl rip IMAGE does)");
    }
    std::error_code ec;
    auto real = std::filesystem::canonical(path, ec);
    if (ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted) {
        fail(api::error_not_authorized,
             what + source + ": freemkvd may not read it: " + ec.message());
    }
    if (ec) {
        fail(api::error_not_found, what + source + ": " + ec.message());
    }
    if (is_kernel_interface(real)) {
        fail(api::error_invalid_args,
             what + source + " is a kernel interface (/proc, /sys), not an image");
    }
    struct stat st {};
    if (::stat(real.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        fail(api::error_invalid_args, what + source + " is not a disc image (not a regular file)");
    }
    return {real, {st.st_dev, st.st_ino}};
}

// StartRip on an image path: the checks above; a cue sheet's BIN passes them too.
CheckedImage image_path_request(const std::string& source, uid_t caller, bool system_bus,
                                const std::vector<std::filesystem::path>& import_folders) {
    CheckedPath checked = checked_image_path(source, caller, system_bus, import_folders);
    const std::filesystem::path& real = checked.real;
    JobRequest request;
    request.uid = caller;
    request.source = real;
    request.file = checked.file;
    if (is_audio_request(request)) {
        // The BIN the cue names is read with the daemon's rights too: the same rules.
        std::filesystem::path bin;
        try {
            UniqueFd cue(::open(real.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
            struct stat st {};
            if (!cue) {
                fail(api::error_not_authorized,
                     source + ": freemkvd may not read it: " + std::strerror(errno));
            }
            if (::fstat(cue.get(), &st) != 0 || FileId{st.st_dev, st.st_ino} != checked.file) {
                fail(api::error_failed, source + ": changed while it was checked; ask again");
            }
            bin = cue_bin_path(read_cue_sheet(cue.get(), source), real.parent_path(), source);
        } catch (const AudioError& e) {
            fail(api::error_invalid_args, e.what());
        }
        request.bin_file = checked_image_path(bin.string(), caller, system_bus, import_folders,
                                              "the BIN of " + source + ", ")
                               .file;
    }
    return {std::move(request)};
}

// StartRipImage's checks of the descriptor (a worker's: fstat may wait on a FUSE or NFS server).
// A block device comes back with only its number and name, for the loop to match to a drive.
// A copy of a descriptor passed in a message, ours until the work on it ends (the message's copy
// goes with the message). Throws sdbus::Error.
std::shared_ptr<UniqueFd> keep_descriptor(int fd) {
    auto kept = std::make_shared<UniqueFd>(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
    if (!*kept) {
        fail(api::error_failed, std::string("cannot keep the descriptor: ") + std::strerror(errno));
    }
    return kept;
}

// check_image_fd() with its refusals as named errors: an image or a block device, else throws.
ImageFd checked_image_fd(int fd, const std::string& name) {
    ImageFd checked = check_image_fd(fd);
    switch (checked.verdict) {
        case ImageFd::Verdict::unreadable:
            fail(api::error_not_authorized, name + ": " + checked.why);
        case ImageFd::Verdict::refused:
            fail(api::error_invalid_args, name + ": " + checked.why);
        case ImageFd::Verdict::block_device:
        case ImageFd::Verdict::image:
            break;
    }
    return checked;
}

CheckedImage image_fd_request(std::shared_ptr<UniqueFd> image, uid_t caller,
                              std::shared_ptr<UniqueFd> bin) {
    std::string name = fd_name(image->get());
    ImageFd checked = checked_image_fd(image->get(), name);
    JobRequest request;
    request.uid = caller;
    request.source = name;
    if (checked.verdict == ImageFd::Verdict::block_device) {
        if (bin) {
            fail(api::error_invalid_args,
                 name + ": option 'bin' goes with a cue sheet, not a drive");
        }
        return {std::move(request), checked.device};
    }
    if (bin) {
        std::string bin_name = fd_name(bin->get());
        if (checked_image_fd(bin->get(), bin_name).verdict != ImageFd::Verdict::image) {
            fail(api::error_invalid_args, bin_name + ": the cue sheet's BIN must be a file");
        }
        request.bin = std::move(bin);
        request.audio = true;
    } else if (is_audio_request(request)) {
        fail(api::error_invalid_args,
             name +
                 ": a cue sheet handed over open needs its BIN file handed over too (option "
                 "'bin'; freemkvctl rip CUE does that)");
    }
    request.file = checked.file;
    request.passed_open = true;
    request.image = std::move(image);
    return {std::move(request)};
}

}  // namespace

Service::Service(const Config& config, BusKind bus, ConfigLoader reload_config)
    : config_(config), bus_kind_(bus), reload_config_(std::move(reload_config)) {
    connection_ = bus == BusKind::system ? sdbus::createSystemBusConnection()
                                         : sdbus::createSessionBusConnection();
    loop_.attach(*connection_);
    manager_ = std::make_unique<ManagerObject>(*connection_, *this);
    drive_publisher_ = std::make_unique<DrivePublisher>(*connection_);
    // The monitor first: an event that races the enumeration is queued, not lost, and the
    // tracker makes a repeat harmless. Events run on the loop, so drives_ exists by then.
    watcher_ = std::make_unique<DriveWatcher>(loop_.native(),
                                              [this](const freemkv::Drive& d, bool managed) {
                                                  drives_->on_event(d, managed);
                                                  notify_status();
                                              });
    job_publisher_ =
        std::make_unique<JobPublisher>(*connection_, loop_, *manager_, config_.history);
    queue_ = std::make_unique<JobQueue>(config_.jobs, job_publisher_.get(),
                                        JobQueue::Interrupted::requeue, real_file_system(),
                                        mkv_extractor());
    DriveSystem system;
    // The ioctl can take seconds (a drive spinning down, a stuck tray): not on the loop.
    system.eject = [worker = worker_.get()](const std::filesystem::path& device) {
        worker->post([device] {
            try {
                freemkv::eject(device);
            } catch (const std::exception& e) {
                spdlog::warn("cannot eject {}: {}", device.string(), e.what());
            }
        });
    };
    drives_ = std::make_unique<DriveManager>(config_.drives, *queue_, *drive_publisher_, system);
    drives_->enumerate();
    // The drive manager hears of every job after its object: jobs make their drives busy.
    job_publisher_->attach(*queue_, *drives_);
    loop_.every(flush_period, [this] {
        job_publisher_->flush();
        notify_status();
    });
}

Service::~Service() {
    // The background task first (it posts to the loop and reads reload_config_), then the
    // queue's workers: they report into the objects.
    worker_.reset();
    queue_.reset();
}

int Service::run() {
    // main() blocked these in every thread before any was started.
    add_signal(loop_.native(), SIGTERM, on_stop_signal, nullptr);
    add_signal(loop_.native(), SIGINT, on_stop_signal, nullptr);
    add_signal(loop_.native(), SIGHUP, on_reload_signal, this);
    // Sends WATCHDOG=1 from this loop well within WatchdogSec, when systemd asks for it.
    check_sd(sd_event_set_watchdog(loop_.native(), true), "sd_event_set_watchdog");
    // Every object exists; now clients may find us.
    connection_->requestName(api::bus_name);
    spdlog::info("serving {} on the {} bus", api::bus_name,
                 bus_kind_ == BusKind::system ? "system" : "session");
    // The discs already in the drives, as if inserted now.
    drives_->queue_present_discs();
    notify_status();
    notify("READY=1");
    int code = loop_.run();
    notify("STOPPING=1\nSTATUS=stopping: checkpointing running rips");
    std::vector<std::uint64_t> running;
    for (const JobInfo& job : queue_->jobs()) {
        if (job.state == JobState::running) {
            running.push_back(job.id);
        }
    }
    // Running rips checkpoint and are queued again at the next start.
    queue_->shutdown();
    std::vector<std::uint64_t> interrupted;
    for (const JobInfo& job : queue_->jobs()) {
        if (!job.ended() && std::find(running.begin(), running.end(), job.id) != running.end()) {
            interrupted.push_back(job.id);
        }
    }
    try {
        job_publisher_->interrupted(interrupted);
    } catch (const sdbus::Error& e) {
        spdlog::warn("telling clients of the interrupted jobs: {}", e.what());
    }
    try {
        connection_->releaseName(api::bus_name);
    } catch (const sdbus::Error& e) {
        spdlog::warn("releasing {}: {}", api::bus_name, e.what());
    }
    return code;
}

void Service::reload(std::function<void(const std::string& error)> done) {
    spdlog::info("reloading the configuration");
    notify("RELOADING=1");
    worker_->post([this, done = std::move(done)] {
        auto fresh = std::make_shared<Config>();
        std::string error;
        try {
            *fresh = reload_config_();
        } catch (const std::exception& e) {
            error = e.what();
        }
        loop_.post([this, fresh, error, done] {
            if (error.empty()) {
                apply(*fresh);
            } else {
                spdlog::error("reload failed, keeping the current configuration: {}", error);
            }
            notify("READY=1");
            done(error);
        });
    });
}

void Service::apply(const Config& fresh) {
    bool library_changed = fresh.jobs.library != config_.jobs.library;
    config_ = fresh;
    queue_->set_options(config_.jobs);
    drives_->reload(config_.drives);
    if (library_changed) {
        manager_->emitPropertiesChangedSignal(org::freemkv::Rip1::Manager_adaptor::INTERFACE_NAME,
                                              {"LibraryPath"});
    }
    job_publisher_->set_history(config_.history);
    notify_status();
    spdlog::info("configuration reloaded");
}

void Service::notify_status() {
    std::size_t running = queue_ ? queue_->running() : 0;
    std::size_t queued = queue_ ? queue_->queued() : 0;
    std::size_t drives = drives_ ? drives_->drives().size() : 0;
    std::string status = running || queued ? fmt::format("ripping {}, queued {}", running, queued)
                                           : std::string("idle");
    status += fmt::format("; {} drive{}", drives, drives == 1 ? "" : "s");
    if (status != status_) {
        status_ = status;
        notify("STATUS=" + status);
    }
}

void Service::start_rip(const std::string& source, uid_t caller, Reply reply,
                        std::vector<int> titles) {
    try {
        if (source.empty()) {
            fail(api::error_invalid_args, "no source given: a drive name, device or image path");
        }
        if (const freemkv::Drive* known = drives_->find(source)) {
            JobRequest request = drive_request(known->name, caller);
            request.titles = titles;
            reply(submit(std::move(request)), nullptr);
            return;
        }
        if (source.find('/') == std::string::npos) {
            fail(api::error_not_found, "there is no drive named '" + source + "'" + drive_list());
        }
        if (source.starts_with("/dev/")) {
            fail(api::error_not_found, source + " is not a drive freemkvd manages" + drive_list());
        }
    } catch (const sdbus::Error& e) {
        reply({}, &e);
        return;
    }
    bool system_bus = bus_kind_ == BusKind::system;
    background(
        [source, caller, system_bus, folders = config_.import_folders, titles] {
            CheckedImage checked = image_path_request(source, caller, system_bus, folders);
            checked.request.titles = titles;
            return checked;
        },
        std::move(reply));
}

void Service::start_rip_image(int fd, uid_t caller, Reply reply, std::vector<int> titles,
                              std::shared_ptr<UniqueFd> bin) {
    std::shared_ptr<UniqueFd> image;
    try {
        image = keep_descriptor(fd);
    } catch (const sdbus::Error& e) {
        reply({}, &e);
        return;
    }
    // fstat on a FUSE or NFS file can wait on its server.
    background(
        [image, caller, titles, bin] {
            CheckedImage checked = image_fd_request(image, caller, bin);
            checked.request.titles = titles;
            return checked;
        },
        std::move(reply));
}

void Service::background(std::function<CheckedImage()> check, Reply reply) {
    worker_->post([this, check = std::move(check), reply = std::move(reply)] {
        auto checked = std::make_shared<CheckedImage>();
        std::shared_ptr<sdbus::Error> error;
        try {
            *checked = check();
        } catch (const sdbus::Error& e) {
            error = std::make_shared<sdbus::Error>(e);
        } catch (const std::exception& e) {
            error = std::make_shared<sdbus::Error>(api::error_failed, safe_text(e.what()));
        }
        loop_.post([this, checked, error, reply] {
            if (error) {
                reply({}, error.get());
                return;
            }
            try {
                JobRequest& request = checked->request;
                if (checked->block_device != 0) {
                    std::string drive = drive_of(checked->block_device, request.source);
                    JobRequest by_drive = drive_request(drive, request.uid);
                    by_drive.titles = request.titles;
                    reply(submit(std::move(by_drive)), nullptr);
                } else {
                    reply(submit(std::move(request)), nullptr);
                }
            } catch (const sdbus::Error& e) {
                reply({}, &e);
            }
        });
    });
}

std::string Service::drive_of(dev_t device, const std::filesystem::path& name) const {
    // The daemon opens its drives itself (O_DIRECT, one job per drive).
    for (const auto& [drive_name, d] : drives_->drives()) {
        struct stat st {};
        if (::stat(d.device.c_str(), &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == device) {
            return drive_name;
        }
    }
    fail(api::error_not_found,
         name.string() + " is a block device but not a drive freemkvd manages" + drive_list());
}

JobRequest Service::drive_request(const std::string& name, uid_t caller) {
    return rip_request(drive_with_disc(name), caller);
}

freemkv::Drive Service::drive_with_disc(const std::string& name) {
    // Media come and go: ask udev now, not what it said at start-up.
    freemkv::Drive d;
    try {
        d = drives_->refresh(name);
    } catch (const std::system_error& e) {
        fail(api::error_not_found, name + ": " + e.what());
    }
    if (!d.media_present) {
        fail(api::error_no_media, d.name + " has no disc in it");
    }
    return d;
}

std::string Service::drive_list() const {
    std::string names;
    for (const auto& [name, drive] : drives_->drives()) {
        names += (names.empty() ? "" : ", ") + name;
    }
    return names.empty() ? " (it manages none)" : " (its drives: " + names + ")";
}

std::string Service::submit(JobRequest request) {
    try {
        return JobObject::path_for(queue_->submit(std::move(request)));
    } catch (const BusyError& e) {
        fail(api::error_busy, e.what());
    } catch (const std::invalid_argument& e) {
        fail(api::error_invalid_args, e.what());
    }
}

void Service::list_titles(const std::string& source, uid_t caller, TitlesReply reply) {
    std::filesystem::path device;
    try {
        if (source.empty()) {
            fail(api::error_invalid_args, "no source given: a drive name, device or image path");
        }
        if (const freemkv::Drive* known = drives_->find(source)) {
            device = drive_with_disc(known->name).device;
        } else if (source.find('/') == std::string::npos) {
            fail(api::error_not_found, "there is no drive named '" + source + "'" + drive_list());
        } else if (source.starts_with("/dev/")) {
            fail(api::error_not_found, source + " is not a drive freemkvd manages" + drive_list());
        }
    } catch (const sdbus::Error& e) {
        reply({}, &e);
        return;
    }
    if (!device.empty()) {
        titles_in_background([device] { return freemkv::list_titles(device); }, std::move(reply));
        return;
    }
    bool system_bus = bus_kind_ == BusKind::system;
    titles_in_background(
        [source, caller, system_bus, folders = config_.import_folders] {
            CheckedImage checked = image_path_request(source, caller, system_bus, folders);
            return freemkv::list_titles(checked.request.source);
        },
        std::move(reply));
}

void Service::list_titles_image(int fd, TitlesReply reply) {
    std::shared_ptr<UniqueFd> image;
    try {
        image = keep_descriptor(fd);
    } catch (const sdbus::Error& e) {
        reply({}, &e);
        return;
    }
    titles_in_background(
        [image] {
            std::string name = fd_name(image->get());
            checked_image_fd(image->get(), name);
            return freemkv::list_titles(image->get(), name);
        },
        std::move(reply));
}

void Service::titles_in_background(std::function<std::vector<TitleInfo>()> read,
                                   TitlesReply reply) {
    worker_->post([this, read = std::move(read), reply = std::move(reply)] {
        auto titles = std::make_shared<std::vector<TitleInfo>>();
        std::shared_ptr<sdbus::Error> error;
        try {
            *titles = read();
        } catch (const sdbus::Error& e) {
            error = std::make_shared<sdbus::Error>(e);
        } catch (const DvdError& e) {
            error = std::make_shared<sdbus::Error>(api::error_not_dvd_video, safe_text(e.what()));
        } catch (const std::exception& e) {
            error = std::make_shared<sdbus::Error>(api::error_failed, safe_text(e.what()));
        }
        loop_.post([titles, error, reply] { reply(*titles, error.get()); });
    });
}

std::vector<std::string> Service::job_paths() const {
    return job_publisher_->paths();
}

std::vector<std::string> Service::drive_paths() const {
    return drive_publisher_->paths();
}

}  // namespace freemkv::bus
