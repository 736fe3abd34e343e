#pragma once
// What ustub needs to know about x86-64 instructions, decoded with Capstone.
#include <cstdint>
#include <optional>
#include <span>

#include "arch/arch.hpp"

namespace arch::x86_64 {

// Arch::plan_range_step for x86-64: every instruction of [start, start +
// code.size()) is decoded from `start` on. nullopt when an instruction does
// not decode or runs past the end of the range.
std::optional<RangeStepPlan> plan_range_step(std::uint64_t start, std::span<const std::uint8_t> code);

// Arch::out_of_line_copy for x86-64.
std::optional<OutOfLineCopy> out_of_line_copy(std::uint64_t from, std::span<const std::uint8_t> code, std::uint64_t to);

}  // namespace arch::x86_64
