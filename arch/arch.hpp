#pragma once
// The architecture interface. An architecture is data first — its register
// table — plus a few hooks for what data cannot say. target.xml, the 'g'
// layout and expedited registers are derived from the table (register_layout).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "arch/hardware_debug.hpp"

namespace arch {

class HardwareDebug;

// SyscallNumber: where the kernel keeps the number of the syscall a thread is
// in at a syscall-stop (x86 orig_rax, powerpc r0). SyscallRestart: what the
// kernel reads to decide whether to restart an interrupted syscall by moving
// the pc back (powerpc trap); whenever the pc is moved it must say "no" (-1).
// SyscallResult: where a syscall's result is at its exit stop (x86 rax,
// powerpc r3). None of these three is expedited.
enum class RegisterRole {
  None, ProgramCounter, StackPointer, FramePointer, SyscallNumber, SyscallRestart, SyscallResult
};

// How a register's bytes sit in its regset when they are not a plain copy.
enum class FieldEncoding {
  Plain,            // min(field, register) bytes copied, the rest zero
  X87AbridgedTag,   // FXSAVE's 8-bit tag expanded to the 16-bit x87 tag word
};

struct RegisterInfo {
  std::string_view name;
  unsigned bits;
  std::string_view feature;
  std::string_view type;
  std::string_view group;  // empty: gdb decides from the type
  unsigned regset;         // index into Arch::regsets()
  unsigned offset;         // bytes into the regset image
  unsigned field_bytes;    // bytes the field takes in the regset (0 = bits / 8)
  int dwarf = -1;
  RegisterRole role = RegisterRole::None;
  FieldEncoding encoding = FieldEncoding::Plain;

  unsigned bytes() const { return (bits + 7) / 8; }
  unsigned regset_bytes() const { return field_bytes ? field_bytes : bytes(); }
};

struct FeatureInfo {
  std::string_view name;
  std::string_view type_definitions;  // XML for the types the feature's registers use
  bool optional;                      // present only when the process has it
};

struct RegsetInfo {
  std::string_view name;
  unsigned note_type;           // NT_* for PTRACE_GETREGSET
  unsigned fallback_note_type;  // tried when note_type is refused (0: none)
  std::size_t max_size;         // buffer offered to the kernel
};

enum class Endian { Little, Big };

// What the kernel says the CPU has (AT_HWCAP, AT_HWCAP2 of the process).
struct HardwareCaps {
  std::uint64_t hwcap = 0;
  std::uint64_t hwcap2 = 0;
};

// Reads one regset image of the stopped thread; nullopt when the kernel refuses it.
using RegsetReader = std::function<std::optional<std::vector<std::uint8_t>>(unsigned regset)>;

// A stopped thread's registers, by their names in the register table.
class RegisterAccess {
 public:
  virtual ~RegisterAccess() = default;
  virtual std::optional<std::uint64_t> get(std::string_view name) = 0;
  virtual void set(std::string_view name, std::uint64_t value) = 0;
};

// How a range step (vCont;r) over [start, end) can run the thread instead of
// single-stepping each instruction: with breakpoints at `exits` (where each way
// out of the range first lands: branch and call targets outside it, and `end`)
// and at `step_points` (instructions in it whose next pc is not known in
// advance — returns, indirect jumps and calls, syscalls — single-stepped when
// reached). The thread then stops exactly where single-steps would have left
// the range.
struct RangeStepPlan {
  std::vector<std::uint64_t> exits;
  std::vector<std::uint64_t> step_points;
};

// An instruction made to run at another address: `bytes` are the instruction,
// with any pc-relative operand made to reach what it reached before, then a
// jump to the instruction after the original. `length`: the instruction's own.
struct OutOfLineCopy {
  std::vector<std::uint8_t> bytes;
  unsigned length = 0;
};

class Arch {
 public:
  virtual ~Arch() = default;
  virtual std::string_view name() const = 0;              // as ustub calls it: "x86_64"
  virtual std::string_view gdb_architecture() const = 0;  // <architecture> in target.xml
  virtual Endian endian() const = 0;
  virtual std::span<const FeatureInfo> features() const = 0;
  virtual std::span<const RegisterInfo> registers() const = 0;
  virtual std::span<const RegsetInfo> regsets() const = 0;

  virtual std::span<const std::uint8_t> breakpoint_instruction() const = 0;
  // The address of the breakpoint a trap came from, given the pc after the trap
  // (x86 reports one past int3; ppc64 reports the trap instruction itself).
  virtual std::uint64_t breakpoint_address_from_trap_pc(std::uint64_t pc) const = 0;

  // Which optional features this process has, judged from its regsets and,
  // where known, the CPU's capabilities.
  virtual bool optional_feature_present(std::string_view feature, const RegsetReader& read,
                                        const std::optional<HardwareCaps>& caps) const = 0;

  // Field conversions for encodings other than Plain; `image` is the regset.
  virtual void decode_special(const RegisterInfo& reg, std::span<const std::uint8_t> image,
                              std::span<std::uint8_t> value) const;
  virtual void encode_special(const RegisterInfo& reg, std::span<const std::uint8_t> value,
                              std::span<std::uint8_t> image) const;
  // Last chance to fix up a regset image before it is written back
  // (x86: mark the XSAVE components we wrote as in use).
  virtual void prepare_regset_for_write(unsigned regset, std::span<std::uint8_t> image) const;

  // A single-step of this instruction (the bytes at the pc) would not stop
  // right after it: powerpc's sc/scv stop one instruction late. Such a step
  // is made by running to the syscall's exit stop instead.
  virtual bool single_step_overshoots(std::span<const std::uint8_t>) const { return false; }
  // Whether single_step_overshoots can ever say yes (it costs a memory read per step).
  virtual bool has_overshooting_steps() const { return false; }

  // A single-step of the instruction at `pc` would never get past it: the
  // load-reserve of an atomic sequence (powerpc's larx … stcx.), whose
  // reservation each step's trap drops. The step is made by running the
  // thread to these addresses instead. `code` holds atomic_sequence_bytes()
  // bytes from pc on (fewer at the end of readable memory).
  virtual std::optional<std::vector<std::uint64_t>> atomic_sequence_exits(std::uint64_t /*pc*/,
                                                                          std::span<const std::uint8_t> /*code*/) const {
    return std::nullopt;
  }
  // How many bytes atomic_sequence_exits looks at; 0: no such sequences.
  virtual unsigned atomic_sequence_bytes() const { return 0; }

  // `code` holds the range's bytes (without breakpoints). nullopt: the range
  // cannot be planned (undecodable, or an architecture without a decoder
  // here); the caller single-steps through it, as gdbserver does.
  virtual std::optional<RangeStepPlan> plan_range_step(std::uint64_t /*start*/,
                                                       std::span<const std::uint8_t> /*code*/) const {
    return std::nullopt;
  }
  static constexpr unsigned kLongestInstruction = 16;
  // The longest range plan_range_step is given; longer ones are single-stepped.
  static constexpr std::uint64_t kMaxPlannedRange = 0x10000;

  // gdb wrote `value` into the SyscallResult register at a syscall's exit
  // stop: make the program see that value as the syscall's result where the
  // kernel's convention is more than "the register holds it" (powerpc `sc`
  // reports an error as +errno with CR0.SO set). As on x86, -1 … -4095 is an
  // error (-errno) and anything else a success.
  virtual void syscall_result_written(std::int64_t, RegisterAccess&) const {}

  // Where a stopped thread's pointer to its dtv (the vector of its TLS blocks,
  // one per module) is, from its thread pointer and the platform's TLS ABI;
  // nullopt where ustub does not know it.
  virtual std::optional<std::uint64_t> dtv_pointer_address(RegisterAccess&) const { return std::nullopt; }

  // The instruction at `from` (`code`: up to kLongestInstruction bytes from
  // it) as it runs at `to` and goes back; nullopt when it cannot run anywhere
  // else (it branches, calls, returns, traps or enters the kernel, or its
  // pc-relative operand would be out of reach).
  virtual std::optional<OutOfLineCopy> out_of_line_copy(std::uint64_t /*from*/, std::span<const std::uint8_t> /*code*/,
                                                        std::uint64_t /*to*/) const {
    return std::nullopt;
  }
  // How far a copy's jump back reaches either way: where the copies may go.
  virtual std::uint64_t out_of_line_reach() const { return 1ull << 31; }
  // The syscall instruction; empty where ustub makes no syscalls in a thread.
  virtual std::span<const std::uint8_t> syscall_instruction() const { return {}; }
  // What an instruction's address must be a multiple of.
  virtual unsigned instruction_alignment() const { return 1; }
  // At the end of a syscall ustub made: its result, or nullopt if it failed.
  virtual std::optional<std::uint64_t> syscall_succeeded(RegisterAccess&) const { return std::nullopt; }
  // Registers that make the syscall instruction at `at` map `length` bytes
  // of fresh readable, executable memory, near `hint` if it is free (mmap);
  // the address, or -errno, is then in the SyscallResult register.
  virtual void prepare_anonymous_mapping(RegisterAccess&, std::uint64_t /*at*/, std::uint64_t /*hint*/,
                                         std::uint64_t /*length*/) const {}

  // Hardware break/watchpoint slots for one process; nullptr where ustub has
  // none for this architecture (gdb then uses software watchpoints).
  virtual std::unique_ptr<HardwareDebug> make_hardware_debug() const { return nullptr; }
};

// The architecture ustub itself was built for.
const Arch& native_arch();
const Arch& arch_by_name(std::string_view name);  // "x86_64", "ppc64"; throws on unknown

}  // namespace arch
