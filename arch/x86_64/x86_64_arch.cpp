#include "arch/x86_64/x86_64_arch.hpp"

#include "arch/x86_64/instructions.hpp"

#include <sys/mman.h>

#include <cstring>
#include <vector>

namespace arch {
namespace {

constexpr std::string_view kCore = "org.gnu.gdb.i386.core";
constexpr std::string_view kSse = "org.gnu.gdb.i386.sse";
constexpr std::string_view kLinux = "org.gnu.gdb.i386.linux";
constexpr std::string_view kSegments = "org.gnu.gdb.i386.segments";
constexpr std::string_view kAvx = "org.gnu.gdb.i386.avx";

// Offsets into the FXSAVE image (which also starts every XSAVE image).
constexpr unsigned kFxFsw = 2, kFxAbridgedTag = 4, kFxSt0 = 32, kFxXmm0 = 160, kFxMxcsr = 24;
// ptrace puts the process's XCR0 in the FXSAVE software-reserved bytes, at 464
// (gdb's I386_LINUX_XSAVE_XCR0_OFFSET).
constexpr unsigned kXsaveXcr0 = 464, kXsaveHeaderBv = 512, kXsaveYmmHi = 576;
constexpr std::uint64_t kXfeatureX87 = 1, kXfeatureSse = 2, kXfeatureAvx = 4;

constexpr std::string_view kCoreTypes = R"(<flags id="i386_eflags" size="4">
<field name="CF" start="0" end="0"/><field name="" start="1" end="1"/>
<field name="PF" start="2" end="2"/><field name="AF" start="4" end="4"/>
<field name="ZF" start="6" end="6"/><field name="SF" start="7" end="7"/>
<field name="TF" start="8" end="8"/><field name="IF" start="9" end="9"/>
<field name="DF" start="10" end="10"/><field name="OF" start="11" end="11"/>
<field name="NT" start="14" end="14"/><field name="RF" start="16" end="16"/>
<field name="VM" start="17" end="17"/><field name="AC" start="18" end="18"/>
<field name="VIF" start="19" end="19"/><field name="VIP" start="20" end="20"/>
<field name="ID" start="21" end="21"/>
</flags>
)";

constexpr std::string_view kSseTypes = R"(<vector id="v8bf16" type="bfloat16" count="8"/>
<vector id="v8h" type="ieee_half" count="8"/>
<vector id="v4f" type="ieee_single" count="4"/>
<vector id="v2d" type="ieee_double" count="2"/>
<vector id="v16i8" type="int8" count="16"/>
<vector id="v8i16" type="int16" count="8"/>
<vector id="v4i32" type="int32" count="4"/>
<vector id="v2i64" type="int64" count="2"/>
<union id="vec128">
<field name="v8_bfloat16" type="v8bf16"/><field name="v8_half" type="v8h"/>
<field name="v4_float" type="v4f"/><field name="v2_double" type="v2d"/>
<field name="v16_int8" type="v16i8"/><field name="v8_int16" type="v8i16"/>
<field name="v4_int32" type="v4i32"/><field name="v2_int64" type="v2i64"/>
<field name="uint128" type="uint128"/>
</union>
<flags id="i386_mxcsr" size="4">
<field name="IE" start="0" end="0"/><field name="DE" start="1" end="1"/>
<field name="ZE" start="2" end="2"/><field name="OE" start="3" end="3"/>
<field name="UE" start="4" end="4"/><field name="PE" start="5" end="5"/>
<field name="DAZ" start="6" end="6"/><field name="IM" start="7" end="7"/>
<field name="DM" start="8" end="8"/><field name="ZM" start="9" end="9"/>
<field name="OM" start="10" end="10"/><field name="UM" start="11" end="11"/>
<field name="PM" start="12" end="12"/><field name="FZ" start="15" end="15"/>
</flags>
)";

constexpr FeatureInfo kFeatures[] = {
    {kCore, kCoreTypes, false},
    {kSse, kSseTypes, false},
    {kLinux, "", false},
    {kSegments, "", false},
    {kAvx, "", true},
};

constexpr RegsetInfo kRegsets[] = {
    {"general", 1 /* NT_PRSTATUS */, 0, 27 * 8},
    {"float", 0x202 /* NT_X86_XSTATE */, 2 /* NT_PRFPREG */, 32768},
};

using R = RegisterRole;
constexpr unsigned G = X86_64Arch::kGeneralRegset, F = X86_64Arch::kFloatRegset;

// Offsets in struct user_regs_struct (NT_PRSTATUS) are the kernel's ABI.
std::vector<RegisterInfo> make_table() {
  std::vector<RegisterInfo> t = {
      {"rax", 64, kCore, "int64", "", G, 80, 0, 0, R::SyscallResult},
      {"rbx", 64, kCore, "int64", "", G, 40, 0, 3},
      {"rcx", 64, kCore, "int64", "", G, 88, 0, 2},
      {"rdx", 64, kCore, "int64", "", G, 96, 0, 1},
      {"rsi", 64, kCore, "int64", "", G, 104, 0, 4},
      {"rdi", 64, kCore, "int64", "", G, 112, 0, 5},
      {"rbp", 64, kCore, "data_ptr", "", G, 32, 0, 6, R::FramePointer},
      {"rsp", 64, kCore, "data_ptr", "", G, 152, 0, 7, R::StackPointer},
      {"r8", 64, kCore, "int64", "", G, 72, 0, 8},
      {"r9", 64, kCore, "int64", "", G, 64, 0, 9},
      {"r10", 64, kCore, "int64", "", G, 56, 0, 10},
      {"r11", 64, kCore, "int64", "", G, 48, 0, 11},
      {"r12", 64, kCore, "int64", "", G, 24, 0, 12},
      {"r13", 64, kCore, "int64", "", G, 16, 0, 13},
      {"r14", 64, kCore, "int64", "", G, 8, 0, 14},
      {"r15", 64, kCore, "int64", "", G, 0, 0, 15},
      {"rip", 64, kCore, "code_ptr", "", G, 128, 0, 16, R::ProgramCounter},
      {"eflags", 32, kCore, "i386_eflags", "", G, 144, 8, 49},
      {"cs", 32, kCore, "int32", "", G, 136, 8, 51},
      {"ss", 32, kCore, "int32", "", G, 160, 8, 52},
      {"ds", 32, kCore, "int32", "", G, 184, 8, 53},
      {"es", 32, kCore, "int32", "", G, 192, 8, 50},
      {"fs", 32, kCore, "int32", "", G, 200, 8, 54},
      {"gs", 32, kCore, "int32", "", G, 208, 8, 55},
  };
  for (unsigned i = 0; i < 8; ++i) {
    static const char* names[] = {"st0", "st1", "st2", "st3", "st4", "st5", "st6", "st7"};
    t.push_back({names[i], 80, kCore, "i387_ext", "", F, kFxSt0 + 16 * i, 10, static_cast<int>(33 + i)});
  }
  t.push_back({"fctrl", 32, kCore, "int", "float", F, 0, 2});
  t.push_back({"fstat", 32, kCore, "int", "float", F, kFxFsw, 2});
  t.push_back({"ftag", 32, kCore, "int", "float", F, kFxAbridgedTag, 1, -1, R::None,
               FieldEncoding::X87AbridgedTag});
  t.push_back({"fiseg", 32, kCore, "int", "float", F, 12, 2});
  t.push_back({"fioff", 32, kCore, "int", "float", F, 8, 4});
  t.push_back({"foseg", 32, kCore, "int", "float", F, 20, 2});
  t.push_back({"fooff", 32, kCore, "int", "float", F, 16, 4});
  t.push_back({"fop", 32, kCore, "int", "float", F, 6, 2});
  static const char* xmm[] = {"xmm0", "xmm1", "xmm2",  "xmm3",  "xmm4",  "xmm5",  "xmm6",  "xmm7",
                              "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"};
  for (unsigned i = 0; i < 16; ++i)
    t.push_back({xmm[i], 128, kSse, "vec128", "", F, kFxXmm0 + 16 * i, 0, static_cast<int>(17 + i)});
  t.push_back({"mxcsr", 32, kSse, "i386_mxcsr", "vector", F, kFxMxcsr, 4, 64});
  t.push_back({"orig_rax", 64, kLinux, "int", "", G, 120, 0, -1, R::SyscallNumber});
  t.push_back({"fs_base", 64, kSegments, "int", "", G, 168, 0, 58});
  t.push_back({"gs_base", 64, kSegments, "int", "", G, 176, 0, 59});
  static const char* ymmh[] = {"ymm0h", "ymm1h", "ymm2h",  "ymm3h",  "ymm4h",  "ymm5h",
                               "ymm6h", "ymm7h", "ymm8h",  "ymm9h",  "ymm10h", "ymm11h",
                               "ymm12h", "ymm13h", "ymm14h", "ymm15h"};
  for (unsigned i = 0; i < 16; ++i)
    t.push_back({ymmh[i], 128, kAvx, "uint128", "", F, kXsaveYmmHi + 16 * i, 0});
  return t;
}

const std::vector<RegisterInfo>& table() {
  static const std::vector<RegisterInfo> t = make_table();
  return t;
}

std::uint64_t load_u64(std::span<const std::uint8_t> image, unsigned offset) {
  std::uint64_t v = 0;
  if (offset + 8 <= image.size()) std::memcpy(&v, image.data() + offset, 8);
  return v;
}

// The x87 tag of one physical register, from its contents (as FXSAVE drops it).
unsigned full_tag_of(std::span<const std::uint8_t> st) {
  unsigned exponent = (st[9] & 0x7f) << 8 | st[8];
  std::uint64_t mantissa;
  std::memcpy(&mantissa, st.data(), 8);
  if (exponent == 0x7fff) return 2;                // special: NaN or infinity
  if (exponent == 0) return mantissa == 0 ? 1 : 2;  // zero, or denormal (special)
  return (mantissa >> 63) ? 0 : 2;                  // valid, or unnormal (special)
}

}  // namespace

std::span<const FeatureInfo> X86_64Arch::features() const { return kFeatures; }
std::span<const RegisterInfo> X86_64Arch::registers() const { return table(); }
std::span<const RegsetInfo> X86_64Arch::regsets() const { return kRegsets; }

std::span<const std::uint8_t> X86_64Arch::breakpoint_instruction() const {
  static constexpr std::uint8_t int3[] = {0xcc};
  return int3;
}

// XCR0 in the XSAVE image says what the kernel enabled; AT_HWCAP adds nothing.
bool X86_64Arch::optional_feature_present(std::string_view feature, const RegsetReader& read,
                                          const std::optional<HardwareCaps>&) const {
  if (feature != kAvx) return false;
  auto image = read(kFloatRegset);
  if (!image || image->size() <= kXsaveYmmHi) return false;  // FXSAVE only: no AVX
  return (load_u64(*image, kXsaveXcr0) & kXfeatureAvx) != 0;
}

void X86_64Arch::decode_special(const RegisterInfo& reg, std::span<const std::uint8_t> image,
                                std::span<std::uint8_t> value) const {
  std::fill(value.begin(), value.end(), 0);
  if (reg.encoding != FieldEncoding::X87AbridgedTag || image.size() < kFxXmm0) return;
  unsigned top = (image[kFxFsw + 1] >> 3) & 7;
  unsigned abridged = image[kFxAbridgedTag];
  unsigned tag_word = 0;
  for (unsigned physical = 0; physical < 8; ++physical) {
    unsigned tag = 3;  // empty
    if (abridged & (1u << physical)) {
      unsigned st_index = (physical + 8 - top) % 8;
      tag = full_tag_of(image.subspan(kFxSt0 + 16 * st_index, 10));
    }
    tag_word |= tag << (2 * physical);
  }
  value[0] = static_cast<std::uint8_t>(tag_word);
  value[1] = static_cast<std::uint8_t>(tag_word >> 8);
}

void X86_64Arch::encode_special(const RegisterInfo& reg, std::span<const std::uint8_t> value,
                                std::span<std::uint8_t> image) const {
  if (reg.encoding != FieldEncoding::X87AbridgedTag || image.size() <= kFxAbridgedTag ||
      value.size() < 2)
    return;
  unsigned tag_word = value[0] | value[1] << 8;
  unsigned abridged = 0;
  for (unsigned physical = 0; physical < 8; ++physical)
    if (((tag_word >> (2 * physical)) & 3) != 3) abridged |= 1u << physical;
  image[kFxAbridgedTag] = static_cast<std::uint8_t>(abridged);
}

void X86_64Arch::prepare_regset_for_write(unsigned regset, std::span<std::uint8_t> image) const {
  if (regset != kFloatRegset || image.size() < kXsaveHeaderBv + 8) return;
  // A component whose XSTATE_BV bit is clear is restored to its init state,
  // ignoring what we wrote; mark the ones we expose as in use.
  std::uint64_t xcr0 = load_u64(image, kXsaveXcr0);
  std::uint64_t bv = load_u64(image, kXsaveHeaderBv);
  bv |= xcr0 & (kXfeatureX87 | kXfeatureSse | kXfeatureAvx);
  std::memcpy(image.data() + kXsaveHeaderBv, &bv, 8);
}

std::unique_ptr<HardwareDebug> X86_64Arch::make_hardware_debug() const {
  return std::make_unique<X86DebugRegisters>();
}

// x86-64 TLS ABI: %fs points at the thread's TCB, which glibc (tcbhead_t)
// begins with a pointer to itself followed by the dtv pointer.
std::optional<std::uint64_t> X86_64Arch::dtv_pointer_address(RegisterAccess& regs) const {
  auto fs_base = regs.get("fs_base");
  if (!fs_base || *fs_base == 0) return std::nullopt;
  return *fs_base + 8;
}

std::optional<RangeStepPlan> X86_64Arch::plan_range_step(std::uint64_t start, std::span<const std::uint8_t> code) const {
  return x86_64::plan_range_step(start, code);
}

std::optional<OutOfLineCopy> X86_64Arch::out_of_line_copy(std::uint64_t from, std::span<const std::uint8_t> code,
                                                          std::uint64_t to) const {
  return x86_64::out_of_line_copy(from, code, to);
}

std::span<const std::uint8_t> X86_64Arch::syscall_instruction() const {
  static constexpr std::uint8_t syscall[] = {0x0f, 0x05};
  return syscall;
}

// -4095 … -1 is -errno.
std::optional<std::uint64_t> X86_64Arch::syscall_succeeded(RegisterAccess& regs) const {
  auto rax = regs.get("rax");
  if (!rax || *rax >= static_cast<std::uint64_t>(-4095)) return std::nullopt;
  return rax;
}

// The kernel's x86-64 convention: the number in rax, arguments in rdi, rsi,
// rdx, r10, r8, r9 (the syscall instruction itself clobbers rcx and r11).
void X86_64Arch::prepare_anonymous_mapping(RegisterAccess& regs, std::uint64_t at, std::uint64_t hint,
                                           std::uint64_t length) const {
  constexpr long kMmap = 9;
  const std::uint64_t arguments[] = {hint, length, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
                                     static_cast<std::uint64_t>(-1), 0};
  static constexpr std::string_view kArgumentRegisters[] = {"rdi", "rsi", "rdx", "r10", "r8", "r9"};
  regs.set("rip", at);
  regs.set("rax", kMmap);
  for (std::size_t i = 0; i < std::size(arguments); ++i) regs.set(kArgumentRegisters[i], arguments[i]);
}

}  // namespace arch
