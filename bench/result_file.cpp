#include "result_file.hpp"

#include "attn/shape.hpp"
#include "machine.hpp"
#include "run_config.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <vector>

namespace attnbench {

namespace fs = std::filesystem;

namespace {

// The temporary file to remove if a signal ends the run; a fixed buffer so that the handler
// only touches async-signal-safe state.
char g_temp[4096];

extern "C" void remove_temp_and_die(int sig) {
    if (g_temp[0]) unlink(g_temp);
    std::signal(sig, SIG_DFL);
    raise(sig);
}

[[noreturn]] void fail(const std::string& what, const std::string& path) {
    throw std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

ResultFile::ResultFile(const std::string& results_dir, const std::string& fingerprint,
                       std::string final_path)
    : final_(std::move(final_path)), replace_(!final_.empty()) {
    if (final_.empty()) {
        dir_ = (fs::path(results_dir) / fingerprint).string();
        final_ = (fs::path(dir_) / (utc_time("%Y-%m-%dT%H%M%SZ") + ".json")).string();
    } else {
        dir_ = fs::path(final_).parent_path().string();
        if (dir_.empty()) dir_ = ".";
    }
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) throw std::runtime_error("cannot create " + dir_ + ": " + ec.message());
    temp_ = (fs::path(dir_) /
             ("." + fs::path(final_).filename().string() + ".partial-" + std::to_string(getpid())))
                .string();
    if (temp_.size() >= sizeof g_temp) throw std::runtime_error("result path too long: " + temp_);
    // Nothing is written yet, but check now that the folder takes files, not after an hour's run.
    if (std::ofstream probe(temp_); !probe) fail("cannot write in", dir_);
    std::strcpy(g_temp, temp_.c_str());
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, remove_temp_and_die);
    // Past a file-size limit a write fails with EFBIG instead of killing the run, so that the
    // run can say so and remove its partial file.
    std::signal(SIGXFSZ, SIG_IGN);
}

ResultFile::~ResultFile() {
    if (g_temp[0]) unlink(g_temp);
    g_temp[0] = '\0';
}

std::string ResultFile::commit(const nlohmann::json& attnbench_context) {
    nlohmann::json result;
    {
        std::ifstream in(temp_);
        if (!in) fail("cannot read the run's output", temp_);
        try {
            result = nlohmann::json::parse(in);
        } catch (const nlohmann::json::exception& e) {
            // Google Benchmark does not report a failed write: a disk that filled up or a file-size
            // limit shows here, as a file that ends early.
            throw std::runtime_error(
                "the run's output " + temp_ +
                " was not written in full (is the disk full, or a file-size limit "
                "set?); nothing saved, earlier results are untouched");
        }
    }
    // The preset comment of each shape, keyed by the shape without its thread count.
    const nlohmann::json models =
        attnbench_context.contains("sweep")
            ? attnbench_context["sweep"].value("models", nlohmann::json::object())
            : nlohmann::json::object();
    for (auto& row : result["benchmarks"]) {
        nlohmann::json f = descriptor_fields(benchmark_name(row));
        if (f.is_null()) continue;
        if (f.contains("shape")) {
            const std::string key = attn::parse_shape(f["shape"].get<std::string>()).text(false);
            if (models.contains(key)) f["model"] = models[key];
        }
        row["attnbench"] = f;
    }
    result["context"]["attnbench"] = attnbench_context;
    result["context"]["attnbench"]["fma_peak_gflops"] = measured_peak(result, "fma", "GFLOP/s");
    result["context"]["attnbench"]["stream_peak_gbps"] = measured_peak(result, "stream", "GB/s");
    {
        std::ofstream out(temp_, std::ios::trunc);
        out << result.dump(2) << '\n';
        out.flush();
        if (!out) fail("nothing saved, earlier results are untouched: cannot write", temp_);
    }
    if (replace_) {
        if (std::rename(temp_.c_str(), final_.c_str()) != 0)
            fail("cannot move the result to", final_);
    } else {
        // link() refuses an existing name, so two runs in the same second both keep their files.
        std::string target = final_;
        for (int i = 2; link(temp_.c_str(), target.c_str()) != 0; ++i) {
            if (errno != EEXIST || i > 100) fail("cannot move the result to", target);
            target = final_.substr(0, final_.size() - 5) + "-" + std::to_string(i) + ".json";
        }
        final_ = target;
        unlink(temp_.c_str());
    }
    g_temp[0] = '\0';
    return final_;
}

}  // namespace attnbench
