#include "musicbrainz.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace freemkv {
namespace {

using json = nlohmann::json;

// Reads one response, naming the JSON path of whatever is missing or wrong.
class Reader {
  public:
    explicit Reader(const std::string& source) : source_(source) {}

    [[noreturn]] void fail(const std::string& what) const {
        throw AudioError("MusicBrainz response from " + source_ + ": " + what);
    }

    const json& member(const json& object, const char* key, const std::string& path) const {
        auto it = object.find(key);
        if (it == object.end()) {
            fail(path + "." + key + " is missing");
        }
        return *it;
    }
    const json& array(const json& object, const char* key, const std::string& path) const {
        const json& value = member(object, key, path);
        if (!value.is_array()) {
            fail(path + "." + key + " is not an array");
        }
        return value;
    }
    const json& object_at(const json& array, std::size_t i, const std::string& path) const {
        const json& value = array[i];
        if (!value.is_object()) {
            fail(path + "[" + std::to_string(i) + "] is not an object");
        }
        return value;
    }
    std::string text(const json& object, const char* key, const std::string& path) const {
        const json& value = member(object, key, path);
        if (!value.is_string()) {
            fail(path + "." + key + " is not a string");
        }
        return value.get<std::string>();
    }
    // "" when missing or null.
    std::string optional_text(const json& object, const char* key, const std::string& path) const {
        auto it = object.find(key);
        if (it == object.end() || it->is_null()) {
            return "";
        }
        return text(object, key, path);
    }
    long integer(const json& object, const char* key, const std::string& path, long max) const {
        const json& value = member(object, key, path);
        if (!value.is_number_integer()) {
            fail(path + "." + key + " is not an integer");
        }
        // Compared as what it is: a huge unsigned value must not wrap.
        bool fits = value.is_number_unsigned()
                        ? value.get<std::uint64_t>() <= std::uint64_t(max)
                        : value.get<std::int64_t>() >= 0 && value.get<std::int64_t>() <= max;
        if (!fits) {
            fail(path + "." + key + " is out of range");
        }
        return static_cast<long>(value.get<std::int64_t>());
    }
    std::string artist_credit(const json& object, const std::string& path) const {
        const json& credits = array(object, "artist-credit", path);
        std::string joined;
        for (std::size_t i = 0; i < credits.size(); ++i) {
            std::string at = path + ".artist-credit[" + std::to_string(i) + "]";
            const json& credit = object_at(credits, i, path + ".artist-credit");
            joined += text(credit, "name", at);
            joined += optional_text(credit, "joinphrase", at);
        }
        if (joined.empty()) {
            fail(path + ".artist-credit is empty");
        }
        return joined;
    }

  private:
    const std::string& source_;
};

bool lists_disc(const Reader& r, const json& medium, const std::string& path,
                const std::string& disc_id) {
    auto it = medium.find("discs");
    if (it == medium.end() || it->is_null()) {
        return false;
    }
    const json& discs = r.array(medium, "discs", path);
    for (std::size_t i = 0; i < discs.size(); ++i) {
        if (r.text(r.object_at(discs, i, path + ".discs"), "id",
                   path + ".discs[" + std::to_string(i) + "]") == disc_id) {
            return true;
        }
    }
    return false;
}

MusicBrainzRelease read_release(const Reader& r, const json& release, const json& medium,
                                std::size_t media, const std::string& release_path,
                                const std::string& medium_path) {
    MusicBrainzRelease album;
    album.release_id = r.text(release, "id", release_path);
    album.title = r.text(release, "title", release_path);
    album.artist = r.artist_credit(release, release_path);
    album.date = r.optional_text(release, "date", release_path);
    album.medium = static_cast<int>(r.integer(medium, "position", medium_path, 999));
    album.media = static_cast<int>(media);
    const json& tracks = r.array(medium, "tracks", medium_path);
    for (std::size_t i = 0; i < tracks.size(); ++i) {
        std::string path = medium_path + ".tracks[" + std::to_string(i) + "]";
        const json& track = r.object_at(tracks, i, medium_path + ".tracks");
        MusicBrainzTrack meta;
        meta.number = static_cast<int>(r.integer(track, "position", path, 99));
        if (meta.number != static_cast<int>(i) + 1) {
            r.fail(path + ".position is " + std::to_string(meta.number) + ", not " +
                   std::to_string(i + 1));
        }
        meta.title = r.text(track, "title", path);
        if (track.contains("artist-credit")) {
            meta.artist = r.artist_credit(track, path);
        } else if (auto recording = track.find("recording"); recording != track.end() &&
                                                             recording->is_object() &&
                                                             recording->contains("artist-credit")) {
            meta.artist = r.artist_credit(*recording, path + ".recording");
        } else {
            meta.artist = album.artist;
        }
        album.tracks.push_back(std::move(meta));
    }
    return album;
}

MusicBrainzRelease parse(const Reader& r, std::string_view text, const std::string& disc_id,
                         int audio_tracks) {
    json doc;
    try {
        doc = json::parse(text);
    } catch (const json::parse_error& e) {
        r.fail(std::string("not valid JSON: ") + e.what());
    }
    if (!doc.is_object()) {
        r.fail("not a JSON object");
    }
    const json& releases = r.array(doc, "releases", "");
    std::optional<MusicBrainzRelease> chosen;
    int matches = 0;
    int other_counts = 0;  // media with the disc but another number of tracks
    for (std::size_t i = 0; i < releases.size(); ++i) {
        std::string release_path = "releases[" + std::to_string(i) + "]";
        const json& release = r.object_at(releases, i, "releases");
        const json& media = r.array(release, "media", release_path);
        for (std::size_t m = 0; m < media.size(); ++m) {
            std::string medium_path = release_path + ".media[" + std::to_string(m) + "]";
            const json& medium = r.object_at(media, m, release_path + ".media");
            if (!lists_disc(r, medium, medium_path, disc_id)) {
                continue;
            }
            if (r.array(medium, "tracks", medium_path).size() !=
                static_cast<std::size_t>(audio_tracks)) {
                ++other_counts;
                continue;
            }
            ++matches;
            if (!chosen) {
                chosen = read_release(r, release, medium, media.size(), release_path, medium_path);
            }
        }
    }
    if (!chosen) {
        r.fail(other_counts > 0
                   ? "no release has disc " + disc_id + " with " + std::to_string(audio_tracks) +
                         " tracks (" + std::to_string(other_counts) + " with another count)"
                   : "no release lists disc " + disc_id);
    }
    chosen->matches = matches;
    return *chosen;
}

}  // namespace

std::string musicbrainz_url(const std::string& base, const std::string& disc_id) {
    bool valid = disc_id.size() == 28;
    for (char c : disc_id) {
        valid = valid && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-');
    }
    if (!valid) {
        throw AudioError("not a MusicBrainz disc ID: \"" + disc_id + "\"");
    }
    std::string root = base;
    while (!root.empty() && root.back() == '/') {
        root.pop_back();
    }
    return root + "/ws/2/discid/" + disc_id + "?inc=recordings+artist-credits&cdstubs=no&fmt=json";
}

MusicBrainzRelease parse_musicbrainz(std::string_view json, const std::string& disc_id,
                                     int audio_tracks, const std::string& source) {
    Reader reader(source);
    try {
        return parse(reader, json, disc_id, audio_tracks);
    } catch (const nlohmann::json::exception& e) {
        // Every access above checks its type first; this is the net under it.
        reader.fail(e.what());
    }
}

std::optional<MusicBrainzRelease> lookup_musicbrainz(const std::string& disc_id, int audio_tracks,
                                                     const MusicBrainzOptions& options,
                                                     std::stop_token stop) {
    std::string url = musicbrainz_url(options.base, disc_id);
    HttpResponse response = http_get(url, options.http, stop);
    if (response.status == 404) {
        spdlog::info("MusicBrainz does not know disc {} ({})", disc_id, url);
        return std::nullopt;
    }
    if (response.status != 200) {
        throw AudioError("GET " + url + ": HTTP " + std::to_string(response.status));
    }
    MusicBrainzRelease album = parse_musicbrainz(response.body, disc_id, audio_tracks, url);
    if (album.matches > 1) {
        spdlog::info("MusicBrainz: disc {} is on {} releases; taking {} (\"{}\")", disc_id,
                     album.matches, album.release_id, album.title);
    }
    return album;
}

}  // namespace freemkv
