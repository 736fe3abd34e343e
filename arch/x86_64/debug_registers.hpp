#pragma once
// x86 debug registers DR0–DR3 (addresses), DR6 (status), DR7 (control).
// A watched range that is not one aligned 1/2/4/8-byte piece is split into
// several, each taking a slot, as gdbserver does. x86 cannot trap on reads
// alone: a read watchpoint uses a read/write slot, and the engine tells reads
// from writes by the value.
#include "arch/hardware_debug.hpp"

namespace arch {

class X86DebugRegisters final : public HardwareDebug {
 public:
  static constexpr int kSlots = 4;

  int insert(WatchKind kind, std::uint64_t address, std::uint64_t length) override;
  int remove(WatchKind kind, std::uint64_t address, std::uint64_t length) override;
  bool empty() const override;
  bool reads_trap_writes() const override { return true; }
  int write_to_thread(pid_t tid, DebugPort& port) override;
  void clear_thread(pid_t tid, DebugPort& port) override;
  std::optional<HardwareHit> take_hit(pid_t tid, DebugPort& port) override;

  // What every thread's user area must hold: (offset, value), written in order.
  std::vector<std::pair<unsigned, std::uint64_t>> thread_words() const;
  // The all-clear words.
  std::vector<std::pair<unsigned, std::uint64_t>> cleared_words() const;
  // Where DR6 is, and which slot (if any) it says fired.
  unsigned status_offset() const;
  std::optional<HardwareHit> decode_status(std::uint64_t status) const;

  std::uint64_t dr7() const;

 private:
  struct Slot {
    bool used = false;
    WatchKind kind = WatchKind::Write;
    std::uint64_t address = 0;
    std::uint64_t length = 0;
    int references = 0;  // gdb may ask twice for the same piece
  };
  Slot slots_[kSlots];
};

// The aligned pieces (address, length) that cover [address, address + length).
std::vector<std::pair<std::uint64_t, std::uint64_t>> x86_watch_pieces(std::uint64_t address, std::uint64_t length);

}  // namespace arch
