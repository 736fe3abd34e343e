#pragma once
// powerpc data breakpoints through PPC_PTRACE_SETHWDEBUG: each slot is a
// request set in every thread, which the kernel answers with a handle per
// thread. How many there are comes from PPC_PTRACE_GETHWDBGINFO: POWER8's
// DAWR gives one; a POWER9 whose DAWR is off gives none, and then gdb is
// told there are no hardware watchpoints (an empty reply to Z2–Z4), as it is
// by gdbserver on powerpc. Instruction breakpoints (Z1) are not offered.
// A data breakpoint is one-shot in the kernel: a hit is re-armed at once.
#include <map>
#include <vector>

#include "arch/hardware_debug.hpp"

namespace arch {

class Ppc64HardwareDebug final : public HardwareDebug {
 public:
  static constexpr std::uint32_t kTriggerRead = 0x2, kTriggerWrite = 0x4;
  static constexpr std::uint32_t kModeExact = 0x0, kModeRangeInclusive = 0x1;
  static constexpr std::uint64_t kFeatureDataRange = 0x4;

  void probe(pid_t tid, DebugPort& port) override;
  bool available() const override { return data_slots_ > 0; }
  int insert(WatchKind kind, std::uint64_t address, std::uint64_t length) override;
  int remove(WatchKind kind, std::uint64_t address, std::uint64_t length) override;
  bool empty() const override { return slots_.empty(); }
  int write_to_thread(pid_t tid, DebugPort& port) override;
  void clear_thread(pid_t tid, DebugPort& port) override;
  std::optional<HardwareHit> take_hit(pid_t tid, DebugPort& port) override;
  void forget_thread(pid_t tid) override { handles_.erase(tid); }

  // The request for one watched range, as gdb's own ppc-linux-nat makes it;
  // nullopt when the hardware cannot watch it.
  static std::optional<PpcHwBreakpoint> request_for(WatchKind kind, std::uint64_t address, std::uint64_t length,
                                                    std::uint64_t features);

 private:
  struct Slot {
    WatchKind kind;
    std::uint64_t address, length;
    PpcHwBreakpoint request;
  };
  unsigned data_slots_ = 0;
  std::uint64_t features_ = 0;
  std::vector<Slot> slots_;
  std::map<pid_t, std::vector<long>> handles_;  // per thread, one per slot, in slot order
};

}  // namespace arch
