#pragma once
#include "arch/arch.hpp"
#include "arch/x86_64/debug_registers.hpp"

namespace arch {

class X86_64Arch final : public Arch {
 public:
  std::string_view name() const override { return "x86_64"; }
  std::string_view gdb_architecture() const override { return "i386:x86-64"; }
  Endian endian() const override { return Endian::Little; }
  std::span<const FeatureInfo> features() const override;
  std::span<const RegisterInfo> registers() const override;
  std::span<const RegsetInfo> regsets() const override;
  std::span<const std::uint8_t> breakpoint_instruction() const override;
  std::uint64_t breakpoint_address_from_trap_pc(std::uint64_t pc) const override { return pc - 1; }
  std::optional<RangeStepPlan> plan_range_step(std::uint64_t start, std::span<const std::uint8_t> code) const override;
  std::optional<OutOfLineCopy> out_of_line_copy(std::uint64_t from, std::span<const std::uint8_t> code,
                                                std::uint64_t to) const override;
  std::span<const std::uint8_t> syscall_instruction() const override;
  std::optional<std::uint64_t> syscall_succeeded(RegisterAccess& regs) const override;
  void prepare_anonymous_mapping(RegisterAccess& regs, std::uint64_t at, std::uint64_t hint,
                                 std::uint64_t length) const override;
  bool optional_feature_present(std::string_view feature, const RegsetReader& read,
                                const std::optional<HardwareCaps>& caps) const override;
  void decode_special(const RegisterInfo& reg, std::span<const std::uint8_t> image,
                      std::span<std::uint8_t> value) const override;
  void encode_special(const RegisterInfo& reg, std::span<const std::uint8_t> value,
                      std::span<std::uint8_t> image) const override;
  void prepare_regset_for_write(unsigned regset, std::span<std::uint8_t> image) const override;
  std::unique_ptr<HardwareDebug> make_hardware_debug() const override;
  std::optional<std::uint64_t> dtv_pointer_address(RegisterAccess& regs) const override;

  static constexpr unsigned kGeneralRegset = 0;  // NT_PRSTATUS: struct user_regs_struct
  static constexpr unsigned kFloatRegset = 1;    // NT_X86_XSTATE, else NT_PRFPREG (FXSAVE)
};

}  // namespace arch
