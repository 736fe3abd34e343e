#pragma once
// Registers of one stopped thread: each regset is fetched the first time a
// register in it is needed, and written back before the thread runs only if
// something in it changed.
#include <sys/types.h>

#include <optional>
#include <vector>

#include "arch/register_layout.hpp"
#include "server/ptrace_ops.hpp"

namespace ustub {

class RegisterCache {
 public:
  RegisterCache(const arch::Arch& arch, PtraceOps& ops, pid_t tid);

  // The whole regset image, fetched on first use; nullptr when the kernel refuses it.
  const std::vector<std::uint8_t>* image(unsigned regset);
  bool read(const arch::RegisterInfo& reg, std::span<std::uint8_t> value);
  bool write(const arch::RegisterInfo& reg, std::span<const std::uint8_t> value);
  std::optional<std::uint64_t> read_u64(const arch::RegisterInfo& reg);
  bool write_u64(const arch::RegisterInfo& reg, std::uint64_t value);

  // A copy of one regset's image as it is now, to put back with restore()
  // after the thread ran with other values (a syscall ustub made in it).
  std::optional<std::vector<std::uint8_t>> save(unsigned regset);
  bool restore(unsigned regset, const std::vector<std::uint8_t>& image);

  // Writes dirty regsets back; returns 0 or the first errno.
  int flush();
  // The thread ran: everything cached is stale.
  void invalidate();

 private:
  struct Slot {
    bool fetched = false;
    bool available = false;
    bool dirty = false;
    unsigned note_type = 0;  // the note the kernel accepted
    std::vector<std::uint8_t> bytes;
  };
  const arch::Arch* arch_;
  PtraceOps* ops_;
  pid_t tid_;
  std::vector<Slot> slots_;
};

}  // namespace ustub
