#include "arch/ppc64/instructions.hpp"

#include <capstone/capstone.h>

#include <algorithm>

namespace arch::ppc64 {

namespace {

std::uint32_t word_of(std::span<const std::uint8_t> bytes, Endian endian) {
  std::uint32_t w = 0;
  for (unsigned i = 0; i < 4; ++i)
    w |= static_cast<std::uint32_t>(bytes[i]) << (endian == Endian::Little ? 8 * i : 8 * (3 - i));
  return w;
}

// One Capstone handle per byte order, opened once, with operand details
// (branch targets).
csh handle_for(Endian endian) {
  static csh handles[2] = {0, 0};
  static bool opened[2] = {false, false};
  unsigned i = endian == Endian::Little ? 0 : 1;
  if (!opened[i]) {
    auto mode = static_cast<cs_mode>(CS_MODE_64 | (endian == Endian::Little ? CS_MODE_LITTLE_ENDIAN : CS_MODE_BIG_ENDIAN));
    if (cs_open(CS_ARCH_PPC, mode, &handles[i]) != CS_ERR_OK)
      handles[i] = 0;
    else
      cs_option(handles[i], CS_OPT_DETAIL, CS_OPT_ON);
    opened[i] = true;
  }
  return handles[i];
}

// tdi, twi, tw, td: by primary opcode, and 31's extended opcodes 4 and 68.
bool is_trap(std::uint32_t w) {
  std::uint32_t primary = w >> 26, extended = (w >> 1) & 0x3ff;
  return primary == 2 || primary == 3 || (primary == 31 && (extended == 4 || extended == 68));
}

// X-form (primary opcode 31) extended opcodes. Capstone 4 decodes lwarx,
// ldarx, stwcx. and stdcx. but not the byte, halfword and quadword forms of
// ISA 2.06/2.07, which are recognised by their encoding.
constexpr std::uint32_t kXFormMask = 0xfc0007feu;
bool is_load_reserve_form(std::uint32_t w) {
  for (std::uint32_t xo : {20u, 84u, 52u, 116u, 276u})  // lwarx ldarx lbarx lharx lqarx
    if ((w & kXFormMask) == (0x7c000000u | xo << 1)) return true;
  return false;
}
bool is_store_conditional_form(std::uint32_t w) {
  for (std::uint32_t xo : {150u, 214u, 694u, 726u, 182u})  // stwcx. stdcx. stbcx. sthcx. stqcx.
    if ((w & (kXFormMask | 1u)) == (0x7c000001u | xo << 1)) return true;
  return false;
}

enum class Kind { LoadReserve, StoreConditional, ConditionalBranch, OtherBranch, Other };

struct Decoded {
  Kind kind = Kind::Other;
  std::uint64_t target = 0;  // ConditionalBranch with a known target
};

Decoded decode(csh handle, std::span<const std::uint8_t> bytes, std::uint64_t address, Endian endian) {
  std::uint32_t w = word_of(bytes, endian);
  if (is_load_reserve_form(w)) return {Kind::LoadReserve};
  if (is_store_conditional_form(w)) return {Kind::StoreConditional};
  Decoded d;
  cs_insn* insn = nullptr;
  std::size_t n = handle ? cs_disasm(handle, bytes.data(), 4, address, 1, &insn) : 0;
  if (n == 0) return d;
  if (insn[0].id == PPC_INS_LWARX || insn[0].id == PPC_INS_LDARX) d.kind = Kind::LoadReserve;
  if (insn[0].id == PPC_INS_STWCX || insn[0].id == PPC_INS_STDCX) d.kind = Kind::StoreConditional;
  // Branches by their primary opcode: Capstone 4 puts bc and its aliases
  // (bne-, bdnz, …) in no group. 16: bc, whose target Capstone gives as the
  // immediate operand (with LK set it is a call, which leaves the sequence
  // for good); 18: b; 19: bclr, bcctr, bctar, whose targets are registers.
  std::uint32_t primary = w >> 26, extended = (w >> 1) & 0x3ff;
  bool link = (w & 1u) != 0;
  if (primary == 16 && !link) {
    const cs_ppc& ppc = insn[0].detail->ppc;
    d.kind = Kind::OtherBranch;
    for (unsigned i = 0; i < ppc.op_count; ++i)
      if (ppc.operands[i].type == PPC_OP_IMM) {
        d.kind = Kind::ConditionalBranch;
        d.target = static_cast<std::uint64_t>(ppc.operands[i].imm);
      }
  } else if (primary == 16 || primary == 18 || (primary == 19 && (extended == 16 || extended == 528 || extended == 560))) {
    d.kind = Kind::OtherBranch;
  }
  cs_free(insn, n);
  return d;
}

}  // namespace

bool is_syscall_instruction(std::span<const std::uint8_t> instruction, Endian endian) {
  if (instruction.size() < 4) return false;
  csh handle = handle_for(endian);
  if (handle) {
    cs_insn* insn = nullptr;
    std::size_t n = cs_disasm(handle, instruction.data(), 4, 0, 1, &insn);
    if (n > 0) {
      bool sc = insn[0].id == PPC_INS_SC;
      cs_free(insn, n);
      return sc;
    }
  }
  // Capstone 4 predates ISA 3.0's scv (primary opcode 17 with the low bits 01),
  // which it cannot decode; that form is recognised here.
  return (word_of(instruction, endian) & 0xfc000003u) == 0x44000001u;
}

std::optional<std::vector<std::uint64_t>> atomic_sequence_exits(std::uint64_t pc, std::span<const std::uint8_t> code,
                                                                Endian endian) {
  csh handle = handle_for(endian);
  if (code.size() < 4 || decode(handle, code.first(4), pc, endian).kind != Kind::LoadReserve) return std::nullopt;
  std::vector<std::uint64_t> branch_targets;
  for (unsigned i = 1; i < kAtomicSequenceLimit && 4 * (i + 1) <= code.size(); ++i) {
    std::uint64_t address = pc + 4 * i;
    Decoded d = decode(handle, code.subspan(4 * i, 4), address, endian);
    switch (d.kind) {
      case Kind::LoadReserve:
      case Kind::OtherBranch:
        return std::nullopt;
      case Kind::ConditionalBranch:
        branch_targets.push_back(d.target);
        break;
      case Kind::StoreConditional: {
        std::vector<std::uint64_t> exits{address + 4};
        // A branch that stays inside the sequence is part of it.
        for (std::uint64_t t : branch_targets)
          if ((t < pc || t > address) && std::find(exits.begin(), exits.end(), t) == exits.end()) exits.push_back(t);
        return exits;
      }
      case Kind::Other:
        break;
    }
  }
  return std::nullopt;
}

namespace {

// Where a direct branch (b, bc, with or without LK) goes, from Capstone.
std::optional<std::uint64_t> direct_branch_target(csh handle, std::span<const std::uint8_t> bytes, std::uint64_t address) {
  cs_insn* insn = nullptr;
  std::size_t n = handle ? cs_disasm(handle, bytes.data(), 4, address, 1, &insn) : 0;
  if (n == 0) return std::nullopt;
  std::optional<std::uint64_t> target;
  const cs_ppc& ppc = insn[0].detail->ppc;
  for (unsigned i = 0; i < ppc.op_count; ++i)
    if (ppc.operands[i].type == PPC_OP_IMM) target = static_cast<std::uint64_t>(ppc.operands[i].imm);
  cs_free(insn, n);
  return target;
}

// Primary opcode 19 also holds the condition-register logic (crxor before
// variadic calls, mcrf) and isync, which never move the pc; anything else
// there (bclr, bcctr, bctar, rfebb, …) is stepped.
bool moves_nothing_but_the_pc(std::uint32_t extended) {
  for (std::uint32_t xo : {0u, 33u, 129u, 150u, 193u, 225u, 257u, 289u, 417u, 449u})
    if (extended == xo) return true;
  return false;
}

}  // namespace

std::optional<RangeStepPlan> plan_range_step(std::uint64_t start, std::span<const std::uint8_t> code, Endian endian) {
  if (code.empty() || code.size() % 4 != 0 || start % 4 != 0) return std::nullopt;
  csh handle = handle_for(endian);
  std::uint64_t end = start + code.size();
  RangeStepPlan plan;
  // The branch unit's instructions are known by their primary opcode alone,
  // also the ones Capstone 4 cannot decode (scv, ISA 3.1's prefixed forms).
  for (std::size_t offset = 0; offset < code.size(); offset += 4) {
    std::uint64_t at = start + offset;
    std::span<const std::uint8_t> bytes = code.subspan(offset, 4);
    std::uint32_t w = word_of(bytes, endian);
    std::uint32_t primary = w >> 26, extended = (w >> 1) & 0x3ff;
    if (primary == 1) {  // an ISA 3.1 prefix: its suffix is the next word, never a branch
      offset += 4;
      if (offset >= code.size()) return std::nullopt;
      continue;
    }
    if (is_trap(w) || primary == 17 || (primary == 19 && !moves_nothing_but_the_pc(extended))) {
      plan.step_points.push_back(at);
    } else if (primary == 16 || primary == 18) {
      auto target = direct_branch_target(handle, bytes, at);
      if (!target) return std::nullopt;
      // A call into the range stays in it, as its single-steps would.
      if (*target < start || *target >= end) plan.exits.push_back(*target);
    }
  }
  plan.exits.push_back(end);  // the fall-through off its last instruction
  std::sort(plan.exits.begin(), plan.exits.end());
  plan.exits.erase(std::unique(plan.exits.begin(), plan.exits.end()), plan.exits.end());
  return plan;
}

namespace {

void put_word(std::vector<std::uint8_t>& out, std::uint32_t w, Endian endian) {
  for (unsigned i = 0; i < 4; ++i)
    out.push_back(static_cast<std::uint8_t>(w >> (endian == Endian::Little ? 8 * i : 8 * (3 - i))));
}

bool runs_the_same_anywhere(csh handle, std::span<const std::uint8_t> bytes, std::uint64_t address, Endian endian) {
  std::uint32_t w = word_of(bytes, endian);
  std::uint32_t primary = w >> 26;
  bool branch_unit = primary == 16 || primary == 17 || primary == 18 || primary == 19;
  if (primary == 1 || branch_unit || is_trap(w) || is_load_reserve_form(w) || is_store_conditional_form(w)) return false;
  cs_insn* insn = nullptr;
  std::size_t n = handle ? cs_disasm(handle, bytes.data(), 4, address, 1, &insn) : 0;
  if (n == 0) return false;
  cs_free(insn, n);
  return true;
}

}  // namespace

std::optional<OutOfLineCopy> out_of_line_copy(std::uint64_t from, std::span<const std::uint8_t> code,
                                              std::uint64_t to, Endian endian) {
  if (code.size() < 4 || !runs_the_same_anywhere(handle_for(endian), code.first(4), from, endian))
    return std::nullopt;
  // `b` (primary opcode 18, AA = LK = 0): a signed 26-bit byte offset.
  constexpr std::int64_t kReach = std::int64_t{1} << 25;
  std::int64_t back = static_cast<std::int64_t>(from + 4) - static_cast<std::int64_t>(to + 4);
  if (back < -kReach || back >= kReach) return std::nullopt;
  OutOfLineCopy copy;
  copy.bytes.assign(code.begin(), code.begin() + 4);
  put_word(copy.bytes, 0x48000000u | (static_cast<std::uint32_t>(back) & 0x03fffffcu), endian);
  copy.length = 4;
  return copy;
}

}  // namespace arch::ppc64
