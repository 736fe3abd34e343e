#include "server/linux_ptrace_ops.hpp"

#include "server/auxv.hpp"
#include "server/proc_status.hpp"

#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <string>

namespace ustub {

namespace {
int result(long rc) { return rc == -1 ? errno : 0; }
}  // namespace

LinuxPtraceOps::~LinuxPtraceOps() {
  for (auto& [pid, fd] : memory_fds_) ::close(fd);
}

int LinuxPtraceOps::interrupt(pid_t tid) { return result(ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr)); }

int LinuxPtraceOps::send_signal(pid_t pid, pid_t tid, int host_signal) {
  return result(static_cast<long>(::syscall(SYS_tgkill, pid, tid, host_signal)));
}

int LinuxPtraceOps::resume(pid_t tid, bool step, int host_signal) {
  return result(ptrace(step ? PTRACE_SINGLESTEP : PTRACE_CONT, tid, nullptr,
                       reinterpret_cast<void*>(static_cast<long>(host_signal))));
}

int LinuxPtraceOps::listen(pid_t tid) { return result(ptrace(PTRACE_LISTEN, tid, nullptr, nullptr)); }

int LinuxPtraceOps::resume_to_syscall(pid_t tid, int host_signal) {
  return result(ptrace(PTRACE_SYSCALL, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(host_signal))));
}

int LinuxPtraceOps::syscall_stop_is_entry(pid_t tid, bool& entry) {
  __ptrace_syscall_info info{};
  long n = ptrace(PTRACE_GET_SYSCALL_INFO, tid, reinterpret_cast<void*>(sizeof info), &info);
  if (n < 0) return errno;
  if (info.op != PTRACE_SYSCALL_INFO_ENTRY && info.op != PTRACE_SYSCALL_INFO_EXIT) return EINVAL;
  entry = info.op == PTRACE_SYSCALL_INFO_ENTRY;
  return 0;
}

int LinuxPtraceOps::detach(pid_t tid, int host_signal) {
  forget_memory_fd(tid);
  return result(ptrace(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(host_signal))));
}

int LinuxPtraceOps::kill_process(pid_t pid) {
  forget_memory_fd(pid);
  return result(::kill(pid, SIGKILL));
}

int LinuxPtraceOps::get_regset(pid_t tid, unsigned note_type, std::vector<std::uint8_t>& image) {
  iovec iov{image.data(), image.size()};
  if (ptrace(PTRACE_GETREGSET, tid, reinterpret_cast<void*>(static_cast<long>(note_type)), &iov) == -1)
    return errno;
  image.resize(iov.iov_len);
  return 0;
}

int LinuxPtraceOps::set_regset(pid_t tid, unsigned note_type, std::span<const std::uint8_t> image) {
  iovec iov{const_cast<std::uint8_t*>(image.data()), image.size()};
  return result(ptrace(PTRACE_SETREGSET, tid, reinterpret_cast<void*>(static_cast<long>(note_type)), &iov));
}

int LinuxPtraceOps::get_siginfo(pid_t tid, std::vector<std::uint8_t>& raw) {
  siginfo_t si{};
  if (ptrace(PTRACE_GETSIGINFO, tid, nullptr, &si) == -1) return errno;
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(&si);
  raw.assign(bytes, bytes + sizeof si);
  return 0;
}

int LinuxPtraceOps::peek_user(pid_t tid, unsigned offset, std::uint64_t& value) {
  errno = 0;
  long word = ptrace(PTRACE_PEEKUSER, tid, reinterpret_cast<void*>(static_cast<long>(offset)), nullptr);
  if (errno != 0) return errno;
  value = static_cast<std::uint64_t>(word);
  return 0;
}

int LinuxPtraceOps::poke_user(pid_t tid, unsigned offset, std::uint64_t value) {
  return result(ptrace(PTRACE_POKEUSER, tid, reinterpret_cast<void*>(static_cast<long>(offset)),
                       reinterpret_cast<void*>(value)));
}

bool LinuxPtraceOps::being_killed(pid_t pid) {
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
  if (!f) return true;
  char line[256];
  bool killed = false;
  while (std::fgets(line, sizeof line, f)) {
    std::string_view l(line);
    if (!l.starts_with("SigPnd:") && !l.starts_with("ShdPnd:")) continue;
    unsigned long long mask = std::strtoull(line + 7, nullptr, 16);
    killed |= (mask >> (SIGKILL - 1)) & 1;
  }
  std::fclose(f);
  return killed;
}

std::optional<arch::HardwareCaps> LinuxPtraceOps::hardware_caps(pid_t pid) {
  auto auxv = read_auxv(pid);
  if (!auxv) return std::nullopt;
  auto hwcap = auxv_value(*auxv, AT_HWCAP);
  if (!hwcap) return std::nullopt;
  return arch::HardwareCaps{*hwcap, auxv_value(*auxv, AT_HWCAP2).value_or(0)};
}

std::optional<std::uint64_t> LinuxPtraceOps::vdso_address(pid_t pid) {
  auto auxv = read_auxv(pid);
  return auxv ? auxv_value(*auxv, AT_SYSINFO_EHDR) : std::nullopt;
}

bool LinuxPtraceOps::signal_pending(pid_t tid, int host_signal) {
  std::string mask = read_status_field(tid, "SigPnd");
  if (mask.empty()) return false;
  return (std::strtoull(mask.c_str(), nullptr, 16) >> (host_signal - 1)) & 1;
}

pid_t LinuxPtraceOps::thread_group(pid_t tid) {
  return static_cast<pid_t>(std::atoi(read_status_field(tid, "Tgid").c_str()));
}

bool LinuxPtraceOps::exiting(pid_t pid) {
  if (being_killed(pid)) return true;
  char buf[512] = {};
  int fd = ::open(("/proc/" + std::to_string(pid) + "/stat").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  std::string_view stat(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  auto paren = stat.rfind(')');
  if (paren == std::string_view::npos || paren + 2 >= stat.size()) return true;
  char state = stat[paren + 2];
  return state == 'Z' || state == 'X';
}

int LinuxPtraceOps::set_siginfo(pid_t tid, std::span<const std::uint8_t> raw) {
  siginfo_t si{};
  if (raw.size() != sizeof si) return EINVAL;
  std::memcpy(&si, raw.data(), sizeof si);
  return result(ptrace(PTRACE_SETSIGINFO, tid, nullptr, &si));
}

int LinuxPtraceOps::get_event_message(pid_t tid, unsigned long& message) {
  return result(ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &message));
}

int LinuxPtraceOps::get_trap_info(pid_t tid, TrapInfo& info) {
  siginfo_t si{};
  if (ptrace(PTRACE_GETSIGINFO, tid, nullptr, &si) == -1) return errno;
  info.signo = si.si_signo;
  info.code = si.si_code;
  info.address = reinterpret_cast<std::uint64_t>(si.si_addr);
  return 0;
}

// The request numbers of arch/powerpc/include/uapi/asm/ptrace.h.
constexpr int kPpcGetHwDebugInfo = 0x89, kPpcSetHwDebug = 0x88, kPpcDelHwDebug = 0x87;

int LinuxPtraceOps::ppc_debug_info(pid_t tid, arch::PpcDebugInfo& info) {
  return result(ptrace(static_cast<__ptrace_request>(kPpcGetHwDebugInfo), tid, nullptr, &info));
}

int LinuxPtraceOps::ppc_set_hw_debug(pid_t tid, const arch::PpcHwBreakpoint& request, long& handle) {
  arch::PpcHwBreakpoint copy = request;
  long rc = ptrace(static_cast<__ptrace_request>(kPpcSetHwDebug), tid, nullptr, &copy);
  if (rc == -1) return errno;
  handle = rc;
  return 0;
}

int LinuxPtraceOps::ppc_del_hw_debug(pid_t tid, long handle) {
  return result(ptrace(static_cast<__ptrace_request>(kPpcDelHwDebug), tid, nullptr, reinterpret_cast<void*>(handle)));
}

int LinuxPtraceOps::memory_fd(pid_t pid) {
  auto it = memory_fds_.find(pid);
  if (it != memory_fds_.end()) return it->second;
  std::string path = "/proc/" + std::to_string(pid) + "/mem";
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return -1;
  memory_fds_[pid] = fd;
  return fd;
}

void LinuxPtraceOps::forget_memory_fd(pid_t pid) {
  auto it = memory_fds_.find(pid);
  if (it == memory_fds_.end()) return;
  ::close(it->second);
  memory_fds_.erase(it);
}

namespace {
// pread/pwrite on /proc/PID/mem until done or stopped short: bytes moved, or
// -errno when not even the first byte could be.
template <class Transfer>
long transfer_all(std::size_t size, Transfer transfer) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = transfer(done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (done == 0) return n < 0 ? -errno : -EIO;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  return static_cast<long>(done);
}
}  // namespace

long LinuxPtraceOps::read_memory(pid_t pid, std::uint64_t address, std::span<std::uint8_t> out) {
  int fd = memory_fd(pid);
  if (fd < 0) return -errno;
  return transfer_all(out.size(), [&](std::size_t done) {
    return ::pread64(fd, out.data() + done, out.size() - done, static_cast<off64_t>(address + done));
  });
}

long LinuxPtraceOps::write_memory(pid_t pid, std::uint64_t address, std::span<const std::uint8_t> in) {
  int fd = memory_fd(pid);
  if (fd < 0) return -errno;
  return transfer_all(in.size(), [&](std::size_t done) {
    return ::pwrite64(fd, in.data() + done, in.size() - done, static_cast<off64_t>(address + done));
  });
}

std::optional<WaitResult> LinuxPtraceOps::wait(pid_t tid, bool block) {
  int status = 0;
  while (true) {
    // __WNOTHREAD: only this thread's tracees. Each client of ustub traces
    // from its own thread, and must never take another client's events.
    pid_t got = ::waitpid(tid, &status, __WALL | __WNOTHREAD | (block ? 0 : WNOHANG));
    if (got > 0) {
      if (WIFEXITED(status) || WIFSIGNALED(status)) forget_memory_fd(got);
      return WaitResult{got, status};
    }
    if (got < 0 && errno == EINTR) continue;
    return std::nullopt;
  }
}

}  // namespace ustub
