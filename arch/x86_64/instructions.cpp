#include "arch/x86_64/instructions.hpp"

#include <capstone/capstone.h>

#include <algorithm>
#include <cstdint>

namespace arch::x86_64 {

namespace {

csh handle() {
  static csh h = [] {
    csh opened = 0;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &opened) != CS_ERR_OK) return csh{0};
    cs_option(opened, CS_OPT_DETAIL, CS_OPT_ON);
    return opened;
  }();
  return h;
}

bool in_group(const cs_insn& insn, unsigned group) {
  const cs_detail* d = insn.detail;
  return std::find(d->groups, d->groups + d->groups_count, group) != d->groups + d->groups_count;
}

// Instructions after which the next pc is the kernel's (or the CPU's) to say,
// or which would trap anyway: stepped one at a time, as gdbserver steps all.
bool must_single_step(const cs_insn& insn) {
  switch (insn.id) {
    case X86_INS_SYSCALL:
    case X86_INS_SYSENTER:
    case X86_INS_INT:
    case X86_INS_INT1:
    case X86_INS_INT3:
    case X86_INS_INTO:
    case X86_INS_UD2:
    case X86_INS_HLT:
    case X86_INS_XBEGIN:  // aborts to its fallback address: a branch of sorts
      return true;
    default:
      return in_group(insn, CS_GRP_INT) || in_group(insn, CS_GRP_IRET) || in_group(insn, CS_GRP_PRIVILEGE) ||
             in_group(insn, CS_GRP_RET);
  }
}

}  // namespace

std::optional<RangeStepPlan> plan_range_step(std::uint64_t start, std::span<const std::uint8_t> code) {
  csh h = handle();
  if (!h || code.empty()) return std::nullopt;
  std::uint64_t end = start + code.size();
  auto inside = [&](std::uint64_t a) { return a >= start && a < end; };
  RangeStepPlan plan;
  cs_insn* insn = cs_malloc(h);
  const std::uint8_t* bytes = code.data();
  std::size_t size = code.size();
  std::uint64_t address = start;
  bool ok = true;
  while (size > 0) {
    std::uint64_t at = address;
    if (!cs_disasm_iter(h, &bytes, &size, &address, insn)) {
      ok = false;  // undecodable, or an instruction cut off by the range's end
      break;
    }
    bool jump = in_group(*insn, CS_GRP_JUMP);
    bool call = in_group(*insn, CS_GRP_CALL);
    if (must_single_step(*insn)) {
      plan.step_points.push_back(at);
    } else if (jump || call) {
      const cs_x86& x86 = insn->detail->x86;
      if (x86.op_count == 1 && x86.operands[0].type == X86_OP_IMM) {
        auto target = static_cast<std::uint64_t>(x86.operands[0].imm);
        // A call into the range stays in it, as its single-steps would.
        if (!inside(target)) plan.exits.push_back(target);
      } else {
        plan.step_points.push_back(at);  // through a register or memory
      }
    }
  }
  cs_free(insn, 1);
  if (!ok) return std::nullopt;
  plan.exits.push_back(end);  // the fall-through off its last instruction
  std::sort(plan.exits.begin(), plan.exits.end());
  plan.exits.erase(std::unique(plan.exits.begin(), plan.exits.end()), plan.exits.end());
  return plan;
}

namespace {

bool fits_in_32_bits(std::int64_t value) { return value >= INT32_MIN && value <= INT32_MAX; }

void append_little_endian(std::vector<std::uint8_t>& out, std::uint64_t value, unsigned bytes) {
  for (unsigned i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

}  // namespace

std::optional<OutOfLineCopy> out_of_line_copy(std::uint64_t from, std::span<const std::uint8_t> code, std::uint64_t to) {
  csh h = handle();
  if (!h || code.empty()) return std::nullopt;
  cs_insn* insn = cs_malloc(h);
  const std::uint8_t* bytes = code.data();
  std::size_t size = code.size();
  std::uint64_t address = from;
  std::optional<OutOfLineCopy> copy;
  // Anything that moves the pc itself would go on from the copy, not the original.
  if (cs_disasm_iter(h, &bytes, &size, &address, insn) && !must_single_step(*insn) &&
      !in_group(*insn, CS_GRP_JUMP) && !in_group(*insn, CS_GRP_CALL) && !in_group(*insn, CS_GRP_BRANCH_RELATIVE)) {
    copy = OutOfLineCopy{{insn->bytes, insn->bytes + insn->size}, insn->size};
    const cs_x86& x86 = insn->detail->x86;
    for (unsigned i = 0; i < x86.op_count && copy; ++i) {
      const cs_x86_op& op = x86.operands[i];
      if (op.type != X86_OP_MEM || op.mem.base != X86_REG_RIP) continue;
      // rip-relative: the same target, from the copy's address.
      std::int64_t moved = op.mem.disp + static_cast<std::int64_t>(from - to);
      if (x86.encoding.disp_size != 4 || !fits_in_32_bits(moved) || x86.encoding.disp_offset + 4u > insn->size) {
        copy.reset();
        break;
      }
      for (unsigned b = 0; b < 4; ++b)
        copy->bytes[x86.encoding.disp_offset + b] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(moved) >> (8 * b));
    }
  }
  cs_free(insn, 1);
  if (!copy) return std::nullopt;
  std::uint64_t back = from + copy->length;
  auto relative = static_cast<std::int64_t>(back - (to + copy->length + 5));
  if (fits_in_32_bits(relative)) {
    copy->bytes.push_back(0xe9);  // jmp rel32
    append_little_endian(copy->bytes, static_cast<std::uint64_t>(relative), 4);
  } else {
    for (std::uint8_t b : {0xff, 0x25, 0, 0, 0, 0}) copy->bytes.push_back(b);  // jmp *0(%rip)
    append_little_endian(copy->bytes, back, 8);
  }
  return copy;
}

}  // namespace arch::x86_64
