#pragma once
// vFile host I/O: gdb reads the program, its libraries and /proc through these.
// File numbers, flags, modes and errnos are gdb's "fileio" ones, not the host's.
#include <cstdint>
#include <map>
#include <string>

#include "rsp/request.hpp"
#include "server/confined_path.hpp"

namespace ustub {

class HostIo {
 public:
  // root: what absolute paths mean; a directory other than "/" confines gdb
  // to it (tests, fuzzing) and turns vFile:setfs off.
  explicit HostIo(std::size_t max_transfer, std::string root = "/");
  ~HostIo();
  HostIo(const HostIo&) = delete;
  HostIo& operator=(const HostIo&) = delete;

  std::string open(const rsp::req::FileOpen& r);
  std::string pread(const rsp::req::FilePread& r);
  std::string pwrite(const rsp::req::FilePwrite& r);
  std::string close(const rsp::req::FileClose& r);
  std::string fstat(const rsp::req::FileFstat& r);
  std::string unlink(const rsp::req::FileUnlink& r);
  std::string readlink(const rsp::req::FileReadlink& r);
  std::string setfs(const rsp::req::FileSetFs& r);
  void close_all();

  static int to_fileio_errno(int host_errno);
  static int to_host_open_flags(std::uint64_t fileio_flags);

 private:
  int host_fd(std::int64_t fd) const;

  std::size_t max_transfer_;
  std::map<std::int64_t, int> fds_;  // gdb's fd -> ours (the same number, but only ones gdb opened)
  std::string root_;
  ConfinedPaths paths_;  // under root_, or /proc/PID/root after setfs to another mount namespace
};

}  // namespace ustub
