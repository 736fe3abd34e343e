#pragma once
#include <map>

#include "server/ptrace_ops.hpp"

namespace ustub {

class LinuxPtraceOps final : public PtraceOps {
 public:
  ~LinuxPtraceOps() override;
  int interrupt(pid_t tid) override;
  int resume(pid_t tid, bool step, int host_signal) override;
  int send_signal(pid_t pid, pid_t tid, int host_signal) override;
  int listen(pid_t tid) override;
  void image_replaced(pid_t pid) override { forget_memory_fd(pid); }
  int resume_to_syscall(pid_t tid, int host_signal) override;
  int syscall_stop_is_entry(pid_t tid, bool& entry) override;
  int detach(pid_t tid, int host_signal) override;
  int kill_process(pid_t pid) override;
  int get_regset(pid_t tid, unsigned note_type, std::vector<std::uint8_t>& image) override;
  int set_regset(pid_t tid, unsigned note_type, std::span<const std::uint8_t> image) override;
  int get_trap_info(pid_t tid, TrapInfo& info) override;
  int get_event_message(pid_t tid, unsigned long& message) override;
  int get_siginfo(pid_t tid, std::vector<std::uint8_t>& raw) override;
  int set_siginfo(pid_t tid, std::span<const std::uint8_t> raw) override;
  bool exiting(pid_t pid) override;
  bool being_killed(pid_t pid) override;
  pid_t thread_group(pid_t tid) override;
  bool signal_pending(pid_t tid, int host_signal) override;
  std::optional<arch::HardwareCaps> hardware_caps(pid_t pid) override;
  std::optional<std::uint64_t> vdso_address(pid_t pid) override;
  int peek_user(pid_t tid, unsigned offset, std::uint64_t& value) override;
  int poke_user(pid_t tid, unsigned offset, std::uint64_t value) override;
  int ppc_debug_info(pid_t tid, arch::PpcDebugInfo& info) override;
  int ppc_set_hw_debug(pid_t tid, const arch::PpcHwBreakpoint& request, long& handle) override;
  int ppc_del_hw_debug(pid_t tid, long handle) override;
  long read_memory(pid_t pid, std::uint64_t address, std::span<std::uint8_t> out) override;
  long write_memory(pid_t pid, std::uint64_t address, std::span<const std::uint8_t> in) override;
  std::optional<WaitResult> wait(pid_t tid, bool block) override;

 private:
  int memory_fd(pid_t pid);
  void forget_memory_fd(pid_t pid);
  std::map<pid_t, int> memory_fds_;  // /proc/PID/mem, opened once per process
};

}  // namespace ustub
