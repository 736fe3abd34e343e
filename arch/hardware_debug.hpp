#pragma once
// Hardware breakpoints and watchpoints, as an architecture provides them: a
// small set of slots shared by every thread. The engine asks for what gdb
// wants (Z1–Z4); the architecture puts the slots into each thread, and says
// which slot a thread's trap came from, through the kernel calls of a
// DebugPort (x86: debug registers in the user area; powerpc: hardware
// debug requests with per-thread handles).
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace arch {

enum class WatchKind { Execute, Write, Read, Access };  // Z1, Z2, Z3, Z4

struct HardwareHit {
  WatchKind kind;
  std::uint64_t address;  // the watched address the hardware reports (start of its slot)
  std::uint64_t length;
};

// The kernel's struct ppc_debug_info (PPC_PTRACE_GETHWDBGINFO).
struct PpcDebugInfo {
  std::uint32_t version;
  std::uint32_t num_instruction_bps;
  std::uint32_t num_data_bps;
  std::uint32_t num_condition_regs;
  std::uint32_t data_bp_alignment;
  std::uint32_t sizeof_condition;
  std::uint64_t features;
};

// The kernel's struct ppc_hw_breakpoint (PPC_PTRACE_SETHWDEBUG).
struct PpcHwBreakpoint {
  std::uint32_t version;
  std::uint32_t trigger_type;
  std::uint32_t addr_mode;
  std::uint32_t condition_mode;
  std::uint64_t addr;
  std::uint64_t addr2;
  std::uint64_t condition_value;
};

// The kernel calls a HardwareDebug makes for one thread; each returns 0 or an errno.
class DebugPort {
 public:
  virtual ~DebugPort() = default;
  virtual int peek_user(pid_t tid, unsigned offset, std::uint64_t& value) = 0;
  virtual int poke_user(pid_t tid, unsigned offset, std::uint64_t value) = 0;
  virtual int ppc_debug_info(pid_t tid, PpcDebugInfo& info) = 0;
  virtual int ppc_set_hw_debug(pid_t tid, const PpcHwBreakpoint& request, long& handle) = 0;
  virtual int ppc_del_hw_debug(pid_t tid, long handle) = 0;
  // The data address of the hardware breakpoint trap the thread stopped with (si_addr of a TRAP_HWBKPT).
  virtual std::optional<std::uint64_t> hardware_trap_address(pid_t tid) = 0;
};

class HardwareDebug {
 public:
  virtual ~HardwareDebug() = default;
  // Learns what the hardware has, from one thread of the process.
  virtual void probe(pid_t, DebugPort&) {}
  // Whether there is anything to offer gdb (no: Z1–Z4 get an empty reply).
  virtual bool available() const { return true; }
  // 0, or an errno: ENOSPC when the slots run out, EINVAL for a length the
  // hardware cannot watch. A failed insert changes nothing.
  virtual int insert(WatchKind kind, std::uint64_t address, std::uint64_t length) = 0;
  virtual int remove(WatchKind kind, std::uint64_t address, std::uint64_t length) = 0;
  virtual bool empty() const = 0;
  // Whether a read watchpoint traps writes too (x86: no read-only traps), so
  // a trap must be told a read only when the value did not change.
  virtual bool reads_trap_writes() const { return false; }
  // Puts the slots as they are now into one thread. 0 or an errno.
  virtual int write_to_thread(pid_t tid, DebugPort& port) = 0;
  // Takes them all out of one thread, so the program never traps after (detach).
  virtual void clear_thread(pid_t tid, DebugPort& port) = 0;
  // Which slot, if any, the thread's SIGTRAP came from; the slot stays armed.
  virtual std::optional<HardwareHit> take_hit(pid_t tid, DebugPort& port) = 0;
  // The thread is gone.
  virtual void forget_thread(pid_t) {}
};

}  // namespace arch
