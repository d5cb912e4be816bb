// Byte sources: files (and stdin) read with POSIX read(2), and memory.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "formats/input.h"

namespace budgeteer {

namespace {

class FileSource final : public ByteSource {
 public:
  FileSource(int fd, std::string path, bool owned)
      : fd_(fd), path_(std::move(path)), owned_(owned) {}
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  ~FileSource() override {
    if (owned_) ::close(fd_);
  }

  Result<size_t> Read(char* buf, size_t len) override {
    for (;;) {
      const ssize_t n = ::read(fd_, buf, len);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno == EINTR) continue;
      return Status(Code::kUnavailable, "cannot read " + path_ + ": " + std::strerror(errno),
                    /*retryable=*/true);
    }
  }

 private:
  int fd_;
  std::string path_;
  bool owned_;
};

class MemorySourceImpl final : public ByteSource {
 public:
  explicit MemorySourceImpl(std::string_view bytes) : bytes_(bytes) {}
  Result<size_t> Read(char* buf, size_t len) override {
    const size_t n = std::min(len, bytes_.size() - pos_);
    if (n > 0) std::memcpy(buf, bytes_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path) {
  if (path == "-") {
    return std::unique_ptr<ByteSource>(std::make_unique<FileSource>(0, "standard input", false));
  }
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    const int err = errno;
    std::string m = "cannot open " + path + ": " + std::strerror(err);
    if (err == ENOENT) return NotFound(m + " (check the path)");
    if (err == EACCES || err == EPERM) {
      return Status(Code::kPermissionDenied, m + " (check the file's permissions)");
    }
    return Status(Code::kUnavailable, std::move(m), /*retryable=*/true);
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return InvalidArgument("cannot read " + path + ": it is a directory; name a file");
  }
  return std::unique_ptr<ByteSource>(std::make_unique<FileSource>(fd, path, true));
}

std::unique_ptr<ByteSource> MemorySource(std::string_view bytes) {
  return std::make_unique<MemorySourceImpl>(bytes);
}

}  // namespace budgeteer
