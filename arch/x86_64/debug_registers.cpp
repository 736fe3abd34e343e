#include "arch/x86_64/debug_registers.hpp"

#include <cerrno>
#include <cstddef>

#if defined(__x86_64__)
#include <sys/user.h>
#endif

namespace arch {

namespace {

// offsetof(struct user, u_debugreg) on x86_64, for PTRACE_POKEUSER.
constexpr unsigned kDebugRegOffset = 848;
#if defined(__x86_64__)
static_assert(offsetof(struct user, u_debugreg) == kDebugRegOffset);
#endif
constexpr unsigned dr_offset(int n) { return kDebugRegOffset + 8 * static_cast<unsigned>(n); }

unsigned rw_bits(WatchKind kind) {
  switch (kind) {
    case WatchKind::Execute: return 0b00;
    case WatchKind::Write: return 0b01;
    case WatchKind::Read:  // no read-only traps on x86
    case WatchKind::Access: return 0b11;
  }
  return 0b11;
}

unsigned len_bits(std::uint64_t length) {
  switch (length) {
    case 1: return 0b00;
    case 2: return 0b01;
    case 8: return 0b10;
    default: return 0b11;  // 4
  }
}

}  // namespace

std::vector<std::pair<std::uint64_t, std::uint64_t>> x86_watch_pieces(std::uint64_t address, std::uint64_t length) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> pieces;
  while (length > 0 && pieces.size() <= X86DebugRegisters::kSlots) {
    std::uint64_t size = 8;
    while (size > 1 && (address % size != 0 || size > length)) size /= 2;
    pieces.emplace_back(address, size);
    address += size;
    length -= size;
  }
  return pieces;
}

int X86DebugRegisters::insert(WatchKind kind, std::uint64_t address, std::uint64_t length) {
  if (kind == WatchKind::Execute) length = 1;  // the instruction's length is ignored (LEN must be 0)
  if (length == 0) return EINVAL;
  auto pieces = x86_watch_pieces(address, length);
  if (pieces.size() > static_cast<std::size_t>(kSlots)) return ENOSPC;
  // Find a slot for every piece before taking any.
  int planned[kSlots];
  bool taken[kSlots] = {};
  for (std::size_t p = 0; p < pieces.size(); ++p) {
    planned[p] = -1;
    for (int s = 0; s < kSlots; ++s)
      if (slots_[s].used && slots_[s].kind == kind && slots_[s].address == pieces[p].first &&
          slots_[s].length == pieces[p].second) {
        planned[p] = s;
        break;
      }
    if (planned[p] >= 0) continue;
    for (int s = 0; s < kSlots; ++s)
      if (!slots_[s].used && !taken[s]) {
        planned[p] = s;
        taken[s] = true;
        break;
      }
    if (planned[p] < 0) return ENOSPC;
  }
  for (std::size_t p = 0; p < pieces.size(); ++p) {
    Slot& slot = slots_[planned[p]];
    if (!slot.used) slot = Slot{true, kind, pieces[p].first, pieces[p].second, 0};
    ++slot.references;
  }
  return 0;
}

int X86DebugRegisters::remove(WatchKind kind, std::uint64_t address, std::uint64_t length) {
  if (kind == WatchKind::Execute) length = 1;
  for (auto [piece_address, piece_length] : x86_watch_pieces(address, length))
    for (Slot& slot : slots_)
      if (slot.used && slot.kind == kind && slot.address == piece_address && slot.length == piece_length) {
        if (--slot.references == 0) slot = Slot{};
        break;
      }
  return 0;
}

bool X86DebugRegisters::empty() const {
  for (const Slot& s : slots_)
    if (s.used) return false;
  return true;
}

std::uint64_t X86DebugRegisters::dr7() const {
  std::uint64_t value = 0;
  for (int s = 0; s < kSlots; ++s) {
    if (!slots_[s].used) continue;
    value |= 1ull << (2 * s);  // local enable
    value |= static_cast<std::uint64_t>(rw_bits(slots_[s].kind)) << (16 + 4 * s);
    value |= static_cast<std::uint64_t>(len_bits(slots_[s].length)) << (18 + 4 * s);
  }
  return value;
}

std::vector<std::pair<unsigned, std::uint64_t>> X86DebugRegisters::thread_words() const {
  // DR7 off first: the kernel checks each address against the enabled slots.
  std::vector<std::pair<unsigned, std::uint64_t>> words{{dr_offset(7), 0}};
  for (int s = 0; s < kSlots; ++s)
    if (slots_[s].used) words.emplace_back(dr_offset(s), slots_[s].address);
  words.emplace_back(dr_offset(7), dr7());
  return words;
}

std::vector<std::pair<unsigned, std::uint64_t>> X86DebugRegisters::cleared_words() const {
  return {{dr_offset(7), 0}, {dr_offset(6), 0}};
}

unsigned X86DebugRegisters::status_offset() const { return dr_offset(6); }

int X86DebugRegisters::write_to_thread(pid_t tid, DebugPort& port) {
  for (auto [offset, value] : thread_words())
    if (int rc = port.poke_user(tid, offset, value)) return rc;
  return 0;
}

void X86DebugRegisters::clear_thread(pid_t tid, DebugPort& port) {
  for (auto [offset, value] : cleared_words()) port.poke_user(tid, offset, value);
}

std::optional<HardwareHit> X86DebugRegisters::take_hit(pid_t tid, DebugPort& port) {
  std::uint64_t status = 0;
  if (port.peek_user(tid, status_offset(), status) != 0) return std::nullopt;
  auto hit = decode_status(status);
  if (hit) port.poke_user(tid, status_offset(), 0);  // the hardware never clears DR6
  return hit;
}

// One access can fire several slots. A read watchpoint's slot fires on writes
// too, so any other slot that fired says better what the access was.
std::optional<HardwareHit> X86DebugRegisters::decode_status(std::uint64_t status) const {
  std::optional<HardwareHit> hit;
  for (int s = 0; s < kSlots; ++s) {
    if (!(status & (1ull << s)) || !slots_[s].used) continue;
    hit = HardwareHit{slots_[s].kind, slots_[s].address, slots_[s].length};
    if (slots_[s].kind != WatchKind::Read) break;
  }
  return hit;
}

}  // namespace arch
