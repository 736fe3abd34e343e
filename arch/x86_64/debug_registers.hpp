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
  std::vector<std::pair<unsigned, std::uint64_t>> thread_words() const override;
  std::vector<std::pair<unsigned, std::uint64_t>> cleared_words() const override;
  unsigned status_offset() const override;
  std::optional<HardwareHit> decode_status(std::uint64_t status) const override;

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
