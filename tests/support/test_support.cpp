#include "test_support.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace freemkv::test {

bool in_ci() {
    const char* ci = std::getenv("CI");
    return ci != nullptr && std::string(ci) == "true";
}

TempDir::TempDir() {
    // The build directory is on a disk filesystem; /tmp may be tmpfs.
    std::filesystem::path base = std::filesystem::current_path();
    std::string tmpl = (base / "freemkv-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
        throw std::system_error(errno, std::generic_category(), "mkdtemp " + tmpl);
    }
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string run(const std::string& command) {
    std::string full = command + " 2>&1";
    FILE* pipe = ::popen(full.c_str(), "r");
    if (pipe == nullptr) {
        throw std::runtime_error("cannot run: " + command);
    }
    std::string out;
    std::array<char, 4096> buf{};
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) {
        out.append(buf.data(), n);
    }
    int status = ::pclose(pipe);
    if (status != 0) {
        throw std::runtime_error("command failed (" + std::to_string(status) + "): " + command +
                                 "\n" + out);
    }
    return out;
}

std::vector<std::byte> random_bytes(std::size_t size, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<std::byte> data(size);
    for (std::size_t i = 0; i < size; i += 8) {
        std::uint64_t v = rng();
        for (std::size_t j = 0; j < 8 && i + j < size; ++j) {
            data[i + j] = static_cast<std::byte>(v >> (8 * j));
        }
    }
    return data;
}

std::vector<std::byte> read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + path.string());
    }
    std::vector<std::byte> data(std::filesystem::file_size(path));
    in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data.size()));
    return data;
}

namespace {

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
        s.pop_back();
    }
    return s;
}

}  // namespace

LoopDevice::LoopDevice(const std::filesystem::path& file, bool read_only) {
    device_ =
        trim(run(std::string("losetup -f --show ") + (read_only ? "-r " : "") + file.string()));
}

LoopDevice::~LoopDevice() {
    try {
        detach();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "cannot detach " << device_ << ": " << e.what();
    }
}

void LoopDevice::detach() {
    if (!device_.empty()) {
        run("losetup -d " + device_);
        device_.clear();
    }
}

LoopExt4::LoopExt4(std::uint64_t size_bytes) {
    image_ = dir_ / "fs.img";
    mount_ = dir_ / "mnt";
    std::filesystem::create_directory(mount_);
    run("truncate -s " + std::to_string(size_bytes) + " " + image_.string());
    run("mkfs.ext4 -q -F -m 0 " + image_.string());
    loop_ = std::make_unique<LoopDevice>(image_, false);
    run("mount -t ext4 " + loop_->device() + " " + mount_.string());
    mounted_ = true;
}

LoopExt4::~LoopExt4() {
    // Unmount here; the loop device detaches itself afterwards.
    try {
        if (mounted_) {
            run("umount " + mount_.string());
        }
    } catch (const std::exception& e) {
        ADD_FAILURE() << "cannot unmount the loop filesystem: " << e.what();
    }
}

FaultFs::FaultFs(const std::filesystem::path& backing, const std::string& options,
                 const std::string& mount_name) {
    mount_ = dir_ / mount_name;
    std::filesystem::create_directory(mount_);
    // faultfs forks nothing itself: -f keeps it in the foreground of this background shell job.
    run(std::string(FREEMKV_FAULTFS) + " " + options + " " + backing.string() + " " +
        mount_.string() + " -f >" + (dir_ / "faultfs.log").string() + " 2>&1 &");
    for (int i = 0; i < 100 && !mounted_; ++i) {
        mounted_ = std::system(("mountpoint -q " + mount_.string()).c_str()) == 0;
        if (!mounted_) {
            usleep(50'000);
        }
    }
    if (!mounted_) {
        throw std::runtime_error("faultfs did not mount " + mount_.string());
    }
}

FaultFs::~FaultFs() {
    try {
        if (mounted_) {
            run("fusermount3 -u " + mount_.string());
        }
    } catch (const std::exception& e) {
        ADD_FAILURE() << "cannot unmount faultfs: " << e.what();
    }
}

std::uint64_t faultfs_bytes_read(const std::filesystem::path& log) {
    std::ifstream in(log);
    std::uint64_t total = 0;
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string op;
        std::uint64_t offset = 0, length = 0;
        std::int64_t result = 0;
        if (fields >> op >> offset >> length >> result && op == "read" && result > 0) {
            total += static_cast<std::uint64_t>(result);
        }
    }
    return total;
}

void write_file(const std::filesystem::path& path, const std::vector<std::byte>& data) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size()));
    if (!out) {
        throw std::runtime_error("cannot write " + path.string());
    }
}

}  // namespace freemkv::test
