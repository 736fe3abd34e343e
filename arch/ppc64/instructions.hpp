#pragma once
// What ustub needs to know about single powerpc64 instructions, decoded with
// Capstone.
#include <cstdint>
#include <span>

#include "arch/arch.hpp"

namespace arch::ppc64 {

// `sc` or `scv`: a single-step over one stops an instruction late (the kernel
// returns from the call with the trace bit already consumed), so the
// instruction after it would run unseen.
bool is_syscall_instruction(std::span<const std::uint8_t> instruction, Endian endian);

}  // namespace arch::ppc64
