#pragma once
// What ustub needs to know about single powerpc64 instructions, decoded with
// Capstone.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "arch/arch.hpp"

namespace arch::ppc64 {

// `sc` or `scv`: a single-step over one stops an instruction late (the kernel
// returns from the call with the trace bit already consumed), so the
// instruction after it would run unseen.
bool is_syscall_instruction(std::span<const std::uint8_t> instruction, Endian endian);

// A load-reserve (l[bhwdq]arx) at `pc` opens an atomic sequence that a
// single-step would break: the trap after each instruction drops the
// reservation, so the store-conditional fails and the loop never ends. The
// sequence is run instead, to these addresses: the instruction after the
// store-conditional, and any conditional branch's target outside the
// sequence. nullopt: no load-reserve at pc, or a sequence that cannot be run
// that way (no store-conditional within 16 instructions, an unconditional or
// indirect branch in it, a second load-reserve): the caller single-steps.
// `code` holds the bytes from pc on.
std::optional<std::vector<std::uint64_t>> atomic_sequence_exits(std::uint64_t pc, std::span<const std::uint8_t> code,
                                                                Endian endian);
inline constexpr unsigned kAtomicSequenceLimit = 16;  // instructions, store-conditional included

// Arch::plan_range_step for powerpc64: exits at the targets of direct
// branches and calls outside the range and at its end; step points at
// indirect branches (blr, bctr, bctar and their conditional forms), system
// calls, traps and the other branch-unit instructions. nullopt for a range
// that is not whole instructions or a direct branch Capstone cannot decode.
// An atomic sequence in the range needs nothing: it is run, never stepped.
std::optional<RangeStepPlan> plan_range_step(std::uint64_t start, std::span<const std::uint8_t> code, Endian endian);

// Arch::out_of_line_copy for powerpc64: the instruction, then `b` back to the
// one after it. Only what runs the same anywhere is copied: never branches
// (they are pc-relative or use LR), the rest of the branch unit (opcode 19:
// addpcis, isync, rfid …), sc, scv, traps, prefixed instructions (their
// pc-relative forms), load-reserve and store-conditional (a reservation is
// better kept in place), nor what Capstone cannot name. nullopt too when `to`
// is more than 32 MiB from `from`.
std::optional<OutOfLineCopy> out_of_line_copy(std::uint64_t from, std::span<const std::uint8_t> code,
                                              std::uint64_t to, Endian endian);

}  // namespace arch::ppc64
