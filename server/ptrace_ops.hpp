#pragma once
// The narrow seam between the engine and the kernel. The engine speaks only
// through this, so its state machine can be driven by scripted wait statuses.
// Every call returns 0 or an errno value.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "arch/arch.hpp"
#include "arch/hardware_debug.hpp"

namespace ustub {

struct WaitResult {
  pid_t tid;
  int status;
};

struct TrapInfo {
  int signo = 0;
  int code = 0;               // si_code: TRAP_BRKPT, TRAP_TRACE, TRAP_HWBKPT, SI_KERNEL, …
  std::uint64_t address = 0;  // si_addr: a data breakpoint's address on powerpc
};

class PtraceOps {
 public:
  virtual ~PtraceOps() = default;
  virtual int interrupt(pid_t tid) = 0;
  virtual int resume(pid_t tid, bool step, int host_signal) = 0;
  // PTRACE_LISTEN: out of the ptrace-stop but left in the group-stop (a
  // SIGSTOP from outside) until SIGCONT or PTRACE_INTERRUPT, which re-trap it.
  virtual int listen(pid_t tid) = 0;
  // PTRACE_SYSCALL: run to the next syscall entry or exit.
  virtual int resume_to_syscall(pid_t tid, int host_signal) = 0;
  // At a syscall-stop (SIGTRAP|0x80): whether it is the entry, from
  // PTRACE_GET_SYSCALL_INFO (the kernel's own bookkeeping).
  virtual int syscall_stop_is_entry(pid_t tid, bool& entry) = 0;
  virtual int detach(pid_t tid, int host_signal) = 0;
  // tgkill: a signal for one thread. ptrace hands a signal to a thread only
  // from a signal-delivery-stop; from any other stop it must be sent.
  virtual int send_signal(pid_t pid, pid_t tid, int host_signal) = 0;
  virtual int kill_process(pid_t pid) = 0;
  // `image` comes in sized to the most the caller will take, and leaves sized
  // to what the kernel filled.
  virtual int get_regset(pid_t tid, unsigned note_type, std::vector<std::uint8_t>& image) = 0;
  virtual int set_regset(pid_t tid, unsigned note_type, std::span<const std::uint8_t> image) = 0;
  virtual int get_trap_info(pid_t tid, TrapInfo& info) = 0;
  // PTRACE_GETSIGINFO as the kernel's raw bytes (gdb's $_siginfo).
  virtual int get_siginfo(pid_t tid, std::vector<std::uint8_t>& raw) = 0;
  virtual int set_siginfo(pid_t tid, std::span<const std::uint8_t> raw) = 0;
  // PTRACE_PEEKUSER / PTRACE_POKEUSER: a word of the thread's user area (x86 debug registers).
  virtual int peek_user(pid_t tid, unsigned offset, std::uint64_t& value) = 0;
  virtual int poke_user(pid_t tid, unsigned offset, std::uint64_t value) = 0;
  // powerpc hardware debug: PPC_PTRACE_GETHWDBGINFO, PPC_PTRACE_SETHWDEBUG
  // (which gives a handle), PPC_PTRACE_DELHWDEBUG. Elsewhere the kernel refuses them.
  virtual int ppc_debug_info(pid_t tid, arch::PpcDebugInfo& info) = 0;
  virtual int ppc_set_hw_debug(pid_t tid, const arch::PpcHwBreakpoint& request, long& handle) = 0;
  virtual int ppc_del_hw_debug(pid_t tid, long handle) = 0;
  // The process is on its way out (its leader is a zombie waiting for its threads).
  virtual bool exiting(pid_t pid) = 0;
  // A SIGKILL is pending for it: every thread is about to go.
  virtual bool being_killed(pid_t pid) = 0;
  // The process a thread belongs to (its Tgid); 0 when it is gone.
  virtual pid_t thread_group(pid_t tid) = 0;
  // The signal is queued for this thread alone (SigPnd in /proc/TID/status).
  virtual bool signal_pending(pid_t tid, int host_signal) = 0;
  // AT_HWCAP and AT_HWCAP2 from the process's auxv; nullopt if unreadable.
  virtual std::optional<arch::HardwareCaps> hardware_caps(pid_t pid) = 0;
  // Where the kernel mapped the process's vDSO (AT_SYSINFO_EHDR), if it says.
  virtual std::optional<std::uint64_t> vdso_address(pid_t pid) = 0;
  // PTRACE_GETEVENTMSG: the new thread's id at a PTRACE_EVENT_CLONE stop.
  virtual int get_event_message(pid_t tid, unsigned long& message) = 0;
  // The process runs a new program (exec): anything kept about its old
  // address space (an open /proc/PID/mem) is void.
  virtual void image_replaced(pid_t pid) = 0;
  // Returns bytes transferred (possibly short) or -errno.
  virtual long read_memory(pid_t pid, std::uint64_t address, std::span<std::uint8_t> out) = 0;
  virtual long write_memory(pid_t pid, std::uint64_t address, std::span<const std::uint8_t> in) = 0;
  // Collects one status of any traced thread; with `block`, waits for `tid` (or any, if -1).
  virtual std::optional<WaitResult> wait(pid_t tid, bool block) = 0;
};

}  // namespace ustub
