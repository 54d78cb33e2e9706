#pragma once

// The extract stage of a job whose image is a DVD-Video: after the acquire stage (the rip into
// "<library>/<name>.iso", unchanged) has released the drive, each chosen title is written as MKV
// through an OutputFile into the job's folder "<library>/<name>.part/", and once every title is
// done that folder is renamed to "<library>/<name>" (publish_dir.hpp). The image then goes,
// unless it is kept (VideoOptions::keep_image, a title that lost video, a title that failed):
// a kept image stays where the acquire stage put it, "<library>/<name>.iso" with its mapfile
// beside it, so that the resume scan finds it and ripping it again (StartRip on its path) works
// without the disc. Every step is recorded in the job's artifacts, which the queue journals, so
// that a restart in the middle redoes only the titles that were not written.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <stop_token>
#include <vector>

#include "chunk_policy.hpp"
#include "file_system.hpp"
#include "job.hpp"
#include "naming.hpp"
#include "output_file.hpp"
#include "title_info.hpp"
#include "video_options.hpp"

namespace freemkv {

// Told how many bytes of the title were written so far.
using TitleProgress = std::function<void(std::uint64_t bytes_written)>;
// Writes one title of the DVD-Video image as MKV into `out` (not publishing it), calling
// `progress` as it goes. Returns when done or when `stop` is requested; throws when it cannot.
using TitleExtractor =
    std::function<void(const std::filesystem::path& image, const TitleInfo& title, OutputFile& out,
                       const TitleProgress& progress, std::stop_token stop)>;

struct ExtractSettings {
    NamingOptions naming;
    VideoOptions video;
    PolicyConfig writeback;  // the same as the rip's
    FileSystem* file_system = &real_file_system();
    Nanos progress_interval = std::chrono::milliseconds(250);
};

// The titles to extract, main feature first: `requested` when given (throws
// std::invalid_argument naming a number the disc does not have), else per `video`: the main
// feature, or it and every other title at least min_length long. Empty when there are no titles.
std::vector<int> choose_titles(const std::vector<TitleInfo>& titles,
                               const std::vector<int>& requested, const VideoOptions& video);

// Starts the stage: claims the job's folder beside `image` (mkdir "<folder>.part"; a taken name
// is numbered or refused per naming.on_exists), and sets job.folder and job.artifacts: the image
// (published), then one pending title per chosen number; job.output becomes the first (main)
// title's final path. Throws.
void plan_extract(JobInfo& job, const std::filesystem::path& image,
                  const std::vector<TitleInfo>& titles, const std::vector<int>& chosen,
                  const ExtractSettings& settings);

// Called with the job after each change; `journal`: a state change worth journaling.
using ExtractReport = std::function<void(const JobInfo& job, bool journal)>;

// Writes the titles not yet written, publishes the folder, deletes or keeps the image. `base` is
// the acquire stage's result (its outcome and unreadable sectors carry over). Sets job.output to
// the main artifact. Returns the job's result; never throws for a title's trouble (that title
// fails, the others go on); cancelled when `stop` is requested, the folder left for a resume.
RipResult run_extract(JobInfo& job, const std::vector<TitleInfo>& titles,
                      const TitleExtractor& extractor, const ExtractSettings& settings,
                      const RipResult& base, const ExtractReport& report, std::stop_token stop);

// The image a released job extracts from, or "" when it has none.
std::filesystem::path extract_image(const JobInfo& job);

// "<folder>.part": where the job's titles are written until the folder is published.
std::filesystem::path part_folder(const std::filesystem::path& folder);

}  // namespace freemkv
