#include "server/confined_path.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <deque>

namespace ustub {

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

int Fd::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

namespace {

constexpr int kMaxLinks = 40;  // the kernel's MAXSYMLINKS

void push_components(std::deque<std::string>& queue, const std::string& path) {
  std::deque<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    std::string part = path.substr(start, slash - start);
    if (!part.empty() && part != ".") parts.push_back(std::move(part));
    start = slash + 1;
  }
  queue.insert(queue.begin(), parts.begin(), parts.end());
}

bool on_procfs(int dir_fd) {
  struct statfs fs {};
  return ::fstatfs(dir_fd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

bool trusted_owner(uid_t owner) { return owner == ::geteuid() || owner == 0; }

}  // namespace

ConfinedPaths ConfinedPaths::at(const std::string& root, int* error) {
  ConfinedPaths p;
  p.root_ = Fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!p.root_) {
    *error = errno;
    return p;
  }
  p.base_ = Fd(::open(root == "/" ? "." : root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  struct stat st {};
  ::fstat(p.root_.get(), &st);
  p.root_dev_ = st.st_dev;
  p.root_ino_ = st.st_ino;
  *error = p.base_ ? 0 : errno;
  return p;
}

ConfinedPaths ConfinedPaths::under_proc_root(pid_t pid, int* error) {
  return at("/proc/" + std::to_string(pid) + "/root", error);
}

bool ConfinedPaths::is_root(int dir_fd) const {
  struct stat st {};
  return ::fstat(dir_fd, &st) == 0 && st.st_dev == root_dev_ && st.st_ino == root_ino_;
}

int ConfinedPaths::walk(const std::string& path, bool follow_last, Last& out) const {
  if (path.empty()) return -ENOENT;
  if (path.size() >= PATH_MAX) return -ENAMETOOLONG;
  std::deque<std::string> queue;
  push_components(queue, path);
  Fd dir(::fcntl(path[0] == '/' ? root_.get() : base_.get(), F_DUPFD_CLOEXEC, 0));
  if (queue.empty()) queue.push_back(".");  // "/" itself
  int links = 0;
  while (!queue.empty()) {
    std::string name = std::move(queue.front());
    queue.pop_front();
    bool last = queue.empty();
    if (name == "..") {
      if (is_root(dir.get())) {
        if (last) queue.push_back(".");
        continue;
      }
      Fd up(::openat(dir.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!up) return -errno;
      dir = std::move(up);
      if (last) queue.push_back(".");
      continue;
    }
    struct stat st {};
    if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT && last) {  // may be about to be created
        out.dir = std::move(dir);
        out.name = name;
        return 0;
      }
      return -errno;
    }
    if (S_ISLNK(st.st_mode) && (!last || follow_last)) {
      if (!trusted_owner(st.st_uid)) return -EACCES;
      if (++links > kMaxLinks) return -ELOOP;
      if (on_procfs(dir.get())) {
        if (last) {
          out.dir = std::move(dir);
          out.name = name;
          out.kernel_link = true;
          return 0;
        }
        Fd next(::openat(dir.get(), name.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!next) return -errno;
        dir = std::move(next);
        continue;
      }
      char target[PATH_MAX];
      ssize_t n = ::readlinkat(dir.get(), name.c_str(), target, sizeof target - 1);
      if (n <= 0) return n == 0 ? -ENOENT : -errno;
      std::string text(target, static_cast<std::size_t>(n));
      push_components(queue, text);
      if (text[0] == '/') dir = Fd(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0));
      if (queue.empty()) queue.push_back(".");
      continue;
    }
    if (last) {
      out.dir = std::move(dir);
      out.name = name;
      return 0;
    }
    Fd next(::openat(dir.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) return -errno;
    dir = std::move(next);
  }
  return -ENOENT;
}

int ConfinedPaths::open(const std::string& path, int flags, mode_t mode) const {
  Last last;
  if (int e = walk(path, true, last); e < 0) return e;
  if (!last.kernel_link) flags |= O_NOFOLLOW;  // a link swapped in after the walk is not followed
  int fd = ::openat(last.dir.get(), last.name.c_str(), flags | O_CLOEXEC, mode);
  return fd < 0 ? -errno : fd;
}

int ConfinedPaths::unlink(const std::string& path) const {
  Last last;
  if (int e = walk(path, false, last); e < 0) return e;
  return ::unlinkat(last.dir.get(), last.name.c_str(), 0) == 0 ? 0 : -errno;
}

long ConfinedPaths::readlink(const std::string& path, char* buf, std::size_t size) const {
  Last last;
  if (int e = walk(path, false, last); e < 0) return e;
  ssize_t n = ::readlinkat(last.dir.get(), last.name.c_str(), buf, size);
  return n < 0 ? -errno : n;
}

}  // namespace ustub
