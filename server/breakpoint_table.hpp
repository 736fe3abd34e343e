#pragma once
// Inserted software breakpoints and the bytes they hide. Memory reads show the
// original bytes; memory writes over a breakpoint update the saved bytes and
// leave the breakpoint instruction in place.
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

namespace ustub {

class BreakpointTable {
 public:
  bool contains(std::uint64_t address) const { return entries_.count(address) != 0; }
  bool empty() const { return entries_.empty(); }
  std::vector<std::uint64_t> addresses() const;

  void add(std::uint64_t address, std::vector<std::uint8_t> original);
  // The original bytes to put back, or nullopt when there is no such breakpoint.
  std::optional<std::vector<std::uint8_t>> remove(std::uint64_t address);
  const std::vector<std::uint8_t>* original(std::uint64_t address) const;

  // Replace breakpoint bytes in `data` (read from `address`) by the originals.
  void hide(std::uint64_t address, std::span<std::uint8_t> data) const;
  // `data` is about to be written at `address`: save what lands under a
  // breakpoint as its new original, and put the instruction bytes back in `data`.
  void absorb_write(std::uint64_t address, std::span<std::uint8_t> data,
                    std::span<const std::uint8_t> instruction);

 private:
  std::map<std::uint64_t, std::vector<std::uint8_t>> entries_;
};

}  // namespace ustub
