#include "job_journal.hpp"

#include <spdlog/spdlog.h>

#include <toml++/toml.h>
#include <optional>
#include <sstream>
#include <string_view>

#include "atomic_file.hpp"
#include "utf8.hpp"

namespace freemkv {

namespace {

std::int64_t to_unix(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::chrono::system_clock::time_point from_unix(std::int64_t s) {
    return std::chrono::system_clock::time_point(std::chrono::seconds(s));
}

bool valid_utf8(std::string_view s) {
    while (!s.empty()) {
        std::size_t n = utf8_length(s);
        if (n == 0) {
            return false;
        }
        s.remove_prefix(n);
    }
    return true;
}

toml::table to_toml(const Artifact& a) {
    toml::table t{
        {"kind", std::string(to_string(a.kind))},
        {"path", a.path.string()},
        {"state", std::string(to_string(a.state))},
        {"bytes_total", static_cast<std::int64_t>(a.bytes_total)},
        {"bytes_done", static_cast<std::int64_t>(a.bytes_done)},
    };
    if (!a.error.empty()) {
        t.insert("error", a.error);
    }
    if (a.title != 0) {
        t.insert("title", static_cast<std::int64_t>(a.title));
    }
    if (a.seconds_lost != 0) {
        t.insert("seconds_lost", a.seconds_lost);
    }
    return t;
}

Artifact artifact_from_toml(const toml::table& t) {
    auto kind = parse_artifact_kind(t["kind"].value_or(std::string()));
    auto state = parse_artifact_state(t["state"].value_or(std::string()));
    if (!kind || !state) {
        throw std::runtime_error("artifact with a bad kind or state");
    }
    Artifact a;
    a.kind = *kind;
    a.state = *state;
    a.path = t["path"].value_or(std::string());
    a.bytes_total = static_cast<std::uint64_t>(t["bytes_total"].value_or(std::int64_t{0}));
    a.bytes_done = static_cast<std::uint64_t>(t["bytes_done"].value_or(std::int64_t{0}));
    a.error = t["error"].value_or(std::string());
    a.title = static_cast<int>(t["title"].value_or(std::int64_t{0}));
    a.seconds_lost = t["seconds_lost"].value_or(0.0);
    return a;
}

toml::table to_toml(const JobInfo& job) {
    toml::table t{
        {"id", static_cast<std::int64_t>(job.id)},
        {"drive", job.request.drive},
        {"source", job.request.source.string()},
        {"uid", static_cast<std::int64_t>(job.request.uid)},
        {"media", job.request.media},
        {"file_dev", static_cast<std::int64_t>(job.request.file.dev)},
        {"file_ino", static_cast<std::int64_t>(job.request.file.ino)},
        {"passed_open", job.request.passed_open},
        {"state", std::string(to_string(job.state))},
        {"label", job.label},
        {"identity", job.identity},
        {"output", job.output.string()},
        {"bytes_total", static_cast<std::int64_t>(job.progress.bytes_total)},
        {"bytes_done", static_cast<std::int64_t>(job.progress.bytes_done)},
        {"created", to_unix(job.created)},
    };
    if (!job.request.udev_props.empty()) {
        // A disc whose start is unreadable is identified by its udev properties: without them a
        // re-queued job would not recognise its own .part.
        toml::table udev;
        for (const auto& [key, value] : job.request.udev_props) {
            if (valid_utf8(key) && valid_utf8(value)) {  // TOML holds only UTF-8
                udev.insert(key, value);
            }
        }
        t.insert("udev", std::move(udev));
    }
    if (!job.request.titles.empty()) {
        toml::array titles;
        for (int title : job.request.titles) {
            titles.push_back(static_cast<std::int64_t>(title));
        }
        t.insert("titles", std::move(titles));
    }
    if (!job.folder.empty()) {
        t.insert("folder", job.folder.string());
    }
    if (job.released) {
        t.insert("released", true);
    }
    if (job.request.bin_file.known()) {
        t.insert("bin_dev", static_cast<std::int64_t>(job.request.bin_file.dev));
        t.insert("bin_ino", static_cast<std::int64_t>(job.request.bin_file.ino));
    }
    if (job.request.audio) {
        t.insert("audio", true);
    }
    if (!job.artifacts.empty()) {
        toml::array list;
        for (const Artifact& a : job.artifacts) {
            list.push_back(to_toml(a));
        }
        t.insert("artifact", std::move(list));
    }
    if (job.result) {
        const RipResult& r = *job.result;
        t.insert("outcome", std::string(to_string(r.outcome)));
        t.insert("reason", r.reason);
        t.insert("resumable", r.resumable);
        t.insert("unreadable_sectors", static_cast<std::int64_t>(r.unreadable_sectors));
        t.insert("result_output", r.output.string());
        t.insert("mapfile", r.mapfile.string());
        t.insert("finished", to_unix(job.finished));
    }
    return t;
}

constexpr std::string_view end_line = "# end of the journal\n";

JobInfo from_toml(const toml::table& t) {
    auto need = [&](const char* key) -> const toml::node& {
        const toml::node* n = t.get(key);
        if (!n) {
            throw std::runtime_error(std::string("job without '") + key + "'");
        }
        return *n;
    };
    auto str = [&](const char* key) { return t[key].value_or(std::string()); };
    auto num = [&](const char* key) { return t[key].value_or(std::int64_t{0}); };
    JobInfo job;
    job.id = static_cast<std::uint64_t>(need("id").value_or(std::int64_t{0}));
    auto state = parse_job_state(need("state").value_or(std::string()));
    if (job.id == 0 || !state) {
        throw std::runtime_error("job with a bad id or state");
    }
    job.state = *state;
    job.request.drive = str("drive");
    job.request.source = str("source");
    job.request.uid = static_cast<std::uint32_t>(num("uid"));
    job.request.media = str("media");
    job.request.file = {static_cast<std::uint64_t>(num("file_dev")),
                        static_cast<std::uint64_t>(num("file_ino"))};
    if (const toml::table* udev = t["udev"].as_table()) {
        for (const auto& [key, value] : *udev) {
            if (auto text = value.value<std::string>()) {
                job.request.udev_props.emplace(std::string(key.str()), *text);
            }
        }
    }
    job.request.passed_open = t["passed_open"].value_or(false);
    job.request.audio = t["audio"].value_or(false);
    job.request.bin_file = {static_cast<std::uint64_t>(num("bin_dev")),
                            static_cast<std::uint64_t>(num("bin_ino"))};
    job.label = str("label");
    job.identity = str("identity");
    job.output = str("output");
    job.progress.bytes_total = static_cast<std::uint64_t>(num("bytes_total"));
    job.progress.bytes_done = static_cast<std::uint64_t>(num("bytes_done"));
    job.created = from_unix(num("created"));
    // Journals from before the extract stage have none of these.
    if (const toml::array* titles = t["titles"].as_array()) {
        for (const toml::node& n : *titles) {
            job.request.titles.push_back(static_cast<int>(n.value_or(std::int64_t{0})));
        }
    }
    job.folder = str("folder");
    job.released = t["released"].value_or(false);
    if (const toml::array* list = t["artifact"].as_array()) {
        for (const toml::node& n : *list) {
            if (!n.is_table()) {
                throw std::runtime_error("an artifact entry is not a table");
            }
            job.artifacts.push_back(artifact_from_toml(*n.as_table()));
        }
    }
    if (auto outcome = parse_rip_outcome(str("outcome"))) {
        RipResult r;
        r.outcome = *outcome;
        r.reason = str("reason");
        r.resumable = t["resumable"].value_or(false);
        r.unreadable_sectors = static_cast<std::uint64_t>(num("unreadable_sectors"));
        r.output = str("result_output");
        r.mapfile = str("mapfile");
        job.result = r;
        job.finished = from_unix(num("finished"));
    }
    return job;
}

// Why a journal that parsed is not the whole file saved, or "" when it is. A save writes the
// number of jobs near the top and end_line last, so a file cut anywhere (even between two jobs,
// which still parses) is told from a complete one. Journals from before have no count; they
// are taken as they are.
std::string incomplete(const toml::table& root, std::string_view text, std::size_t read) {
    std::optional<std::int64_t> count = root["jobs"].value<std::int64_t>();
    if (!count) {
        return root.contains("job") ? "" : "truncated: it lists no jobs, not even none";
    }
    if (!text.ends_with(end_line)) {
        return "truncated: its last line is not \"" +
               std::string(end_line.substr(0, end_line.size() - 1)) + "\"";
    }
    if (static_cast<std::size_t>(*count) != read) {
        return "it says " + std::to_string(*count) + " jobs but lists " + std::to_string(read);
    }
    return "";
}

}  // namespace

std::vector<JobInfo> JobJournal::load() const {
    std::vector<JobInfo> jobs;
    if (!std::filesystem::exists(file_)) {
        return jobs;
    }
    std::string problem;
    try {
        std::string text = read_whole_file(file_);
        toml::table root = toml::parse(text, file_.string());
        if (const toml::array* list = root["job"].as_array()) {
            for (const toml::node& n : *list) {
                if (!n.is_table()) {
                    throw std::runtime_error("a job entry is not a table");
                }
                jobs.push_back(from_toml(*n.as_table()));
            }
        }
        problem = incomplete(root, text, jobs.size());
        if (!problem.empty() && !jobs.empty()) {
            // A cut file parses up to the cut, which lies within or after the last job read:
            // that one may have lost fields, the ones before it are whole.
            jobs.pop_back();
        }
    } catch (const std::exception& e) {
        problem = e.what();
        jobs.clear();
    }
    if (!problem.empty()) {
        // Never silently: the file is kept for a person to look at, and the log says so.
        auto aside = std::filesystem::path(file_.string() + ".corrupt");
        spdlog::error("job journal {} is damaged ({}); kept as {}; {}", file_.string(), problem,
                      aside.string(),
                      jobs.empty() ? std::string("starting with no jobs")
                                   : "going on with the " + std::to_string(jobs.size()) +
                                         " whole jobs before the damage");
        std::filesystem::rename(file_, aside);
    }
    return jobs;
}

void JobJournal::save(const std::vector<const JobInfo*>& jobs) const {
    toml::array list;
    for (const JobInfo* job : jobs) {
        list.push_back(to_toml(*job));
    }
    toml::table root{{"jobs", static_cast<std::int64_t>(jobs.size())}, {"job", std::move(list)}};
    std::ostringstream text;
    text << "# freemkvd job journal: written by the daemon, do not edit while it runs.\n"
         << root << "\n"
         << end_line;
    write_file_atomically(file_, text.str(), fs_);
}

}  // namespace freemkv
