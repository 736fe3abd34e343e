#pragma once
#include "arch/arch.hpp"

namespace arch {

// Only the core, FPU and Linux registers for now; the ppc64 issue adds
// Altivec/VSX, the syscall-entry rules and the single-step quirks.
class Ppc64Arch final : public Arch {
 public:
  explicit Ppc64Arch(Endian endian) : endian_(endian) {}
  std::string_view name() const override { return "ppc64"; }
  std::string_view gdb_architecture() const override { return "powerpc:common64"; }
  Endian endian() const override { return endian_; }
  std::span<const FeatureInfo> features() const override;
  std::span<const RegisterInfo> registers() const override;
  std::span<const RegsetInfo> regsets() const override;
  std::span<const std::uint8_t> breakpoint_instruction() const override;
  // The trap leaves nip at the trap instruction itself.
  std::uint64_t breakpoint_address_from_trap_pc(std::uint64_t pc) const override { return pc; }
  bool optional_feature_present(std::string_view, const RegsetReader&) const override { return false; }
  void syscall_result_written(std::int64_t value, RegisterAccess& regs) const override;

  // trap at a syscall stop (low bits are flags): which instruction made the call.
  static constexpr std::uint64_t kTrapSc = 0xc00, kTrapScv = 0x3000;
  static constexpr std::uint64_t kCr0SummaryOverflow = 0x10000000;  // CR0.SO: `sc` failed

  static constexpr unsigned kGeneralRegset = 0;  // NT_PRSTATUS: struct pt_regs
  static constexpr unsigned kFloatRegset = 1;    // NT_PRFPREG: 32 doubles + fpscr

 private:
  Endian endian_;
};

}  // namespace arch
