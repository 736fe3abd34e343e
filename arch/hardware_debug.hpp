#pragma once
// Hardware breakpoints and watchpoints, as an architecture provides them: a
// small set of slots shared by every thread. The engine asks for what gdb
// wants (Z1–Z4), writes the resulting per-thread register words into each
// thread's user area, and decodes the status word when a thread traps.
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

class HardwareDebug {
 public:
  virtual ~HardwareDebug() = default;
  // 0, or an errno: ENOSPC when the slots run out, EINVAL for a length the
  // hardware cannot watch. A failed insert changes nothing.
  virtual int insert(WatchKind kind, std::uint64_t address, std::uint64_t length) = 0;
  virtual int remove(WatchKind kind, std::uint64_t address, std::uint64_t length) = 0;
  virtual bool empty() const = 0;
  // What every thread's user area must hold: (offset, value), written in order.
  virtual std::vector<std::pair<unsigned, std::uint64_t>> thread_words() const = 0;
  // The all-clear words (used on detach so the program never traps after).
  virtual std::vector<std::pair<unsigned, std::uint64_t>> cleared_words() const = 0;
  // Where the status word is, and which slot (if any) it says fired.
  virtual unsigned status_offset() const = 0;
  virtual std::optional<HardwareHit> decode_status(std::uint64_t status) const = 0;
};

}  // namespace arch
