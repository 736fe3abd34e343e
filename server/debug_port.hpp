#pragma once
// The kernel calls an architecture's hardware debug makes, through PtraceOps.
#include "arch/hardware_debug.hpp"
#include "server/ptrace_ops.hpp"

namespace ustub {

class PtraceDebugPort final : public arch::DebugPort {
 public:
  explicit PtraceDebugPort(PtraceOps& ops) : ops_(&ops) {}
  int peek_user(pid_t tid, unsigned offset, std::uint64_t& value) override { return ops_->peek_user(tid, offset, value); }
  int poke_user(pid_t tid, unsigned offset, std::uint64_t value) override { return ops_->poke_user(tid, offset, value); }
  int ppc_debug_info(pid_t tid, arch::PpcDebugInfo& info) override { return ops_->ppc_debug_info(tid, info); }
  int ppc_set_hw_debug(pid_t tid, const arch::PpcHwBreakpoint& request, long& handle) override {
    return ops_->ppc_set_hw_debug(tid, request, handle);
  }
  int ppc_del_hw_debug(pid_t tid, long handle) override { return ops_->ppc_del_hw_debug(tid, handle); }
  std::optional<std::uint64_t> hardware_trap_address(pid_t tid) override {
    constexpr int kTrapHardwareBreakpoint = 4;  // TRAP_HWBKPT
    TrapInfo trap;
    if (ops_->get_trap_info(tid, trap) != 0 || trap.code != kTrapHardwareBreakpoint) return std::nullopt;
    return trap.address;
  }

 private:
  PtraceOps* ops_;
};

}  // namespace ustub
