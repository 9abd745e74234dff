#include "report_script.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

extern char** environ;

namespace attnbench {

int run_python_script(const std::string& name, const std::vector<std::string>& args) {
    const std::string script = std::string(ATTN_SOURCE_DIR) + "/bench/" + name;
    if (access(script.c_str(), R_OK) != 0) {
        std::fprintf(stderr, "attnbench: cannot read the script %s: %s\n", script.c_str(),
                     std::strerror(errno));
        return 2;
    }
    // Debian's Python packages (python3-matplotlib) are seen by /usr/bin/python3, not necessarily
    // by a python3 that comes first on PATH.
    const bool debian = access("/usr/bin/python3", X_OK) == 0;
    std::vector<std::string> argv_s{debian ? "/usr/bin/python3" : "python3", script};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::fflush(stdout);
    std::fflush(stderr);
    pid_t pid = 0;
    if (int rc = posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ); rc != 0) {
        std::fprintf(stderr, "attnbench: cannot run %s: %s\n", argv[0], std::strerror(rc));
        return 2;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return 2;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}

}  // namespace attnbench
