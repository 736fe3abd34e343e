#include "server/host_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <vector>

#include "rsp/binary.hpp"
#include "rsp/hex.hpp"

namespace ustub {

namespace {

std::string error_reply(int host_errno) {
  return "F-1," + rsp::number_to_hex(static_cast<std::uint64_t>(HostIo::to_fileio_errno(host_errno)));
}

std::string ok_reply(std::uint64_t value) { return "F" + rsp::number_to_hex(value); }

void put_be(std::string& out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

std::string mount_namespace(const std::string& proc_dir) {
  char buf[128];
  ssize_t n = ::readlink((proc_dir + "/ns/mnt").c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

HostIo::HostIo(std::size_t max_transfer, std::string root) : max_transfer_(max_transfer), root_(std::move(root)) {
  int error = 0;
  paths_ = ConfinedPaths::at(root_, &error);
}

HostIo::~HostIo() { close_all(); }

int HostIo::to_fileio_errno(int e) {
  switch (e) {
    case EPERM: return 1;
    case ENOENT: return 2;
    case EINTR: return 4;
    case EBADF: return 9;
    case EACCES: return 13;
    case EFAULT: return 14;
    case EBUSY: return 16;
    case EEXIST: return 17;
    case ENODEV: return 19;
    case ENOTDIR: return 20;
    case EISDIR: return 21;
    case EINVAL: return 22;
    case ENFILE: return 23;
    case EMFILE: return 24;
    case EFBIG: return 27;
    case ENOSPC: return 28;
    case ESPIPE: return 29;
    case EROFS: return 30;
    case ENOSYS: return 88;
    case ENAMETOOLONG: return 91;
    default: return 9999;
  }
}

int HostIo::to_host_open_flags(std::uint64_t f) {
  int flags = 0;
  switch (f & 3) {
    case 0: flags = O_RDONLY; break;
    case 1: flags = O_WRONLY; break;
    default: flags = O_RDWR; break;
  }
  if (f & 0x8) flags |= O_APPEND;
  if (f & 0x200) flags |= O_CREAT;
  if (f & 0x400) flags |= O_TRUNC;
  if (f & 0x800) flags |= O_EXCL;
  return flags | O_CLOEXEC;
}

int HostIo::host_fd(std::int64_t fd) const {
  auto it = fds_.find(fd);
  return it == fds_.end() ? -1 : it->second;
}

std::string HostIo::open(const rsp::req::FileOpen& r) {
  int fd = paths_.open(r.path, to_host_open_flags(r.flags), static_cast<mode_t>(r.mode & 0777));
  if (fd < 0) return error_reply(-fd);
  fds_[fd] = fd;
  return ok_reply(static_cast<std::uint64_t>(fd));
}

std::string HostIo::pread(const rsp::req::FilePread& r) {
  int fd = host_fd(r.fd);
  if (fd < 0) return error_reply(EBADF);
  std::vector<std::uint8_t> buf(std::min<std::uint64_t>(r.count, max_transfer_));
  ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(r.offset));
  if (n < 0) return error_reply(errno);
  std::string out = ok_reply(static_cast<std::uint64_t>(n)) + ";";
  rsp::append_escaped_binary(out, std::span(buf.data(), static_cast<std::size_t>(n)));
  return out;
}

std::string HostIo::pwrite(const rsp::req::FilePwrite& r) {
  int fd = host_fd(r.fd);
  if (fd < 0) return error_reply(EBADF);
  ssize_t n = ::pwrite(fd, r.data.data(), r.data.size(), static_cast<off_t>(r.offset));
  if (n < 0) return error_reply(errno);
  return ok_reply(static_cast<std::uint64_t>(n));
}

std::string HostIo::close(const rsp::req::FileClose& r) {
  int fd = host_fd(r.fd);
  if (fd < 0) return error_reply(EBADF);
  fds_.erase(r.fd);
  if (::close(fd) != 0) return error_reply(errno);
  return ok_reply(0);
}

std::string HostIo::fstat(const rsp::req::FileFstat& r) {
  int fd = host_fd(r.fd);
  if (fd < 0) return error_reply(EBADF);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return error_reply(errno);
  // gdb's struct fio_stat: big-endian, 32-bit fields except size/blksize/blocks.
  std::string packed;
  put_be(packed, st.st_dev, 4);
  put_be(packed, st.st_ino, 4);
  put_be(packed, st.st_mode, 4);
  put_be(packed, st.st_nlink, 4);
  put_be(packed, st.st_uid, 4);
  put_be(packed, st.st_gid, 4);
  put_be(packed, st.st_rdev, 4);
  put_be(packed, static_cast<std::uint64_t>(st.st_size), 8);
  put_be(packed, static_cast<std::uint64_t>(st.st_blksize), 8);
  put_be(packed, static_cast<std::uint64_t>(st.st_blocks), 8);
  put_be(packed, static_cast<std::uint64_t>(st.st_atime), 4);
  put_be(packed, static_cast<std::uint64_t>(st.st_mtime), 4);
  put_be(packed, static_cast<std::uint64_t>(st.st_ctime), 4);
  return ok_reply(packed.size()) + ";" + rsp::escape_binary(packed);
}

std::string HostIo::unlink(const rsp::req::FileUnlink& r) {
  if (int e = paths_.unlink(r.path); e < 0) return error_reply(-e);
  return ok_reply(0);
}

std::string HostIo::readlink(const rsp::req::FileReadlink& r) {
  char buf[PATH_MAX];
  long n = paths_.readlink(r.path, buf, sizeof buf);
  if (n < 0) return error_reply(static_cast<int>(-n));
  return ok_reply(static_cast<std::uint64_t>(n)) + ";" +
         rsp::escape_binary(std::string_view(buf, static_cast<std::size_t>(n)));
}

std::string HostIo::setfs(const rsp::req::FileSetFs& r) {
  int error = 0;
  if (r.pid == 0) {
    paths_ = ConfinedPaths::at(root_, &error);
    return error ? error_reply(error) : ok_reply(0);
  }
  if (root_ != "/") return error_reply(EPERM);
  std::string proc_dir = "/proc/" + std::to_string(r.pid);
  struct stat st {};
  if (::stat(proc_dir.c_str(), &st) != 0) return error_reply(errno);
  // Never read files as another user's process sees them.
  if (st.st_uid != ::geteuid() && ::geteuid() != 0) return error_reply(EACCES);
  std::string theirs = mount_namespace(proc_dir);
  if (theirs.empty()) return error_reply(ENOENT);
  // Only a process in another mount namespace needs its own root.
  ConfinedPaths theirs_root = theirs == mount_namespace("/proc/self") ? ConfinedPaths::at(root_, &error)
                                                                      : ConfinedPaths::under_proc_root(r.pid, &error);
  if (error) return error_reply(error);
  paths_ = std::move(theirs_root);
  return ok_reply(0);
}

void HostIo::close_all() {
  for (auto& [_, fd] : fds_) ::close(fd);
  fds_.clear();
  int error = 0;
  paths_ = ConfinedPaths::at(root_, &error);
}

}  // namespace ustub
