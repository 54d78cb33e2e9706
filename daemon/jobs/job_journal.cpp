#include "job_journal.hpp"

#include <spdlog/spdlog.h>

#include <toml++/toml.h>
#include <sstream>

#include "atomic_file.hpp"

namespace freemkv {

namespace {

std::int64_t to_unix(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::chrono::system_clock::time_point from_unix(std::int64_t s) {
    return std::chrono::system_clock::time_point(std::chrono::seconds(s));
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
    job.request.passed_open = t["passed_open"].value_or(false);
    job.label = str("label");
    job.identity = str("identity");
    job.output = str("output");
    job.progress.bytes_total = static_cast<std::uint64_t>(num("bytes_total"));
    job.progress.bytes_done = static_cast<std::uint64_t>(num("bytes_done"));
    job.created = from_unix(num("created"));
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

}  // namespace

std::vector<JobInfo> JobJournal::load() const {
    std::vector<JobInfo> jobs;
    if (!std::filesystem::exists(file_)) {
        return jobs;
    }
    try {
        toml::table root = toml::parse(read_whole_file(file_), file_.string());
        if (const toml::array* list = root["job"].as_array()) {
            for (const toml::node& n : *list) {
                if (!n.is_table()) {
                    throw std::runtime_error("a job entry is not a table");
                }
                jobs.push_back(from_toml(*n.as_table()));
            }
        }
    } catch (const std::exception& e) {
        auto aside = std::filesystem::path(file_.string() + ".corrupt");
        spdlog::error("job journal {} is unreadable ({}); moved to {}, starting empty",
                      file_.string(), e.what(), aside.string());
        std::filesystem::rename(file_, aside);
        return {};
    }
    return jobs;
}

void JobJournal::save(const std::vector<const JobInfo*>& jobs) const {
    toml::array list;
    for (const JobInfo* job : jobs) {
        list.push_back(to_toml(*job));
    }
    toml::table root{{"job", std::move(list)}};
    std::ostringstream text;
    text << "# freemkvd job journal: written by the daemon, do not edit while it runs.\n"
         << root << "\n";
    write_file_atomically(file_, text.str(), fs_);
}

}  // namespace freemkv
