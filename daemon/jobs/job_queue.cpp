#include "job_queue.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>

#include <algorithm>
#include <iterator>
#include <set>

#include "disc_info.hpp"
#include "dvd_titles.hpp"
#include "io_error.hpp"
#include "naming.hpp"
#include "protection_check.hpp"
#include "published_rip.hpp"
#include "resume_scan.hpp"

namespace freemkv {

namespace {

// One job at a time per drive; an image counts as its own drive, known by its file when the
// caller handed it over open (its path is only a name then).
std::string drive_key(const JobRequest& r) {
    if (!r.drive.empty()) {
        return r.drive;
    }
    if (r.passed_open) {
        return "file " + std::to_string(r.file.dev) + ":" + std::to_string(r.file.ino);
    }
    return r.source.string();
}

// A re-queued job whose rip was published before the daemon stopped (its end not yet in the
// journal): it ends as the rip did. Only under the name the journal recorded for this disc.
std::optional<RipResult> published_before(const JobInfo& recorded, const JobInfo& job,
                                          const DiscInfo& disc, const QueueOptions& options) {
    if (recorded.output.empty() || recorded.output != job.output ||
        recorded.identity != job.identity) {
        return std::nullopt;
    }
    return published_rip(job.output, job.identity, disc.size_bytes, options.rip.sector_size,
                         *options.rip.file_system);
}

}  // namespace

namespace {

ExtractSettings extract_settings(const QueueOptions& options) {
    return ExtractSettings{options.naming, options.video, options.rip.writeback,
                           options.rip.file_system, options.rip.progress_interval};
}

// One process per state directory: two would rewrite each other's journal and names.
UniqueFd lock_state_dir(const std::filesystem::path& dir) {
    auto path = dir / "lock";
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd) {
        throw IoError("open", path, 0, errno);
    }
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            throw BusyError("another freemkvd is using the state directory " + dir.string());
        }
        throw IoError("lock", path, 0, errno);
    }
    return fd;
}

}  // namespace

JobQueue::JobQueue(const QueueOptions& options, JobListener* listener, Interrupted interrupted,
                   FileSystem& journal_fs, TitleExtractor extractor)
    : options_(options),
      listener_(listener),
      state_lock_(lock_state_dir(options.state_dir)),
      extractor_(std::move(extractor)),
      journal_(options.state_dir / "jobs.toml", journal_fs),
      journal_writer_(journal_) {
    std::lock_guard lock(mutex_);
    for (JobInfo& job : journal_.load()) {
        next_id_ = std::max(next_id_, job.id + 1);
        if (!job.ended() && job.request.passed_open && !job.released) {
            // Its descriptor died with the process that had it (a released job reads only its
            // image in the library).
            job.state = JobState::failed;
            job.result = RipResult::without_rip(
                RipOutcome::failed,
                "interrupted (freemkvd stopped or crashed); the image was handed over open: rip "
                "it again to resume",
                true);
        } else if (!job.ended() && interrupted == Interrupted::requeue) {
            // The rip resumes from its .part and mapfile.
            spdlog::info("job {} ({}) was interrupted; queued again", job.id,
                         job.request.source.string());
            job.state = JobState::queued;
            waiting_.push_back(job.id);
        } else if (!job.ended()) {
            job.state = JobState::failed;
            job.result = RipResult::without_rip(RipOutcome::failed,
                                                "interrupted (freemkvd stopped or crashed)", true);
        }
        entries_.push_back(Entry{std::move(job), {}, {}, {}});
    }
    save_journal();
    start_ready();
}

JobQueue::~JobQueue() {
    shutdown();
}

JobQueue::Entry* JobQueue::find(std::uint64_t id) {
    for (Entry& e : entries_) {
        if (e.info.id == id) {
            return &e;
        }
    }
    return nullptr;
}

std::uint64_t JobQueue::submit(JobRequest request) {
    if (request.source.empty()) {
        throw std::invalid_argument("no source given");
    }
    std::vector<std::jthread> ended_workers;  // declared first: joined last, without the lock
    JobInfo added;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) {
            throw BusyError("the daemon is shutting down");
        }
        // Joined after the lock, below. A listener submitting from a worker's own on_ended is not
        // among them: a worker leaves workers_ only after its last call.
        ended_workers.swap(finished_workers_);
        std::string key = drive_key(request);
        for (const Entry& e : entries_) {
            // A released job extracts from its image: its drive is free.
            if (!e.info.ended() && !e.info.released && drive_key(e.info.request) == key) {
                throw BusyError(request.source.string() + " already has job " +
                                std::to_string(e.info.id) + " (" +
                                std::string(to_string(e.info.state)) + ")");
            }
        }
        JobInfo job;
        job.id = next_id_++;
        auto image = std::move(request.image);
        auto bin = std::move(request.bin);
        job.request = std::move(request);
        job.created = std::chrono::system_clock::now();
        if (!job.request.refused.empty()) {
            job.state = JobState::failed;
            job.result = RipResult::without_rip(RipOutcome::failed, job.request.refused, false);
            job.finished = job.created;
        }
        entries_.push_back(Entry{job, {}, std::move(image), std::move(bin)});
        if (!job.ended()) {
            waiting_.push_back(job.id);
        }
        save_journal();
        added = job;
        start_ready();
    }
    if (added.ended()) {
        spdlog::warn("job {}: failed: {}", added.id, added.request.refused);
    }
    if (listener_) {
        listener_->on_added(added);
        if (added.ended()) {
            listener_->on_ended(added);
        }
    }
    return added.id;
}

void JobQueue::start_ready() {
    auto acquiring = static_cast<unsigned>(
        std::ranges::count_if(entries_, [](const Entry& e) { return e.acquiring; }));
    // In order; a released job (re-queued in its extract stage) needs no drive slot.
    for (auto it = waiting_.begin(); !stopping_ && it != waiting_.end();) {
        std::uint64_t id = *it;
        Entry* e = find(id);
        if (!e->info.released && acquiring >= options_.max_parallel) {
            ++it;
            continue;
        }
        it = waiting_.erase(it);
        e->acquiring = !e->info.released;
        acquiring += e->acquiring;
        e->info.state = JobState::running;
        workers_.emplace(id,
                         std::jthread([this, id, stop = e->stop.get_token()] { run(id, stop); }));
    }
}

bool JobQueue::cancel(std::uint64_t id) {
    JobInfo ended;
    {
        std::lock_guard lock(mutex_);
        Entry* e = find(id);
        if (!e || e->info.ended()) {
            return false;
        }
        if (e->info.state == JobState::running) {
            e->stop.request_stop();  // the rip checkpoints and ends as cancelled
            return true;
        }
        std::erase(waiting_, id);
        e->image.reset();
        e->bin.reset();
        e->info.state = JobState::cancelled;
        e->info.result =
            RipResult::without_rip(RipOutcome::cancelled, "cancelled before it started", false);
        e->info.finished = std::chrono::system_clock::now();
        ended = e->info;
        save_journal();  // may drop it from the history
    }
    if (listener_) {
        listener_->on_ended(ended);
    }
    idle_.notify_all();
    return true;
}

std::vector<JobInfo> JobQueue::jobs() const {
    std::lock_guard lock(mutex_);
    std::vector<JobInfo> all;
    for (const Entry& e : entries_) {
        all.push_back(e.info);
    }
    return all;
}

std::optional<JobInfo> JobQueue::job(std::uint64_t id) const {
    std::lock_guard lock(mutex_);
    for (const Entry& e : entries_) {
        if (e.info.id == id) {
            return e.info;
        }
    }
    return std::nullopt;
}

std::size_t JobQueue::queued() const {
    std::lock_guard lock(mutex_);
    return waiting_.size();
}

std::size_t JobQueue::running() const {
    std::lock_guard lock(mutex_);
    // Not workers_.size(): a worker stays there while it tells its listener the job ended.
    return static_cast<std::size_t>(std::ranges::count_if(
        entries_, [](const Entry& e) { return e.info.state == JobState::running; }));
}

void JobQueue::wait_idle() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return (waiting_.empty() || stopping_) && workers_.empty(); });
}

void JobQueue::shutdown() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        for (Entry& e : entries_) {
            if (e.info.state == JobState::running) {
                e.stop.request_stop();
            }
        }
    }
    // Workers remove themselves from workers_ when they end; wait for that.
    wait_idle();
    std::vector<std::jthread> ended_workers;
    {
        std::lock_guard lock(mutex_);
        ended_workers.swap(finished_workers_);
    }
    // ended_workers joins here, without the lock (each is past its last use of the queue).
}

void JobQueue::flush_journal() {
    journal_writer_.flush();
}

void JobQueue::save_journal() {
    std::vector<JobInfo> keep;
    std::size_t ended = 0;
    for (const Entry& e : entries_) {
        ended += e.info.ended();
    }
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (it->info.ended() && ended-- > JobJournal::history) {
            // The oldest ended jobs fall out of the history, and out of memory too once their
            // worker is gone (it still reads its entry).
            it = workers_.contains(it->info.id) ? std::next(it) : entries_.erase(it);
            continue;
        }
        keep.push_back(it->info);
        ++it;
    }
    // A copy, written on the writer's thread: the fsyncs happen without the lock.
    journal_writer_.post(std::move(keep));
}

void JobQueue::set_options(const QueueOptions& options) {
    std::lock_guard lock(mutex_);
    options_ = options;
    start_ready();               // max_parallel may have grown
    extract_slot_.notify_all();  // and max_extract
}

DiscInfo JobQueue::prepare(JobInfo& job, const QueueOptions& options,
                           std::shared_ptr<Descrambler>& descrambler, std::stop_token stop) {
    DiscInfo disc = job.request.image ? identify_disc(job.request.image->get(), job.request.source,
                                                      job.request.udev_props, stop)
                                      : identify_disc(job.request.source, job.request.udev_props,
                                                      job.request.file, stop);
    // Before a name is chosen or anything written: a disc that must not be ripped ends here.
    ProtectionPlan protection = plan_protection(job.request, disc);
    if (!protection.refusal.empty()) {
        throw DiscError(job.request.source.string() + ": " + protection.refusal);
    }
    descrambler = std::move(protection.descrambler);
    job.label = disc.label;
    job.identity = disc.identity;
    job.progress.bytes_total = disc.size_bytes;
    NameFields fields{disc.label, disc.volume_id, std::string(to_string(disc.type)),
                      job.request.drive, std::chrono::system_clock::now()};
    auto relative = expand_template(options.naming.pattern, fields);
    job.output.clear();
    // Before the lock, as it reads the library: a rip the journal does not list (any more).
    auto on_disk = find_resumable_rip(
        options.library, static_cast<std::size_t>(std::distance(relative.begin(), relative.end())),
        disc.identity, disc.size_bytes);

    // The name is chosen in two steps so that the lock is never held across the filesystem
    // probes (an exists() per earlier rip, up to thousands of lstat in choose_output): under the
    // lock, note the names promised to running rips and this disc's earlier outputs; without it,
    // probe and choose; under the lock again, record the choice unless another rip promised
    // itself a name meanwhile (then choose again: each retry sees one more promise). Any promise
    // counts, not only one of the same name: a small rip can promise, create and publish the name
    // this one probed as free and end before this one looks again.
    // A recorded output of a running job is the promise: two rips starting at once never get
    // the same name, although their files do not exist yet to tell them apart.
    while (true) {
        std::set<std::filesystem::path> reserved;
        std::vector<std::filesystem::path> earlier;  // of this disc, newest first
        std::filesystem::path own;                   // a re-queued job's name before the restart
        bool on_disk_named = false;                  // on_disk is another job's name
        std::uint64_t promised_before = 0;
        {
            std::lock_guard lock(mutex_);
            promised_before = names_promised_;
            for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
                const JobInfo& other = it->info;
                if (other.id == job.id || other.output.empty()) {
                    continue;
                }
                on_disk_named |= on_disk && other.output == *on_disk;
                if (other.state == JobState::running) {
                    reserved.insert(other.output);
                } else if (other.identity == disc.identity) {
                    earlier.push_back(other.output);
                }
            }
            if (const Entry* self = find(job.id); self->info.identity == disc.identity) {
                own = self->info.output;
            }
        }
        std::filesystem::path output;
        // An earlier, unfinished rip of this very disc: continue it.
        for (const auto& path : earlier) {
            if (!reserved.contains(path) && std::filesystem::exists(path.string() + ".part") &&
                std::filesystem::exists(mapfile_path(path))) {
                output = path;
                break;
            }
        }
        // A job re-queued after a restart keeps its own name.
        if (output.empty()) {
            output = own;
        }
        // Another job's name is left to the checks above: its rip may have ended since the scan.
        if (output.empty() && on_disk && !on_disk_named) {
            output = *on_disk;
        }
        if (output.empty() || reserved.contains(output)) {
            output = choose_output(options.library, relative, ".iso", options.naming.on_exists,
                                   reserved);
        }

        std::lock_guard lock(mutex_);
        if (names_promised_ != promised_before) {
            continue;
        }
        ++names_promised_;
        job.output = output;
        Entry* self = find(job.id);
        self->info.label = job.label;
        self->info.identity = job.identity;
        self->info.output = job.output;
        self->info.progress.bytes_total = job.progress.bytes_total;
        save_journal();
        break;
    }
    std::filesystem::create_directories(job.output.parent_path());
    return disc;
}

void JobQueue::run(std::uint64_t id, std::stop_token stop) {
    JobInfo job;
    QueueOptions options;
    {
        std::lock_guard lock(mutex_);
        job = find(id)->info;
        job.request.image = find(id)->image;
        job.request.bin = find(id)->bin;
        options = options_;
        save_journal();
    }
    if (listener_) {
        listener_->on_progress(job);
    }

    // Forwards the rip's (already coalesced) progress into the job and to the listener.
    struct Forward : RipObserver {
        JobQueue& q;
        std::uint64_t id;
        Forward(JobQueue& queue, std::uint64_t job_id) : q(queue), id(job_id) {}
        void on_progress(const RipProgress& p) override {
            JobInfo copy;
            {
                std::lock_guard lock(q.mutex_);
                Entry* e = q.find(id);
                e->info.progress = p;
                copy = e->info;
            }
            if (q.listener_) {
                q.listener_->on_progress(copy);
            }
        }
        void on_resize(const Resize& r) override {
            if (q.listener_) {
                q.listener_->on_resize(*q.job(id), r);
            }
        }
    } forward(*this, id);

    RipResult result;
    std::vector<TitleInfo> titles;
    bool video = false;
    Stage stage = Stage::acquire;
    try {
        if (is_audio_request(job.request)) {
            stage = Stage::audio;
            result = rip_audio(job, options, stop);
        } else if (job.released) {
            // Re-queued in its extract stage: the image is all it needs.
            if (!extractor_) {
                throw std::runtime_error("this freemkvd cannot extract titles; the image is " +
                                         extract_image(job).string());
            }
            titles = list_titles(extract_image(job));
            result.outcome = RipOutcome::ok;
            result.output = extract_image(job);
            video = true;
        } else {
            result = acquire(job, options, forward, stop);
            video = extractor_ &&
                    (result.outcome == RipOutcome::ok ||
                     result.outcome == RipOutcome::ok_with_errors) &&
                    release_for_extract(job, options, titles);
        }
        if (video) {
            stage = Stage::extract;
            result = extract(job, options, titles, result, stop);
        }
    } catch (const IdentifyCancelled&) {
        result = RipResult::without_rip(RipOutcome::cancelled, "cancelled", true);
    } catch (const std::exception& e) {
        result.outcome = RipOutcome::failed;
        result.reason = e.what();
    }
    finish(id, job, stage, result);
}

RipResult JobQueue::acquire(JobInfo& job, const QueueOptions& options, RipObserver& forward,
                            std::stop_token stop) {
    const std::uint64_t id = job.id;
    RipResult result;
    {
        const JobInfo recorded = job;  // the journal's name and disc, if it was re-queued
        std::shared_ptr<Descrambler> descrambler;
        DiscInfo disc = prepare(job, options, descrambler, stop);
        auto published = published_before(recorded, job, disc, options);
        RipOptions rip_options = options.rip;
        rip_options.block_sectors =
            options.ecc_sectors ? options.ecc_sectors : ecc_block_sectors(disc.type);
        rip_options.identity = job.identity;
        rip_options.source_file = job.request.file;
        rip_options.source_fd = job.request.image ? job.request.image->get() : -1;
        rip_options.descrambler = std::move(descrambler);
        spdlog::info("job {}: ripping {} to {}", id, job.request.source.string(),
                     job.output.string());
        result = published ? *published
                           : rip(job.request.source, job.output, rip_options, &forward, stop);
    }
    return result;
}

bool JobQueue::release_for_extract(JobInfo& job, const QueueOptions& options,
                                   std::vector<TitleInfo>& titles) {
    std::filesystem::path image = job.output;
    try {
        titles = list_titles(image);
    } catch (const DvdError& e) {
        spdlog::debug("job {}: not a DVD-Video ({}); it stays an image", job.id, e.what());
        return false;
    } catch (const std::exception& e) {
        // The image is ripped and published: whatever went wrong here, it is not lost.
        spdlog::warn("job {}: cannot list the titles of {} ({}); it stays an image", job.id,
                     image.string(), e.what());
        return false;
    }
    auto chosen = choose_titles(titles, job.request.titles, options.video);
    if (chosen.empty()) {
        spdlog::info("job {}: the DVD-Video lists no titles; it stays an image", job.id);
        return false;
    }
    plan_extract(job, image, titles, chosen, extract_settings(options));
    job.released = true;
    {
        std::lock_guard lock(mutex_);
        Entry* e = find(job.id);
        e->info.released = true;
        e->info.folder = job.folder;
        e->info.artifacts = job.artifacts;
        e->info.output = job.output;
        e->info.progress = job.progress;
        e->acquiring = false;
        e->image.reset();  // the image file is read from here on, not the handed-over source
        save_journal();
        start_ready();  // the drive slot is free
    }
    spdlog::info("job {}: acquired {}; extracting {} title(s) into {}", job.id, image.string(),
                 chosen.size(), job.folder.string());
    if (listener_) {
        listener_->on_acquired(job);
    }
    return true;
}

RipResult JobQueue::extract(JobInfo& job, const QueueOptions& options,
                            const std::vector<TitleInfo>& titles, const RipResult& base,
                            std::stop_token stop) {
    {
        std::unique_lock lock(mutex_);
        if (!extract_slot_.wait(lock, stop, [&] { return extracting_ < options_.max_extract; })) {
            RipResult r = base;
            r.outcome = RipOutcome::cancelled;
            r.reason = "cancelled before its extraction started; the image is kept at " +
                       extract_image(job).string();
            r.resumable = true;
            return r;
        }
        ++extracting_;
    }
    struct Slot {
        JobQueue& q;
        ~Slot() {
            {
                std::lock_guard lock(q.mutex_);
                --q.extracting_;
            }
            q.extract_slot_.notify_all();
        }
    } slot{*this};
    return run_extract(
        job, titles, extractor_, extract_settings(options), base,
        [this](const JobInfo& now, bool journal) { report_stage(now, journal); }, stop);
}

void JobQueue::report_stage(const JobInfo& now, bool journal) {
    JobInfo copy;
    {
        std::lock_guard lock(mutex_);
        Entry* e = find(now.id);
        e->info.label = now.label;
        e->info.identity = now.identity;
        e->info.artifacts = now.artifacts;
        e->info.folder = now.folder;
        e->info.output = now.output;
        e->info.progress = now.progress;
        if (journal) {
            save_journal();
        }
        copy = e->info;
    }
    if (listener_) {
        listener_->on_progress(copy);
    }
}

RipResult JobQueue::rip_audio(JobInfo& job, const QueueOptions& options, std::stop_token stop) {
    AudioSettings settings{options.audio, options.library, options.naming.on_exists,
                           options.rip.writeback, options.rip.progress_interval};
    const std::uint64_t id = job.id;
    // Two discs of the same album name ripping at once get two folders.
    auto claim = [this, id](const std::filesystem::path& folder) {
        std::lock_guard lock(mutex_);
        for (const Entry& e : entries_) {
            if (e.info.id != id && e.info.state == JobState::running && e.info.folder == folder) {
                return false;
            }
        }
        find(id)->info.folder = folder;
        return true;
    };
    return run_audio(
        job, settings, [this](const JobInfo& now, bool journal) { report_stage(now, journal); },
        claim, stop);
}

void JobQueue::finish(std::uint64_t id, const JobInfo& job, Stage stage, RipResult result) {
    JobInfo ended;
    bool interrupted = false;
    {
        std::lock_guard lock(mutex_);
        Entry* e = find(id);
        e->image.reset();
        e->bin.reset();
        e->acquiring = false;
        if (stage != Stage::acquire) {
            e->info.output = job.output;
            e->info.folder = job.folder;
            e->info.artifacts = job.artifacts;
        }
        if (stopping_ && result.outcome == RipOutcome::cancelled) {
            interrupted = true;
            // Stopped by a shutdown, not by a user: queued again at the next start.
            e->info.state = JobState::queued;
        } else {
            e->info.state =
                result.outcome == RipOutcome::ok || result.outcome == RipOutcome::ok_with_errors
                    ? JobState::done
                : result.outcome == RipOutcome::cancelled ? JobState::cancelled
                                                          : JobState::failed;
            e->info.result = result;
            e->info.finished = std::chrono::system_clock::now();
            if (stage == Stage::acquire && e->info.state == JobState::done &&
                e->info.artifacts.empty()) {
                // A data disc's one artifact: its image.
                e->info.artifacts.push_back(Artifact{.kind = ArtifactKind::image,
                                                     .path = result.output,
                                                     .state = ArtifactState::published,
                                                     .bytes_total = e->info.progress.bytes_total,
                                                     .bytes_done = e->info.progress.bytes_total});
            }
        }
        ended = e->info;
        save_journal();
    }
    if (stage == Stage::extract && !interrupted && result.outcome == RipOutcome::cancelled) {
        // A user's cancel: the titles written so far go; the image stays.
        std::error_code ec;
        std::filesystem::remove_all(part_folder(job.folder), ec);
    }
    if (interrupted) {
        spdlog::info("job {}: interrupted (freemkvd is stopping); it resumes at the next start",
                     id);
    } else {
        spdlog::log(result.outcome == RipOutcome::failed ? spdlog::level::err : spdlog::level::info,
                    "job {}: {}{}{}", id, to_string(result.outcome),
                    result.reason.empty() ? "" : ": ", result.reason);
    }
    if (listener_ && ended.ended()) {
        listener_->on_ended(ended);
    }
    // The worker's last touch of the queue. It leaves workers_ only now, after its listener
    // call, so that shutdown() (which waits for workers_ to empty, then joins) and the destructor
    // never free the queue under it. Its thread is joined by a later submit() or by shutdown().
    std::lock_guard lock(mutex_);
    finished_workers_.push_back(std::move(workers_.at(id)));
    workers_.erase(id);
    start_ready();
    idle_.notify_all();
}

}  // namespace freemkv
