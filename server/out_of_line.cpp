#include "server/out_of_line.hpp"

#include <algorithm>

namespace ustub {

std::optional<std::uint64_t> OutOfLineArea::slot_for(std::uint64_t breakpoint, std::span<const std::uint8_t> code) const {
  if (state_ != State::Ready) return std::nullopt;
  auto it = slot_of_breakpoint_.find(breakpoint);
  if (it == slot_of_breakpoint_.end()) return std::nullopt;
  const auto& instruction = slots_.at(it->second).instruction;
  if (code.size() < instruction.size() || !std::equal(instruction.begin(), instruction.end(), code.begin()))
    return std::nullopt;
  return it->second;
}

std::optional<std::uint64_t> OutOfLineArea::next_slot() const {
  if (state_ != State::Ready) return std::nullopt;
  std::uint64_t used = slots_.size() * kSlotBytes;
  if (used + kSlotBytes > kPageBytes) return std::nullopt;
  return page_ + used;
}

void OutOfLineArea::add(std::uint64_t breakpoint, std::span<const std::uint8_t> instruction) {
  auto at = next_slot();
  if (!at) return;
  slots_[*at] = Slot{breakpoint, {instruction.begin(), instruction.end()}};
  slot_of_breakpoint_[breakpoint] = *at;
}

std::optional<std::uint64_t> OutOfLineArea::program_pc(std::uint64_t pc) const {
  if (state_ != State::Ready || pc < page_ || pc >= page_ + kPageBytes) return std::nullopt;
  auto it = slots_.find(pc - (pc - page_) % kSlotBytes);
  if (it == slots_.end()) return std::nullopt;
  std::uint64_t offset = pc - it->first;
  if (offset == 0) return it->second.breakpoint;
  std::uint64_t length = it->second.instruction.size();
  if (offset == length) return it->second.breakpoint + length;
  return std::nullopt;  // not an instruction boundary of ours
}

std::uint64_t OutOfLineArea::placement_hint(std::uint64_t code) {
  // Below the gigabyte the code is in: programs and libraries are mapped from
  // the start of such a region upwards, so just below it is usually free.
  constexpr std::uint64_t kGigabyte = 1ull << 30;
  std::uint64_t region = code & ~(kGigabyte - 1);
  if (region < kGigabyte) return 16 * kPageBytes * 16;  // low programs (non-PIE at 4 MiB): 1 MiB
  return region - 16 * kPageBytes;
}

}  // namespace ustub
