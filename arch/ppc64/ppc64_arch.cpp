#include "arch/ppc64/ppc64_arch.hpp"

#include <map>
#include <string>
#include <vector>

#include "arch/ppc64/hw_debug.hpp"
#include "arch/ppc64/instructions.hpp"

namespace arch {
namespace {

constexpr std::string_view kCore = "org.gnu.gdb.power.core";
constexpr std::string_view kFpu = "org.gnu.gdb.power.fpu";
constexpr std::string_view kAltivec = "org.gnu.gdb.power.altivec";
constexpr std::string_view kVsx = "org.gnu.gdb.power.vsx";
constexpr std::string_view kLinux = "org.gnu.gdb.power.linux";

constexpr std::string_view kAltivecTypes = R"(<vector id="v4f" type="ieee_single" count="4"/>
<vector id="v4i32" type="int32" count="4"/>
<vector id="v8i16" type="int16" count="8"/>
<vector id="v16i8" type="int8" count="16"/>
<union id="vec128">
<field name="uint128" type="uint128"/><field name="v4_float" type="v4f"/>
<field name="v4_int32" type="v4i32"/><field name="v8_int16" type="v8i16"/>
<field name="v16_int8" type="v16i8"/>
</union>
)";

// Altivec and VSX are there when the kernel hands out their regsets (a
// POWER7 or later has both; QEMU's and the kernel's configuration decide).
constexpr FeatureInfo kFeatures[] = {{kCore, "", false},
                                     {kFpu, "", false},
                                     {kLinux, "", false},
                                     {kAltivec, kAltivecTypes, true},
                                     {kVsx, "", true}};
constexpr RegsetInfo kRegsets[] = {
    {"general", 1 /* NT_PRSTATUS */, 0, 48 * 8},
    {"float", 2 /* NT_PRFPREG */, 0, 33 * 8},
    {"altivec", 0x100 /* NT_PPC_VMX */, 0, 34 * 16},
    {"vsx", 0x102 /* NT_PPC_VSX */, 0, 32 * 8},
};

using R = RegisterRole;
constexpr unsigned G = Ppc64Arch::kGeneralRegset, F = Ppc64Arch::kFloatRegset, V = Ppc64Arch::kAltivecRegset,
                   X = Ppc64Arch::kVsxRegset;
// pt_regs slots (PT_NIP = 32 … PT_TRAP = 40), eight bytes each.
constexpr unsigned slot(unsigned index) { return index * 8; }

// "r0" … "r31" (or "vs0h" … with a suffix), kept for the program's life: the
// table holds views of them.
const std::vector<std::string>& numbered(std::string_view prefix, std::string_view suffix = "") {
  static std::map<std::string, std::vector<std::string>> made;
  auto& names = made[std::string(prefix) + "/" + std::string(suffix)];
  if (names.empty())
    for (unsigned i = 0; i < 32; ++i) names.push_back(std::string(prefix) + std::to_string(i) + std::string(suffix));
  return names;
}

std::vector<RegisterInfo> make_table(Endian endian) {
  const auto& gpr = numbered("r");
  const auto& fpr = numbered("f");
  const auto& vr = numbered("vr");
  const auto& vsh = numbered("vs", "h");
  std::vector<RegisterInfo> t;
  for (unsigned i = 0; i < 32; ++i)
    t.push_back({gpr[i], 64, kCore, "uint64", "", G, slot(i), 0, static_cast<int>(i),
                 i == 1   ? R::StackPointer
                 : i == 0 ? R::SyscallNumber
                 : i == 3 ? R::SyscallResult
                          : R::None});
  t.push_back({"pc", 64, kCore, "code_ptr", "", G, slot(32), 0, -1, R::ProgramCounter});
  t.push_back({"msr", 64, kCore, "uint64", "", G, slot(33), 0, 66});
  // 32-bit registers in 64-bit slots: the value is the slot's low half.
  unsigned low_half = endian == Endian::Little ? 0 : 4;
  t.push_back({"cr", 32, kCore, "uint32", "", G, slot(38) + low_half, 4, 64});
  t.push_back({"lr", 64, kCore, "code_ptr", "", G, slot(36), 0, 65});
  t.push_back({"ctr", 64, kCore, "uint64", "", G, slot(35), 0, 66});
  t.push_back({"xer", 32, kCore, "uint32", "", G, slot(37) + low_half, 4, 76});
  for (unsigned i = 0; i < 32; ++i)
    t.push_back({fpr[i], 64, kFpu, "ieee_double", "", F, slot(i), 0, static_cast<int>(32 + i)});
  t.push_back({"fpscr", 64, kFpu, "int", "float", F, slot(32), 0});
  t.push_back({"orig_r3", 64, kLinux, "int", "", G, slot(34), 0});
  t.push_back({"trap", 64, kLinux, "int", "", G, slot(40), 0, -1, R::SyscallRestart});
  // NT_PPC_VMX: vr0–vr31, then a quadword holding vscr in its low-order word
  // (the first four bytes little-endian, the last four big-endian), then vrsave.
  for (unsigned i = 0; i < 32; ++i)
    t.push_back({vr[i], 128, kAltivec, "vec128", "", V, 16 * i, 0, static_cast<int>(77 + i)});
  t.push_back({"vscr", 32, kAltivec, "int", "vector", V, 16 * 32 + (endian == Endian::Little ? 0u : 12u), 0});
  t.push_back({"vrsave", 32, kAltivec, "int", "vector", V, 16 * 33, 0});
  // NT_PPC_VSX: the doublewords of vs0–vs31 that the FPRs do not hold.
  for (unsigned i = 0; i < 32; ++i) t.push_back({vsh[i], 64, kVsx, "uint64", "", X, 8 * i, 0});
  return t;
}

}  // namespace

std::span<const FeatureInfo> Ppc64Arch::features() const { return kFeatures; }

Ppc64Arch::Ppc64Arch(Endian endian) : endian_(endian), table_(make_table(endian)) {}

std::span<const RegisterInfo> Ppc64Arch::registers() const { return table_; }

// AT_HWCAP says whether the CPU has the unit; the regset, whether the kernel
// gives it out. Both must agree (no AT_HWCAP known: the regset decides).
bool Ppc64Arch::optional_feature_present(std::string_view feature, const RegsetReader& read,
                                         const std::optional<HardwareCaps>& caps) const {
  constexpr std::uint64_t kHasAltivec = 0x10000000, kHasVsx = 0x00000080;  // PPC_FEATURE_HAS_*
  bool altivec = read(kAltivecRegset).has_value() && (!caps || (caps->hwcap & kHasAltivec));
  if (feature == kAltivec) return altivec;
  // gdb builds vs0–vs63 from the FPRs, vs0h–vs31h and the vector registers.
  if (feature == kVsx) return altivec && read(kVsxRegset).has_value() && (!caps || (caps->hwcap & kHasVsx));
  return false;
}

std::span<const RegsetInfo> Ppc64Arch::regsets() const { return kRegsets; }

std::unique_ptr<HardwareDebug> Ppc64Arch::make_hardware_debug() const {
  return std::make_unique<Ppc64HardwareDebug>();
}

// Power TLS ABI: r13 points 0x7000 past the end of the TCB, and glibc's
// tcbhead_t ends with the dtv pointer (THREAD_DTV in its powerpc tls.h).
std::optional<std::uint64_t> Ppc64Arch::dtv_pointer_address(RegisterAccess& regs) const {
  auto r13 = regs.get("r13");
  if (!r13 || *r13 < 0x7008) return std::nullopt;
  return *r13 - 0x7008;
}

std::optional<std::vector<std::uint64_t>> Ppc64Arch::atomic_sequence_exits(std::uint64_t pc,
                                                                           std::span<const std::uint8_t> code) const {
  return ppc64::atomic_sequence_exits(pc, code, endian_);
}

unsigned Ppc64Arch::atomic_sequence_bytes() const { return 4 * ppc64::kAtomicSequenceLimit; }

std::optional<RangeStepPlan> Ppc64Arch::plan_range_step(std::uint64_t start, std::span<const std::uint8_t> code) const {
  return ppc64::plan_range_step(start, code, endian_);
}

bool Ppc64Arch::single_step_overshoots(std::span<const std::uint8_t> instruction) const {
  return ppc64::is_syscall_instruction(instruction, endian_);
}

void Ppc64Arch::syscall_result_written(std::int64_t value, RegisterAccess& regs) const {
  auto trap = regs.get("trap");
  auto cr = regs.get("cr");
  // scv returns -errno in r3 like x86: what gdb wrote is what the program sees.
  if (!trap || !cr || (*trap & ~std::uint64_t{0xf}) != kTrapSc) return;
  bool error = value < 0 && value >= -4095;
  if (error) regs.set("r3", static_cast<std::uint64_t>(-value));
  regs.set("cr", error ? (*cr | kCr0SummaryOverflow) : (*cr & ~kCr0SummaryOverflow));
}

std::optional<OutOfLineCopy> Ppc64Arch::out_of_line_copy(std::uint64_t from, std::span<const std::uint8_t> code,
                                                         std::uint64_t to) const {
  return ppc64::out_of_line_copy(from, code, to, endian_);
}

std::span<const std::uint8_t> Ppc64Arch::syscall_instruction() const {
  // "sc" (0x44000002): its errors come back as +errno with CR0.SO set.
  static constexpr std::uint8_t little[] = {0x02, 0x00, 0x00, 0x44};
  static constexpr std::uint8_t big[] = {0x44, 0x00, 0x00, 0x02};
  return endian_ == Endian::Little ? std::span<const std::uint8_t>(little) : std::span<const std::uint8_t>(big);
}

// `sc` fails with CR0.SO set and +errno in r3; `scv` with -errno in r3.
std::optional<std::uint64_t> Ppc64Arch::syscall_succeeded(RegisterAccess& regs) const {
  auto r3 = regs.get("r3"), trap = regs.get("trap"), cr = regs.get("cr");
  if (!r3 || !trap || !cr) return std::nullopt;
  if ((*trap & ~std::uint64_t{0xf}) == kTrapScv) {
    if (*r3 >= static_cast<std::uint64_t>(-4095)) return std::nullopt;
    return r3;
  }
  if (*cr & kCr0SummaryOverflow) return std::nullopt;
  return r3;
}

// The kernel's powerpc convention: the number in r0, arguments in r3 … r8.
void Ppc64Arch::prepare_anonymous_mapping(RegisterAccess& regs, std::uint64_t at, std::uint64_t hint,
                                          std::uint64_t length) const {
  constexpr std::uint64_t kMmap = 90, kProtReadExec = 0x1 | 0x4, kMapPrivateAnonymous = 0x02 | 0x20;
  const std::uint64_t arguments[] = {hint, length, kProtReadExec, kMapPrivateAnonymous, static_cast<std::uint64_t>(-1), 0};
  static constexpr std::string_view kArgumentRegisters[] = {"r3", "r4", "r5", "r6", "r7", "r8"};
  regs.set("pc", at);
  regs.set("r0", kMmap);
  for (std::size_t i = 0; i < std::size(arguments); ++i) regs.set(kArgumentRegisters[i], arguments[i]);
}

std::span<const std::uint8_t> Ppc64Arch::breakpoint_instruction() const {
  // "trap" (0x7fe00008) in the process's byte order.
  static constexpr std::uint8_t little[] = {0x08, 0x00, 0xe0, 0x7f};
  static constexpr std::uint8_t big[] = {0x7f, 0xe0, 0x00, 0x08};
  return endian_ == Endian::Little ? std::span<const std::uint8_t>(little)
                                   : std::span<const std::uint8_t>(big);
}

}  // namespace arch
