#pragma once
// Path resolution for vFile host I/O, done by ustub one component at a time
// instead of by the kernel, so that two rules hold whatever gdb asks for:
//  - the walk never leaves its root ("/" normally; a sandbox in tests and
//    fuzzing, or /proc/PID/root for a process in another mount namespace);
//  - a symbolic link is followed only if it belongs to us or to root, so a
//    link planted by another user cannot aim our reads, writes or unlinks.
// Links in /proc (exe, cwd, root, fd/N) are the kernel's and are followed by
// it, once the link's owner has been checked like any other.
#include <sys/types.h>

#include <string>

namespace ustub {

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  ~Fd();
  int get() const { return fd_; }
  int release();
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

class ConfinedPaths {
 public:
  // root: where absolute paths (and "..") stop; relative paths start at the
  // current directory, or at root when the root is not "/".
  static ConfinedPaths at(const std::string& root, int* error);
  static ConfinedPaths under_proc_root(pid_t pid, int* error);

  // Each returns the result, or -errno.
  int open(const std::string& path, int flags, mode_t mode) const;
  int unlink(const std::string& path) const;
  long readlink(const std::string& path, char* buf, std::size_t size) const;

  bool valid() const { return static_cast<bool>(root_); }

 private:
  // The directory holding the path's last component, and that component.
  // With follow_last a final symlink is resolved too. `kernel_link` is set
  // when the last component is a /proc link the kernel must follow itself.
  struct Last {
    Fd dir;
    std::string name;
    bool kernel_link = false;
  };
  int walk(const std::string& path, bool follow_last, Last& out) const;
  bool is_root(int dir_fd) const;

  Fd root_;
  Fd base_;  // where relative paths start
  dev_t root_dev_ = 0;
  ino_t root_ino_ = 0;
};

}  // namespace ustub
