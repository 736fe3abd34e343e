#include "arch/ppc64/instructions.hpp"

#include <capstone/capstone.h>

namespace arch::ppc64 {

namespace {

std::uint32_t word_of(std::span<const std::uint8_t> bytes, Endian endian) {
  std::uint32_t w = 0;
  for (unsigned i = 0; i < 4; ++i)
    w |= static_cast<std::uint32_t>(bytes[i]) << (endian == Endian::Little ? 8 * i : 8 * (3 - i));
  return w;
}

// One Capstone handle per byte order, opened once.
csh handle_for(Endian endian) {
  static csh handles[2] = {0, 0};
  static bool opened[2] = {false, false};
  unsigned i = endian == Endian::Little ? 0 : 1;
  if (!opened[i]) {
    auto mode = static_cast<cs_mode>(CS_MODE_64 | (endian == Endian::Little ? CS_MODE_LITTLE_ENDIAN : CS_MODE_BIG_ENDIAN));
    if (cs_open(CS_ARCH_PPC, mode, &handles[i]) != CS_ERR_OK) handles[i] = 0;
    opened[i] = true;
  }
  return handles[i];
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

}  // namespace arch::ppc64
