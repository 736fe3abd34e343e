#include "arch/x86_64/instructions.hpp"

#include <capstone/capstone.h>

#include <algorithm>

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

}  // namespace arch::x86_64
