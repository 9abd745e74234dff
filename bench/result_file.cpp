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
        nlohmann::json f = descriptor_fields(row.value("run_name", row.value("name", "")));
        if (f.is_null()) continue;
        if (f.contains("shape")) {
            const std::string key = attn::parse_shape(f["shape"].get<std::string>()).text(false);
            if (models.contains(key)) f["model"] = models[key];
        }
        row["attnbench"] = f;
    }
    result["context"]["attnbench"] = attnbench_context;
    result["context"]["attnbench"]["fma_peak_gflops"] = measured_peak(result);
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

nlohmann::json descriptor_fields(std::string name) {
    // Google Benchmark appends /iterations:N (--iterations) and /real_time (UseRealTime).
    for (const char* suffix : {"/real_time", "/process_time", "/manual_time"})
        if (name.ends_with(suffix)) name.resize(name.size() - std::strlen(suffix));
    if (const auto it = name.rfind("/iterations:"); it != std::string::npos) name.resize(it);
    std::string part[3];
    std::size_t at = 0;
    for (auto& p : part) {
        const std::size_t slash = name.find('/', at);
        if (slash == std::string::npos) return nullptr;
        p = name.substr(at, slash - at);
        at = slash + 1;
    }
    nlohmann::json f = {{"stage", part[0]}, {"variant", part[1]}, {"isa", part[2]}};
    const std::string rest = name.substr(at);
    if (part[0] == kPeakStage) {
        int t = 0;
        const char* end = rest.data() + rest.size();
        const auto [stop, ec] =
            std::from_chars(rest.data() + std::min<std::size_t>(2, rest.size()), end, t);
        if (!rest.starts_with("t:") || ec != std::errc() || stop != end || t <= 0) return nullptr;
        f["threads"] = t;
        return f;
    }
    attn::Shape s;
    try {
        s = attn::parse_shape(rest);
    } catch (const std::invalid_argument&) {
        return nullptr;
    }
    f["shape"] = s.text();
    f["batch"] = s.batch, f["heads"] = s.heads, f["n_q"] = s.n_q, f["n_kv"] = s.n_kv,
    f["head_dim"] = s.head_dim;
    f["threads"] = s.threads;
    f["causal"] = s.causal;
    f["similarity"] = attn::to_string(s.similarity);
    f["scale"] = s.effective_scale();
    f["scale_given"] = s.scale != 0.0;
    return f;
}

nlohmann::json measured_peak(const nlohmann::json& result) {
    std::map<int, std::vector<double>> values;
    std::map<int, double> medians;
    for (const auto& row : result.value("benchmarks", nlohmann::json::array())) {
        const nlohmann::json f =
            row.contains("attnbench")
                ? row["attnbench"]
                : descriptor_fields(row.value("run_name", row.value("name", "")));
        if (row.value("error_occurred", false) || !row.contains("GFLOP/s") || !f.is_object() ||
            f.value("stage", "") != kPeakStage)
            continue;
        const int t = f["threads"].get<int>();
        if (row.value("run_type", "") == "aggregate") {
            if (row.value("aggregate_name", "") == "median")
                medians[t] = row["GFLOP/s"].get<double>();
        } else {
            values[t].push_back(row["GFLOP/s"].get<double>());
        }
    }
    nlohmann::json out = nlohmann::json::object();
    for (auto& [t, v] : values) {
        std::sort(v.begin(), v.end());
        const std::size_t n = v.size();
        out[std::to_string(t)] = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
    for (const auto& [t, v] : medians) out[std::to_string(t)] = v;
    return out;
}

}  // namespace attnbench
