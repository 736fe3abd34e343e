#pragma once
#include <vector>

#include "arch/arch.hpp"

namespace arch {

// powerpc64 Linux: core, FPU and Linux registers always; Altivec and VSX
// where the kernel has their regsets. Registers move a regset at a time
// (PTRACE_GETREGSET), never one PEEKUSER per register.
class Ppc64Arch final : public Arch {
 public:
  explicit Ppc64Arch(Endian endian);
  std::string_view name() const override { return "ppc64"; }
  std::string_view gdb_architecture() const override { return "powerpc:common64"; }
  Endian endian() const override { return endian_; }
  std::span<const FeatureInfo> features() const override;
  std::span<const RegisterInfo> registers() const override;
  std::span<const RegsetInfo> regsets() const override;
  std::span<const std::uint8_t> breakpoint_instruction() const override;
  // The trap leaves nip at the trap instruction itself.
  std::uint64_t breakpoint_address_from_trap_pc(std::uint64_t pc) const override { return pc; }
  bool optional_feature_present(std::string_view feature, const RegsetReader& read,
                                const std::optional<HardwareCaps>& caps) const override;
  void syscall_result_written(std::int64_t value, RegisterAccess& regs) const override;
  bool single_step_overshoots(std::span<const std::uint8_t> instruction) const override;
  std::optional<std::vector<std::uint64_t>> atomic_sequence_exits(std::uint64_t pc,
                                                                  std::span<const std::uint8_t> code) const override;
  unsigned atomic_sequence_bytes() const override;
  std::optional<RangeStepPlan> plan_range_step(std::uint64_t start, std::span<const std::uint8_t> code) const override;
  bool has_overshooting_steps() const override { return true; }
  std::unique_ptr<HardwareDebug> make_hardware_debug() const override;
  std::optional<std::uint64_t> dtv_pointer_address(RegisterAccess& regs) const override;
  // Out of line: a copy goes back with `b`, which reaches 32 MiB either way.
  std::optional<OutOfLineCopy> out_of_line_copy(std::uint64_t from, std::span<const std::uint8_t> code,
                                                std::uint64_t to) const override;
  std::uint64_t out_of_line_reach() const override { return 1ull << 25; }
  std::span<const std::uint8_t> syscall_instruction() const override;
  unsigned instruction_alignment() const override { return 4; }
  std::optional<std::uint64_t> syscall_succeeded(RegisterAccess& regs) const override;
  void prepare_anonymous_mapping(RegisterAccess& regs, std::uint64_t at, std::uint64_t hint,
                                 std::uint64_t length) const override;

  // trap at a syscall stop (low bits are flags): which instruction made the call.
  static constexpr std::uint64_t kTrapSc = 0xc00, kTrapScv = 0x3000;
  static constexpr std::uint64_t kCr0SummaryOverflow = 0x10000000;  // CR0.SO: `sc` failed

  static constexpr unsigned kGeneralRegset = 0;  // NT_PRSTATUS: struct pt_regs
  static constexpr unsigned kFloatRegset = 1;    // NT_PRFPREG: 32 doubles + fpscr
  static constexpr unsigned kAltivecRegset = 2;  // NT_PPC_VMX: vr0–vr31, vscr, vrsave
  static constexpr unsigned kVsxRegset = 3;      // NT_PPC_VSX: vs0h–vs31h

 private:
  Endian endian_;
  std::vector<RegisterInfo> table_;
};

}  // namespace arch
