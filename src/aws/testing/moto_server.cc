#include "aws/testing/moto_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string_view>
#include <thread>
#include <vector>

extern "C" char** environ;  // NOLINT(readability-redundant-declaration)

namespace budgeteer::aws::testing {

namespace {

// Binds port 0 to let the kernel pick a free port, then releases it for moto. Another process
// could take it in between; Start notices (moto exits) and the test fails loudly, not flakily.
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

bool Accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

bool MotoServer::Available() {
  const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe)
  if (path == nullptr) return false;
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const auto candidate = std::filesystem::path(dir) / "moto_server";
    if (::access(candidate.c_str(), X_OK) == 0) return true;
  }
  return false;
}

Result<std::unique_ptr<MotoServer>> MotoServer::Start(int no_auth_actions) {
  const int port = FreePort();
  if (port <= 0) return Internal("no free loopback port");
  const std::string log_path =
      (std::filesystem::temp_directory_path() / ("moto-" + std::to_string(port) + ".log")).string();
  std::string port_text = std::to_string(port);
  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).starts_with("INITIAL_NO_AUTH_ACTION_COUNT=")) continue;
    env_strings.emplace_back(*e);
  }
  env_strings.push_back("INITIAL_NO_AUTH_ACTION_COUNT=" + std::to_string(no_auth_actions));
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string prog = "moto_server", host_flag = "-H", host = "127.0.0.1", port_flag = "-p";
  std::vector<char*> argv = {prog.data(),      host_flag.data(), host.data(),
                             port_flag.data(), port_text.data(), nullptr};
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const pid_t pid = ::fork();
  if (pid < 0) {
    if (log >= 0) ::close(log);
    return Internal("fork failed");
  }
  if (pid == 0) {
    // The child: its own process group (so the destructor can stop moto and anything it
    // starts), output to the log file, then exec.
    ::setpgid(0, 0);
    if (log >= 0) {
      ::dup2(log, STDOUT_FILENO);
      ::dup2(log, STDERR_FILENO);
    }
    ::execvpe(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  if (log >= 0) ::close(log);
  ::setpgid(pid, pid);  // also from the parent, so the group exists before we might kill it
  auto server = std::unique_ptr<MotoServer>(new MotoServer(pid, port, log_path));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    int wstatus = 0;
    if (::waitpid(pid, &wstatus, WNOHANG) == pid) {
      server->pid_ = -1;
      return Internal("moto_server exited during start-up; see " + log_path);
    }
    if (Accepts(port)) return server;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Unavailable("moto_server did not accept connections within 30 s; see " + log_path);
}

MotoServer::~MotoServer() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int wstatus = 0;
  while (::waitpid(pid_, &wstatus, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, &wstatus, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace budgeteer::aws::testing
