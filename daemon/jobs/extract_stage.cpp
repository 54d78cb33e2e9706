#include "extract_stage.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "eta.hpp"
#include "io_error.hpp"
#include "main_feature.hpp"
#include "mapfile.hpp"
#include "naming.hpp"
#include "publish_dir.hpp"
#include "rate_meter.hpp"
#include "ripper.hpp"
#include "title_naming.hpp"
#include "title_sectors.hpp"
#include "video_lost.hpp"

namespace freemkv {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t dvd_sector = 2048;

const TitleInfo* find_title(const std::vector<TitleInfo>& titles, int number) {
    auto it = std::ranges::find(titles, number, &TitleInfo::number);
    return it == titles.end() ? nullptr : &*it;
}

bool present(const fs::path& p) {
    struct stat st {};
    return ::lstat(p.c_str(), &st) == 0;
}

// Claims "<name>.part" next to `image` for the first free name: one that neither exists nor
// has a ".part". mkdir never replaces, so two jobs never claim the same folder.
fs::path claim_folder(const fs::path& image, OnExists policy) {
    fs::path dir = image.parent_path();
    // The image's name made readable: "FREEMKV_TEST_DVD.iso" -> "Freemkv Test Dvd/".
    std::string stem = readable_label(image.stem().string());
    if (stem.empty()) {
        stem = image.stem().string();
    }
    constexpr int max_number = 9999;
    for (int n = 1; n <= max_number; ++n) {
        fs::path folder = dir / (n == 1 ? stem : fmt::format("{} ({})", stem, n));
        if (!present(folder)) {
            if (::mkdir(part_folder(folder).c_str(), 0755) == 0) {
                return folder;
            }
            if (errno != EEXIST) {
                throw IoError("create folder", part_folder(folder), 0, errno);
            }
        }
        if (policy == OnExists::fail) {
            throw std::runtime_error("output folder already exists: " + folder.string());
        }
    }
    throw std::runtime_error("no free name for " + (dir / stem).string());
}

void set_progress(JobInfo& job, double rate = 0) {
    std::uint64_t total = 0;
    std::uint64_t done = 0;
    for (const Artifact& a : job.artifacts) {
        total += a.bytes_total;
        done += std::min(a.bytes_done, a.bytes_total);
    }
    job.progress.phase = "extract";
    job.progress.bytes_total = total;
    job.progress.bytes_done = done;
    job.progress.rate = rate;
    job.progress.eta = eta_for(total - done, rate);
}

// Fills each title's seconds of video lost from the image's mapfile, which a rip keeps only when
// sectors stayed unreadable. False when the loss cannot be mapped (an unreadable mapfile, VOBs
// that are not where the format puts them): then any title may have lost video.
bool map_video_lost(JobInfo& job, const fs::path& image, const std::vector<TitleInfo>& titles) {
    fs::path map = mapfile_path(image);
    if (!present(map)) {
        return true;
    }
    try {
        Mapfile mapfile = Mapfile::load(map);
        TitleSectorMap vobs = title_sector_map(image);
        for (Artifact& a : job.artifacts) {
            const TitleInfo* title = find_title(titles, a.title);
            if (a.kind != ArtifactKind::title || !title) {
                continue;
            }
            VideoLoss loss = video_lost(*title, vobs, mapfile);
            a.seconds_lost = loss.seconds;
            if (loss.sectors > 0) {
                spdlog::warn("job {}: title {} lost {:.1f} s of video ({} unreadable sectors)",
                             job.id, a.title, loss.seconds, loss.sectors);
            }
        }
        return true;
    } catch (const std::exception& e) {
        spdlog::error("job {}: cannot map the unreadable sectors onto the titles: {}", job.id,
                      e.what());
        return false;
    }
}

// Writes one title into the part folder and publishes it there. Throws.
void write_title(JobInfo& job, Artifact& a, const fs::path& image, const TitleInfo& title,
                 const TitleExtractor& extractor, const ExtractSettings& settings,
                 const ExtractReport& report, RateMeter& meter, std::stop_token stop) {
    fs::path target = part_folder(job.folder) / a.path.lexically_relative(job.folder);
    fs::create_directories(target.parent_path());
    OutputFile out(target, settings.writeback, OutputFile::Mode::truncate, nullptr,
                   *settings.file_system);
    a.state = ArtifactState::writing;
    a.bytes_done = 0;
    a.error.clear();
    set_progress(job, meter.rate());
    report(job, true);
    meter.start(0);
    std::chrono::steady_clock::time_point last{};  // the first report goes out at once
    extractor(
        image, title, out,
        [&](std::uint64_t written) {
            a.bytes_done = written;
            a.bytes_total = std::max(a.bytes_total, written);
            auto now = std::chrono::steady_clock::now();
            if (now - last >= settings.progress_interval) {
                last = now;
                meter.update(written);
                set_progress(job, meter.rate());
                report(job, false);
            }
        },
        stop);
    if (stop.stop_requested()) {
        return;  // the .part stays; a resume writes it again
    }
    // The extras/ directory must survive a crash like the file in it.
    settings.file_system->sync_directory(part_folder(job.folder));
    // Not out.position(): a muxer ends by seeking back to finish its header.
    std::uint64_t end = out.position();
    out.publish();
    std::error_code ec;
    std::uintmax_t size = fs::file_size(target, ec);
    a.bytes_total = a.bytes_done = ec ? end : static_cast<std::uint64_t>(size);
    a.state = ArtifactState::written;
    set_progress(job, meter.rate());
    report(job, true);
}

}  // namespace

fs::path part_folder(const fs::path& folder) {
    return folder.string() + ".part";
}

fs::path extract_image(const JobInfo& job) {
    for (const Artifact& a : job.artifacts) {
        if (a.kind == ArtifactKind::image) {
            return a.path;
        }
    }
    return {};
}

std::vector<int> choose_titles(const std::vector<TitleInfo>& titles,
                               const std::vector<int>& requested, const VideoOptions& video) {
    if (!requested.empty()) {
        std::vector<int> chosen;
        for (int number : requested) {
            if (!find_title(titles, number)) {
                throw std::invalid_argument(
                    fmt::format("the disc has no title {} (it has {})", number, titles.size()));
            }
            if (std::ranges::find(chosen, number) == chosen.end()) {
                chosen.push_back(number);
            }
        }
        return chosen;
    }
    auto main = choose_main_feature(titles);
    if (!main) {
        return {};
    }
    std::vector<int> chosen{*main};
    if (video.titles == TitleSelection::all) {
        for (const TitleInfo& t : titles) {
            if (t.number != *main && t.duration >= video.min_length) {
                chosen.push_back(t.number);
            }
        }
    }
    return chosen;
}

void plan_extract(JobInfo& job, const fs::path& image, const std::vector<TitleInfo>& titles,
                  const std::vector<int>& chosen, const ExtractSettings& settings) {
    if (chosen.empty()) {
        throw std::invalid_argument("no title to extract");
    }
    // The templates are checked before anything is created.
    std::string stem = image.stem().string();
    (void)title_file(settings.naming.title_main, stem, chosen.front());
    (void)title_file(settings.naming.title_extra, stem, chosen.front());
    fs::path folder = claim_folder(image, settings.naming.on_exists);
    std::string name = folder.filename().string();
    job.folder = folder;
    job.artifacts.clear();
    Artifact img;
    img.kind = ArtifactKind::image;
    img.path = image;
    img.state = ArtifactState::published;
    std::error_code ec;
    img.bytes_total = img.bytes_done = static_cast<std::uint64_t>(fs::file_size(image, ec));
    job.artifacts.push_back(img);
    for (int number : chosen) {
        Artifact a;
        a.kind = ArtifactKind::title;
        a.title = number;
        bool main = number == chosen.front();
        a.path =
            folder / title_file(main ? settings.naming.title_main : settings.naming.title_extra,
                                name, number);
        a.bytes_total = find_title(titles, number)->sectors * dvd_sector;
        job.artifacts.push_back(a);
    }
    job.output = job.artifacts[1].path;  // the main artifact from now on
    set_progress(job);
}

RipResult run_extract(JobInfo& job, const std::vector<TitleInfo>& titles,
                      const TitleExtractor& extractor, const ExtractSettings& settings,
                      const RipResult& base, const ExtractReport& report, std::stop_token stop) {
    fs::path image = extract_image(job);
    fs::path part = part_folder(job.folder);
    RipResult result = base;
    bool loss_mapped = map_video_lost(job, image, titles);
    RateMeter meter;
    fs::create_directories(part);
    set_progress(job);
    report(job, false);

    for (Artifact& a : job.artifacts) {
        if (a.kind != ArtifactKind::title) {
            continue;
        }
        fs::path written = part / a.path.lexically_relative(job.folder);
        if (a.state == ArtifactState::written && present(written)) {
            continue;
        }
        if (present(written)) {
            // Published in the part folder (synced, then renamed) before a crash kept the journal
            // from saying so: whole.
            a.state = ArtifactState::written;
            a.bytes_total = a.bytes_done = static_cast<std::uint64_t>(fs::file_size(written));
            report(job, true);
            continue;
        }
        if (stop.stop_requested()) {
            break;
        }
        const TitleInfo* title = find_title(titles, a.title);
        try {
            if (!title) {
                throw std::runtime_error(fmt::format("the image has no title {}", a.title));
            }
            spdlog::info("job {}: extracting title {} to {}", job.id, a.title, a.path.string());
            write_title(job, a, image, *title, extractor, settings, report, meter, stop);
        } catch (const std::exception& e) {
            if (stop.stop_requested()) {
                break;  // the extractor's way of stopping: the title stays to be redone
            }
            spdlog::error("job {}: title {}: {}", job.id, a.title, e.what());
            a.state = ArtifactState::failed;
            a.error = e.what();
            report(job, true);
        }
    }
    if (stop.stop_requested()) {
        result.outcome = RipOutcome::cancelled;
        result.reason = "cancelled during extraction; the image is kept at " + image.string();
        result.resumable = true;
        result.output = image;
        return result;
    }

    std::vector<int> failed;
    bool lost = false;
    for (const Artifact& a : job.artifacts) {
        if (a.kind == ArtifactKind::title && a.state == ArtifactState::failed) {
            failed.push_back(a.title);
        }
        lost |= a.seconds_lost > 0;
    }
    std::size_t title_count = static_cast<std::size_t>(
        std::ranges::count(job.artifacts, ArtifactKind::title, &Artifact::kind));
    if (failed.size() == title_count) {
        result.outcome = RipOutcome::failed;
        result.reason = "no title could be extracted; the image is kept at " + image.string();
        result.resumable = false;
        result.output = image;
        fs::remove_all(part);
        return result;
    }

    // Publish the folder; a name taken since it was claimed is numbered (or refused) now.
    fs::path folder = job.folder;
    for (int n = 2;; ++n) {
        try {
            publish_directory(part, folder, *settings.file_system);
            break;
        } catch (const IoError& e) {
            if (e.code().value() != EEXIST || settings.naming.on_exists == OnExists::fail ||
                n > 9999) {
                throw;
            }
            folder = job.folder.parent_path() /
                     fmt::format("{} ({})", job.folder.filename().string(), n);
        }
    }
    for (Artifact& a : job.artifacts) {
        if (a.kind == ArtifactKind::title && a.state == ArtifactState::written) {
            a.path = folder / a.path.lexically_relative(job.folder);
            a.state = ArtifactState::published;
        }
    }
    job.folder = folder;

    Artifact& img = job.artifacts.front();
    // Unreadable sectors outside the chosen titles lose nothing, and the image goes; when they
    // cannot be mapped onto the titles, it stays.
    bool keep = settings.video.keep_image || lost || !loss_mapped || !failed.empty();
    fs::path map = mapfile_path(image);
    if (keep) {
        img.state = ArtifactState::kept;
        result.mapfile = present(map) ? map : fs::path();
    } else {
        fs::remove(image);
        fs::remove(map);
        settings.file_system->sync_directory(parent_directory(image));
        img.state = ArtifactState::deleted;
        result.mapfile.clear();
    }

    const Artifact* main = nullptr;
    for (const Artifact& a : job.artifacts) {
        if (a.kind == ArtifactKind::title && a.state == ArtifactState::published) {
            main = &a;
            break;
        }
    }
    job.output = main->path;
    result.output = main->path;
    result.resumable = false;
    if (!failed.empty()) {
        result.outcome = RipOutcome::ok_with_errors;
        std::string list;
        for (int t : failed) {
            list += (list.empty() ? "" : ", ") + std::to_string(t);
        }
        result.reason =
            "title(s) " + list + " could not be extracted; the image is kept at " + image.string();
    } else if (lost) {
        result.outcome = RipOutcome::ok_with_errors;
        result.reason =
            "video was lost to unreadable sectors; the image is kept at " + image.string();
    }
    set_progress(job);
    report(job, true);
    return result;
}

}  // namespace freemkv
