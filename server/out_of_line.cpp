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

std::uint64_t OutOfLineArea::placement_hint(std::uint64_t code, std::uint64_t reach) {
  // Below the gigabyte the code is in (or the smaller block within half the
  // reach): programs and libraries are mapped from the start of such a region
  // upwards, so just below it is usually free. 64 KiB below: a whole page on
  // any kernel (powerpc's pages are 64 KiB), or the kernel rounds the hint up
  // into the program.
  constexpr std::uint64_t kGigabyte = 1ull << 30, kClearance = 0x10000, kLowest = 0x100000;
  std::uint64_t block = std::min(kGigabyte, reach / 2);
  std::uint64_t region = code & ~(block - 1);
  if (region < kLowest + kClearance) return kLowest;  // low programs (x86's non-PIE at 4 MiB): 1 MiB
  return region - kClearance;
}

}  // namespace ustub
