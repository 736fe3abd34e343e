#pragma once
// One page in a traced process where the instructions under breakpoints whose
// conditions ustub evaluates are copied, each followed by a jump back. A hit
// whose conditions are false goes on in the copy: one stop per hit instead of
// two (a single-step over the original with the breakpoint out), and the
// breakpoint never leaves memory, so other threads may run meanwhile.
//
// A thread found stopped in a copy is put back where it is in the program: at
// the breakpoint when the copied instruction has not run (a fault in it, or a
// stop before it), after the instruction when only the jump back is left.
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

namespace ustub {

class OutOfLineArea {
 public:
  static constexpr std::uint64_t kPageBytes = 4096;
  static constexpr std::uint64_t kSlotBytes = 32;  // the longest copy: 15 + a 14-byte jump

  enum class State { Absent, Mapping, Ready, Unusable };

  State state() const { return state_; }
  std::uint64_t page() const { return page_; }
  void mapping() { state_ = State::Mapping; }
  void mapped(std::uint64_t page) { state_ = State::Ready, page_ = page; }
  void unusable() { state_ = State::Unusable; }
  // A failed mapping is tried again at a later hit.
  void not_mapped() { state_ = State::Absent; }

  // The copy of the instruction at `breakpoint`, if it is a copy of `code`
  // (the bytes there now, from the instruction on): the program may have
  // put other code there since (a library unloaded, another loaded).
  std::optional<std::uint64_t> slot_for(std::uint64_t breakpoint, std::span<const std::uint8_t> code) const;
  // Where the next copy goes; nullopt when the page is full.
  std::optional<std::uint64_t> next_slot() const;
  // The copy at next_slot() of `instruction`, the bytes at `breakpoint`.
  void add(std::uint64_t breakpoint, std::span<const std::uint8_t> instruction);
  // Where a thread stopped at `pc` is in the program, if `pc` is in a copy.
  std::optional<std::uint64_t> program_pc(std::uint64_t pc) const;

  // An address to ask the kernel for, near `code` but clear of it, so the
  // copies' pc-relative operands and jumps back stay within `reach` (either way).
  static std::uint64_t placement_hint(std::uint64_t code, std::uint64_t reach);

 private:
  struct Slot {
    std::uint64_t breakpoint;
    std::vector<std::uint8_t> instruction;
  };
  State state_ = State::Absent;
  std::uint64_t page_ = 0;
  std::map<std::uint64_t, std::uint64_t> slot_of_breakpoint_;
  std::map<std::uint64_t, Slot> slots_;  // by slot address
};

}  // namespace ustub
