#include "server/breakpoint_table.hpp"

namespace ustub {

std::vector<std::uint64_t> BreakpointTable::addresses() const {
  std::vector<std::uint64_t> out;
  for (const auto& [address, _] : entries_) out.push_back(address);
  return out;
}

void BreakpointTable::add(std::uint64_t address, std::vector<std::uint8_t> original) {
  entries_[address] = std::move(original);
}

std::optional<std::vector<std::uint8_t>> BreakpointTable::remove(std::uint64_t address) {
  auto it = entries_.find(address);
  if (it == entries_.end()) return std::nullopt;
  auto original = std::move(it->second);
  entries_.erase(it);
  return original;
}

const std::vector<std::uint8_t>* BreakpointTable::original(std::uint64_t address) const {
  auto it = entries_.find(address);
  return it == entries_.end() ? nullptr : &it->second;
}

namespace {
// Calls fn(byte index in the breakpoint, byte index in the range) for every
// byte where a breakpoint and [address, address + size) overlap.
template <class Map, class Fn>
void for_each_overlap(Map& entries, std::uint64_t address, std::size_t size, Fn fn) {
  if (size == 0) return;
  std::uint64_t end = address + size;
  // Breakpoints are at most a few bytes long: start a little before the range.
  auto it = entries.lower_bound(address >= 16 ? address - 16 : 0);
  for (; it != entries.end() && it->first < end; ++it) {
    auto& bytes = it->second;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      std::uint64_t at = it->first + i;
      if (at >= address && at < end) fn(bytes, i, static_cast<std::size_t>(at - address));
    }
  }
}
}  // namespace

void BreakpointTable::hide(std::uint64_t address, std::span<std::uint8_t> data) const {
  for_each_overlap(entries_, address, data.size(),
                   [&](const std::vector<std::uint8_t>& original, std::size_t i, std::size_t at) {
                     data[at] = original[i];
                   });
}

void BreakpointTable::absorb_write(std::uint64_t address, std::span<std::uint8_t> data,
                                   std::span<const std::uint8_t> instruction) {
  for_each_overlap(entries_, address, data.size(),
                   [&](std::vector<std::uint8_t>& original, std::size_t i, std::size_t at) {
                     original[i] = data[at];
                     if (i < instruction.size()) data[at] = instruction[i];
                   });
}

}  // namespace ustub
