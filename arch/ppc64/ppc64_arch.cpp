#include "arch/ppc64/ppc64_arch.hpp"

#include <vector>

namespace arch {
namespace {

constexpr std::string_view kCore = "org.gnu.gdb.power.core";
constexpr std::string_view kFpu = "org.gnu.gdb.power.fpu";
constexpr std::string_view kLinux = "org.gnu.gdb.power.linux";

constexpr FeatureInfo kFeatures[] = {{kCore, "", false}, {kFpu, "", false}, {kLinux, "", false}};
constexpr RegsetInfo kRegsets[] = {
    {"general", 1 /* NT_PRSTATUS */, 0, 48 * 8},
    {"float", 2 /* NT_PRFPREG */, 0, 33 * 8},
};

using R = RegisterRole;
constexpr unsigned G = Ppc64Arch::kGeneralRegset, F = Ppc64Arch::kFloatRegset;
// pt_regs slots (PT_NIP = 32 … PT_TRAP = 40), eight bytes each.
constexpr unsigned slot(unsigned index) { return index * 8; }

std::vector<RegisterInfo> make_table() {
  static const char* gpr[] = {"r0",  "r1",  "r2",  "r3",  "r4",  "r5",  "r6",  "r7",
                              "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15",
                              "r16", "r17", "r18", "r19", "r20", "r21", "r22", "r23",
                              "r24", "r25", "r26", "r27", "r28", "r29", "r30", "r31"};
  static const char* fpr[] = {"f0",  "f1",  "f2",  "f3",  "f4",  "f5",  "f6",  "f7",
                              "f8",  "f9",  "f10", "f11", "f12", "f13", "f14", "f15",
                              "f16", "f17", "f18", "f19", "f20", "f21", "f22", "f23",
                              "f24", "f25", "f26", "f27", "f28", "f29", "f30", "f31"};
  std::vector<RegisterInfo> t;
  for (unsigned i = 0; i < 32; ++i)
    t.push_back({gpr[i], 64, kCore, "uint64", "", G, slot(i), 0, static_cast<int>(i),
                 i == 1   ? R::StackPointer
                 : i == 0 ? R::SyscallNumber
                 : i == 3 ? R::SyscallResult
                          : R::None});
  t.push_back({"pc", 64, kCore, "code_ptr", "", G, slot(32), 0, -1, R::ProgramCounter});
  t.push_back({"msr", 64, kCore, "uint64", "", G, slot(33), 0, 66});
  t.push_back({"cr", 32, kCore, "uint32", "", G, slot(38), 8, 64});
  t.push_back({"lr", 64, kCore, "code_ptr", "", G, slot(36), 0, 65});
  t.push_back({"ctr", 64, kCore, "uint64", "", G, slot(35), 0, 66});
  t.push_back({"xer", 32, kCore, "uint32", "", G, slot(37), 8, 76});
  for (unsigned i = 0; i < 32; ++i)
    t.push_back({fpr[i], 64, kFpu, "ieee_double", "", F, slot(i), 0, static_cast<int>(32 + i)});
  t.push_back({"fpscr", 64, kFpu, "int", "float", F, slot(32), 0});
  t.push_back({"orig_r3", 64, kLinux, "int", "", G, slot(34), 0});
  t.push_back({"trap", 64, kLinux, "int", "", G, slot(40), 0, -1, R::SyscallRestart});
  return t;
}

}  // namespace

std::span<const FeatureInfo> Ppc64Arch::features() const { return kFeatures; }

std::span<const RegisterInfo> Ppc64Arch::registers() const {
  static const std::vector<RegisterInfo> t = make_table();
  return t;
}

std::span<const RegsetInfo> Ppc64Arch::regsets() const { return kRegsets; }

void Ppc64Arch::syscall_result_written(std::int64_t value, RegisterAccess& regs) const {
  auto trap = regs.get("trap");
  auto cr = regs.get("cr");
  // scv returns -errno in r3 like x86: what gdb wrote is what the program sees.
  if (!trap || !cr || (*trap & ~std::uint64_t{0xf}) != kTrapSc) return;
  bool error = value < 0 && value >= -4095;
  if (error) regs.set("r3", static_cast<std::uint64_t>(-value));
  regs.set("cr", error ? (*cr | kCr0SummaryOverflow) : (*cr & ~kCr0SummaryOverflow));
}

std::span<const std::uint8_t> Ppc64Arch::breakpoint_instruction() const {
  // "trap" (0x7fe00008) in the process's byte order.
  static constexpr std::uint8_t little[] = {0x08, 0x00, 0xe0, 0x7f};
  static constexpr std::uint8_t big[] = {0x7f, 0xe0, 0x00, 0x08};
  return endian_ == Endian::Little ? std::span<const std::uint8_t>(little)
                                   : std::span<const std::uint8_t>(big);
}

}  // namespace arch
