// The powerpc64 rules, on scripted register images (they run on any host).
#include <doctest/doctest.h>
#include <signal.h>

#include <cstring>
#include <map>
#include <string>

#include "arch/arch.hpp"
#include "arch/ppc64/hw_debug.hpp"
#include "arch/ppc64/ppc64_arch.hpp"
#include "arch/ppc64/instructions.hpp"
#include "server/engine.hpp"
#include "tests/engine/scripted_ops.hpp"

using namespace ustub;
using namespace ustub::testing;

namespace {

constexpr pid_t kPid = 300;
constexpr unsigned kNipOffset = 32 * 8, kTrapOffset = 40 * 8;  // struct pt_regs slots

struct Ppc64Process {
  ScriptedOps ops;
  Engine engine{arch::arch_by_name("ppc64"), ops};

  Ppc64Process() {
    ops.general[kPid].assign(48 * 8, 0);
    set(kNipOffset, 0x10000b44);
    set(kTrapOffset, 0xc00);  // stopped in a syscall, which the kernel would restart
    engine.adopt(kPid, {kPid}, true, {EngineStop::Kind::Signal, kPid, SIGTRAP});
  }
  void set(unsigned offset, std::uint64_t value) { std::memcpy(ops.general[kPid].data() + offset, &value, 8); }
  std::uint64_t get(unsigned offset) {
    std::uint64_t value;
    std::memcpy(&value, ops.general[kPid].data() + offset, 8);
    return value;
  }
  unsigned regnum(std::string_view name) { return engine.layout().find_by_name(name)->regnum; }
  bool write(std::string_view name, std::uint64_t value) {
    std::uint8_t bytes[8];
    std::memcpy(bytes, &value, 8);  // the tests run little-endian, as ppc64le
    return engine.write_register(kPid, regnum(name), bytes);
  }
};

}  // namespace

TEST_CASE("ppc64: moving the pc sets trap to -1, so the kernel does not restart a syscall behind gdb") {
  Ppc64Process p;
  REQUIRE(p.write("pc", 0x10000b60));
  p.engine.resume({{kPid, {}}});  // registers go back to the thread before it runs
  CHECK(p.get(kNipOffset) == 0x10000b60);
  CHECK(p.get(kTrapOffset) == ~std::uint64_t{0});
}

TEST_CASE("ppc64: writing the pc it already has leaves trap alone") {
  Ppc64Process p;
  REQUIRE(p.write("pc", 0x10000b44));
  REQUIRE(p.write("r3", 42));
  p.engine.resume({{kPid, {}}});
  CHECK(p.get(kTrapOffset) == 0xc00);
  CHECK(p.get(3 * 8) == 42);
}

TEST_CASE("ppc64: trap and the syscall number are not expedited; pc and r1 are") {
  Ppc64Process p;
  std::vector<std::string_view> names;
  for (const auto* e : p.engine.layout().expedited()) names.push_back(e->info->name);
  CHECK(names == std::vector<std::string_view>{"r1", "pc"});
}

namespace {

constexpr unsigned kCcrOffset = 38 * 8, kR3Offset = 3 * 8;
constexpr std::uint64_t kSummaryOverflow = 0x10000000;

// Stopped at the exit of a syscall made with `trap_value`'s instruction, which
// the kernel failed with ENOSYS (the syscall was skipped at its entry).
void at_skipped_syscall_exit(Ppc64Process& p, std::uint64_t trap_value) {
  p.engine.set_catch_syscalls(true);
  p.engine.resume({{kPid, {}}});
  p.ops.syscall_entry[kPid] = false;
  p.set(kTrapOffset, trap_value);
  bool sc = (trap_value & ~0xfull) == 0xc00;
  p.set(kR3Offset, sc ? 38 : static_cast<std::uint64_t>(-38));
  p.set(kCcrOffset, sc ? kSummaryOverflow | 0x2 : 0x2);
  p.engine.handle_wait({kPid, stopped_status(SIGTRAP | 0x80)});
}

}  // namespace

TEST_CASE("ppc64: a result gdb writes at an `sc` syscall's exit is what the program sees, CR0.SO included") {
  Ppc64Process p;
  at_skipped_syscall_exit(p, 0xc01);
  REQUIRE(p.write("r3", 4242));
  p.engine.resume({{kPid, {}}});
  CHECK(p.get(kR3Offset) == 4242);
  CHECK(p.get(kCcrOffset) == 0x2);  // success: SO cleared, the other fields kept
}

TEST_CASE("ppc64: an error gdb writes at an `sc` exit (-errno, as on x86) becomes +errno with CR0.SO set") {
  Ppc64Process p;
  at_skipped_syscall_exit(p, 0xc00);
  REQUIRE(p.write("r3", static_cast<std::uint64_t>(-1)));  // -EPERM
  p.engine.resume({{kPid, {}}});
  CHECK(p.get(kR3Offset) == 1);
  CHECK(p.get(kCcrOffset) == (kSummaryOverflow | 0x2));
}

TEST_CASE("ppc64: at an `scv` exit, and outside syscall stops, r3 is only r3") {
  Ppc64Process p;
  at_skipped_syscall_exit(p, 0x3000);
  REQUIRE(p.write("r3", 4242));
  p.engine.resume({{kPid, {}}});
  CHECK(p.get(kR3Offset) == 4242);
  CHECK(p.get(kCcrOffset) == 0x2);

  Ppc64Process q;  // at a breakpoint, say: nothing is a syscall's result
  q.set(kCcrOffset, kSummaryOverflow);
  REQUIRE(q.write("r3", 4242));
  q.engine.resume({{kPid, {}}});
  CHECK(q.get(kCcrOffset) == kSummaryOverflow);
}

TEST_CASE("ppc64: Altivec and VSX are described only when the kernel has their regsets") {
  Ppc64Process plain;  // no NT_PPC_VMX, no NT_PPC_VSX
  CHECK(plain.engine.layout().target_xml().find("org.gnu.gdb.power.altivec") == std::string::npos);
  CHECK(plain.engine.layout().find_by_name("vs0h") == nullptr);

  ScriptedOps ops;
  ops.general[kPid].assign(48 * 8, 0);
  ops.other_regsets[{kPid, 0x100}].assign(34 * 16, 0);
  ops.other_regsets[{kPid, 0x102}].assign(32 * 8, 0);
  Engine engine{arch::arch_by_name("ppc64"), ops};
  engine.adopt(kPid, {kPid}, true, {EngineStop::Kind::Signal, kPid, SIGTRAP});
  const std::string& xml = engine.layout().target_xml();
  CHECK(xml.find("<feature name=\"org.gnu.gdb.power.altivec\">") != std::string::npos);
  CHECK(xml.find("<feature name=\"org.gnu.gdb.power.vsx\">") != std::string::npos);
  CHECK(xml.find("<union id=\"vec128\">") != std::string::npos);
  // gdb's own numbering: r0–r31, pc, msr, cr, lr, ctr, xer, f0–f31, fpscr, orig_r3, trap, vr0…
  CHECK(engine.layout().find_by_name("vr0")->regnum == 73);
  CHECK(engine.layout().find_by_name("vscr")->regnum == 105);
  CHECK(engine.layout().find_by_name("vs0h")->regnum == 107);
}

TEST_CASE("ppc64: AT_HWCAP must also say the CPU has Altivec and VSX") {
  auto features_with = [](std::uint64_t hwcap) {
    ScriptedOps ops;
    ops.general[kPid].assign(48 * 8, 0);
    ops.other_regsets[{kPid, 0x100}].assign(34 * 16, 0);
    ops.other_regsets[{kPid, 0x102}].assign(32 * 8, 0);
    ops.caps = arch::HardwareCaps{hwcap, 0};
    Engine engine{arch::arch_by_name("ppc64"), ops};
    engine.adopt(kPid, {kPid}, true, {EngineStop::Kind::Signal, kPid, SIGTRAP});
    std::string xml = engine.layout().target_xml();
    return std::pair{xml.find("power.altivec") != std::string::npos, xml.find("power.vsx") != std::string::npos};
  };
  constexpr std::uint64_t kAltivec = 0x10000000, kVsx = 0x80, k64BitFpu = 0x40000000 | 0x08000000;
  CHECK(features_with(k64BitFpu | kAltivec | kVsx) == std::pair{true, true});
  CHECK(features_with(kAltivec) == std::pair{true, false});
  CHECK(features_with(0) == std::pair{false, false});
  CHECK(features_with(kVsx) == std::pair{false, false});  // VSX builds on the vector registers
}

TEST_CASE("ppc64: vector registers come from NT_PPC_VMX and NT_PPC_VSX images, little-endian vscr first") {
  ScriptedOps ops;
  ops.general[kPid].assign(48 * 8, 0);
  auto& vmx = ops.other_regsets[{kPid, 0x100}];
  vmx.assign(34 * 16, 0);
  for (unsigned i = 0; i < 16; ++i) vmx[16 * 5 + i] = static_cast<std::uint8_t>(0xa0 + i);  // vr5
  vmx[16 * 32] = 0x01;                                                                       // vscr = 0x10001
  vmx[16 * 32 + 2] = 0x01;
  vmx[16 * 33] = 0x7f;  // vrsave
  auto& vsx = ops.other_regsets[{kPid, 0x102}];
  vsx.assign(32 * 8, 0);
  vsx[8 * 3] = 0x33;  // vs3h
  Engine engine{arch::arch_by_name("ppc64"), ops};
  engine.adopt(kPid, {kPid}, true, {EngineStop::Kind::Signal, kPid, SIGTRAP});
  auto reg = [&](std::string_view name) {
    std::vector<std::uint8_t> value;
    REQUIRE(engine.read_register(kPid, engine.layout().find_by_name(name)->regnum, value));
    return value;
  };
  std::vector<std::uint8_t> vr5(16);
  for (unsigned i = 0; i < 16; ++i) vr5[i] = static_cast<std::uint8_t>(0xa0 + i);
  CHECK(reg("vr5") == vr5);
  CHECK(reg("vscr") == std::vector<std::uint8_t>{0x01, 0x00, 0x01, 0x00});
  CHECK(reg("vrsave") == std::vector<std::uint8_t>{0x7f, 0, 0, 0});
  CHECK(reg("vs3h") == std::vector<std::uint8_t>{0x33, 0, 0, 0, 0, 0, 0, 0});

  std::vector<std::uint8_t> written(8, 0x5a);
  REQUIRE(engine.write_register(kPid, engine.layout().find_by_name("vs31h")->regnum, written));
  engine.resume({{kPid, {}}});
  CHECK(std::vector<std::uint8_t>(vsx.begin() + 8 * 31, vsx.end()) == written);
}

namespace {

void put_word(ScriptedOps& ops, std::uint64_t address, std::uint32_t word) {
  for (unsigned i = 0; i < 4; ++i) ops.memory[address + i] = static_cast<std::uint8_t>(word >> (8 * i));
}

}  // namespace

TEST_CASE("ppc64: sc and scv are syscall instructions (Capstone, and the scv form it cannot decode)") {
  auto is_syscall = [](std::uint32_t word) {
    std::uint8_t le[4] = {static_cast<std::uint8_t>(word), static_cast<std::uint8_t>(word >> 8),
                          static_cast<std::uint8_t>(word >> 16), static_cast<std::uint8_t>(word >> 24)};
    return arch::arch_by_name("ppc64").single_step_overshoots(le);
  };
  CHECK(is_syscall(0x44000002));        // sc
  CHECK(is_syscall(0x44000001));        // scv 0
  CHECK_FALSE(is_syscall(0x7d2018a8));  // ldarx r9,0,r3
  CHECK_FALSE(is_syscall(0x38600000));  // li r3,0
  CHECK_FALSE(is_syscall(0x7fe00008));  // trap
}

TEST_CASE("ppc64: a single-step over sc runs to the syscall's exit stop and is told as the step's end") {
  Ppc64Process p;
  std::vector<EngineStop> stops;
  p.engine.set_stop_handler([&](const EngineStop& s) { stops.push_back(s); });
  put_word(p.ops, 0x10000b44, 0x44000002);  // sc at the pc
  p.ops.log.clear();
  p.engine.resume({{kPid, {true, 0}}});
  CHECK(p.ops.log.back() == "syscall 300 sig 0");  // PTRACE_SYSCALL, not PTRACE_SINGLESTEP
  p.ops.syscall_entry[kPid] = true;
  p.set(kNipOffset, 0x10000b48);
  p.engine.handle_wait({kPid, stopped_status(SIGTRAP | 0x80)});
  CHECK(stops.empty());
  CHECK(p.ops.log.back() == "syscall 300 sig 0");  // on through the call
  p.ops.syscall_entry[kPid] = false;
  p.engine.handle_wait({kPid, stopped_status(SIGTRAP | 0x80)});
  REQUIRE(stops.size() == 1);
  CHECK(stops[0].kind == EngineStop::Kind::Signal);
  CHECK(stops[0].host_signal == SIGTRAP);
  CHECK(*p.engine.pc(kPid) == 0x10000b48);  // right after the sc

  p.ops.log.clear();
  put_word(p.ops, 0x10000b48, 0x38600000);  // li r3,0: an ordinary step
  p.engine.resume({{kPid, {true, 0}}});
  CHECK(p.ops.log.back() == "step 300 sig 0");
}

TEST_CASE("ppc64: a step over a caught syscall stops at its entry and return, as catch syscall asks") {
  Ppc64Process p;
  std::vector<EngineStop> stops;
  p.engine.set_stop_handler([&](const EngineStop& s) { stops.push_back(s); });
  p.engine.set_catch_syscalls(true);
  put_word(p.ops, 0x10000b44, 0x44000001);  // scv 0
  p.engine.resume({{kPid, {true, 0}}});
  p.ops.syscall_entry[kPid] = true;
  p.engine.handle_wait({kPid, stopped_status(SIGTRAP | 0x80)});
  REQUIRE(stops.size() == 1);
  CHECK(stops[0].kind == EngineStop::Kind::SyscallEntry);
  p.ops.log.clear();
  p.engine.resume({{kPid, {true, 0}}});  // gdb steps on from the entry
  CHECK(p.ops.log.back() == "syscall 300 sig 0");
  p.ops.syscall_entry[kPid] = false;
  p.engine.handle_wait({kPid, stopped_status(SIGTRAP | 0x80)});
  REQUIRE(stops.size() == 2);
  CHECK(stops[1].kind == EngineStop::Kind::SyscallReturn);
}


TEST_CASE("ppc64: watchpoint requests are encoded as gdb's ppc-linux-nat makes them") {
  using HW = arch::Ppc64HardwareDebug;
  auto word = HW::request_for(arch::WatchKind::Write, 0x1004, 4, 0);
  REQUIRE(word);
  CHECK(word->version == 1);
  CHECK(word->trigger_type == HW::kTriggerWrite);
  CHECK(word->addr_mode == HW::kModeExact);
  CHECK(word->addr == 0x1004);
  CHECK(word->condition_mode == 0);
  CHECK(HW::request_for(arch::WatchKind::Read, 0x1000, 8, 0)->trigger_type == HW::kTriggerRead);
  CHECK(HW::request_for(arch::WatchKind::Access, 0x1000, 8, 0)->trigger_type == (HW::kTriggerRead | HW::kTriggerWrite));
  // Wider than one doubleword: a range, where the DAWR has ranges; else nothing.
  auto wide = HW::request_for(arch::WatchKind::Write, 0x1004, 16, HW::kFeatureDataRange);
  REQUIRE(wide);
  CHECK(wide->addr_mode == HW::kModeRangeInclusive);
  CHECK(wide->addr == 0x1004);
  CHECK(wide->addr2 == 0x1013);
  CHECK_FALSE(HW::request_for(arch::WatchKind::Write, 0x1004, 16, 0));
  CHECK_FALSE(HW::request_for(arch::WatchKind::Execute, 0x1000, 4, HW::kFeatureDataRange));
}

TEST_CASE("ppc64: with no data breakpoints (a POWER9 without DAWR) gdb is told there are no hardware watchpoints") {
  Ppc64Process p;
  p.ops.ppc_info.version = 1;  // the request works, and says 0 data breakpoints
  CHECK_FALSE(p.engine.has_hardware_debug(kPid));
  Ppc64Process q;  // the kernel does not know the request at all
  CHECK_FALSE(q.engine.has_hardware_debug(kPid));
}

TEST_CASE("ppc64: a data breakpoint is set in the thread, found from si_addr when it fires, and re-armed") {
  Ppc64Process p;
  p.ops.ppc_info = {1, 0, 1, 0, 8, 0, 0};  // one data breakpoint (POWER8's DAWR)
  std::vector<EngineStop> stops;
  p.engine.set_stop_handler([&](const EngineStop& s) { stops.push_back(s); });
  REQUIRE(p.engine.has_hardware_debug(kPid));
  REQUIRE(p.engine.insert_hardware(kPid, arch::WatchKind::Write, 0x20010, 4) == 0);
  REQUIRE(p.ops.ppc_requests.size() == 1);
  CHECK(p.ops.ppc_requests.begin()->second.first == kPid);
  CHECK(p.ops.ppc_requests.begin()->second.second.addr == 0x20010);
  CHECK(p.engine.insert_hardware(kPid, arch::WatchKind::Write, 0x30000, 4) == ENOSPC);

  p.engine.resume({{kPid, {}}});
  p.ops.traps[kPid] = {SIGTRAP, 4 /* TRAP_HWBKPT */, 0x20010};
  p.engine.handle_wait({kPid, stopped_status(SIGTRAP)});
  REQUIRE(stops.size() == 1);
  REQUIRE(stops[0].hardware_hit);
  CHECK(stops[0].hardware_hit->kind == arch::WatchKind::Write);
  CHECK(stops[0].hardware_hit->address == 0x20010);
  // The kernel disarmed it on the hit; it is set again (a new handle).
  REQUIRE(p.ops.ppc_requests.size() == 1);
  CHECK(p.ops.ppc_requests.begin()->first == 2);

  p.engine.detach(kPid);  // and taken out, so the program never traps after
  CHECK(p.ops.ppc_requests.empty());
}

TEST_CASE("ppc64: a read watchpoint traps reads only, so a read of a changed value is told too") {
  Ppc64Process p;
  p.ops.ppc_info = {1, 0, 1, 0, 8, 0, 0};
  std::vector<EngineStop> stops;
  p.engine.set_stop_handler([&](const EngineStop& s) { stops.push_back(s); });
  for (std::uint64_t a = 0x20010; a < 0x20014; ++a) p.ops.memory[a] = 1;
  REQUIRE(p.engine.insert_hardware(kPid, arch::WatchKind::Read, 0x20010, 4) == 0);
  p.engine.resume({{kPid, {}}});
  p.ops.memory[0x20010] = 2;  // an untrapped write, then the read
  p.ops.traps[kPid] = {SIGTRAP, 4 /* TRAP_HWBKPT */, 0x20010};
  p.engine.handle_wait({kPid, stopped_status(SIGTRAP)});
  REQUIRE(stops.size() == 1);
  REQUIRE(stops[0].hardware_hit);
  CHECK(stops[0].hardware_hit->kind == arch::WatchKind::Read);
}

TEST_CASE("ppc64: a thread's dtv pointer is the last word of the TCB, 0x7008 below r13") {
  Ppc64Process p;
  p.set(13 * 8, 0x7fffb7f77100);
  CHECK(p.engine.dtv_pointer_address(kPid) == 0x7fffb7f77100 - 0x7008);
}

namespace {

// Assembled with powerpc64le-linux-gnu-as -mpower8, at 0x10000800:
//   0: ldarx r9,0,r3   4: add r9,r9,r4   8: stdcx. r9,0,r3   c: bne- 0
//  10: lwarx r9,0,r3  14: cmpw r9,r4    18: bne- 0x24       1c: stwcx. r5,0,r3  20: bne- 0x10
//  24: lbarx r9,0,r3  28: stbcx. r9,0,r3  2c: b 0
constexpr std::uint64_t kSequenceBase = 0x10000800;
const std::vector<std::uint8_t> kSequences = {
    0xa8, 0x18, 0x20, 0x7d, 0x14, 0x22, 0x29, 0x7d, 0xad, 0x19, 0x20, 0x7d, 0xf4, 0xff, 0xc2, 0x40,
    0x28, 0x18, 0x20, 0x7d, 0x00, 0x20, 0x09, 0x7c, 0x0c, 0x00, 0xc2, 0x40, 0x2d, 0x19, 0xa0, 0x7c,
    0xf0, 0xff, 0xc2, 0x40, 0x68, 0x18, 0x20, 0x7d, 0x6d, 0x1d, 0x20, 0x7d, 0xd4, 0xff, 0xff, 0x4b};

std::optional<std::vector<std::uint64_t>> exits_at(std::uint64_t offset, std::vector<std::uint8_t> code = kSequences) {
  return arch::ppc64::atomic_sequence_exits(kSequenceBase + offset, std::span(code).subspan(offset),
                                            arch::Endian::Little);
}

}  // namespace

TEST_CASE("ppc64: an atomic add (ldarx … stdcx.) is run to the instruction after its stdcx.") {
  auto exits = exits_at(0);
  REQUIRE(exits);
  CHECK(*exits == std::vector<std::uint64_t>{kSequenceBase + 0xc});  // the bne that retries stays outside
}

TEST_CASE("ppc64: a compare-and-swap also stops where its conditional branch leaves the sequence") {
  auto exits = exits_at(0x10);
  REQUIRE(exits);
  CHECK(*exits == std::vector<std::uint64_t>{kSequenceBase + 0x20, kSequenceBase + 0x24});
}

TEST_CASE("ppc64: byte-sized reservations (lbarx/stbcx., beyond Capstone 4) are sequences too") {
  auto exits = exits_at(0x24);
  REQUIRE(exits);
  CHECK(*exits == std::vector<std::uint64_t>{kSequenceBase + 0x2c});
}

TEST_CASE("ppc64: what is not a sequence ustub can run is single-stepped as usual") {
  CHECK_FALSE(exits_at(4));  // not at a load-reserve
  // No store-conditional: the add repeated 16 times after the ldarx.
  std::vector<std::uint8_t> endless = {0xa8, 0x18, 0x20, 0x7d};
  for (int i = 0; i < 16; ++i) endless.insert(endless.end(), {0x14, 0x22, 0x29, 0x7d});
  CHECK_FALSE(arch::ppc64::atomic_sequence_exits(kSequenceBase, endless, arch::Endian::Little));
  // An unconditional branch inside: lbarx, then `b 0` before any store-conditional.
  std::vector<std::uint8_t> jumps = {0x68, 0x18, 0x20, 0x7d, 0xd4, 0xff, 0xff, 0x4b, 0x6d, 0x1d, 0x20, 0x7d};
  CHECK_FALSE(arch::ppc64::atomic_sequence_exits(kSequenceBase, jumps, arch::Endian::Little));
  // Cut short: the bytes end before the store-conditional.
  CHECK_FALSE(arch::ppc64::atomic_sequence_exits(kSequenceBase, std::span(kSequences).first(8), arch::Endian::Little));
}

namespace {

std::uint32_t word_at(ScriptedOps& ops, std::uint64_t address) {
  std::uint32_t w = 0;
  for (unsigned i = 0; i < 4; ++i) w |= std::uint32_t{ops.memory[address + i]} << (8 * i);
  return w;
}

// The thread stopped at an atomic add's ldarx (kSequences at kSequenceBase).
struct AtAtomicAdd : Ppc64Process {
  std::vector<EngineStop> stops;
  AtAtomicAdd() {
    for (std::size_t i = 0; i < kSequences.size(); ++i) ops.memory[kSequenceBase + i] = kSequences[i];
    for (std::uint64_t a = kSequenceBase + kSequences.size(); a < kSequenceBase + 0x100; ++a) ops.memory[a] = 0;
    set(kNipOffset, kSequenceBase);
    engine.set_stop_handler([this](const EngineStop& s) { stops.push_back(s); });
  }
  void trap_at(std::uint64_t address) {
    set(kNipOffset, address);  // powerpc reports the trap instruction's own address
    ops.traps[kPid] = {SIGTRAP, 1 /* TRAP_BRKPT */};
    engine.handle_wait({kPid, stopped_status(SIGTRAP)});
  }
};

constexpr std::uint32_t kTrap = 0x7fe00008;

}  // namespace

TEST_CASE("ppc64: a step at a ldarx runs the sequence to its exit and is told as one step") {
  AtAtomicAdd p;
  p.ops.log.clear();
  p.engine.resume({{kPid, {true, 0}}});
  CHECK(p.ops.log.back() == "cont 300 sig 0");  // not PTRACE_SINGLESTEP
  CHECK(word_at(p.ops, kSequenceBase + 0xc) == kTrap);  // planted after the stdcx.
  std::vector<std::uint8_t> seen(4);
  p.engine.read_memory(kPid, kSequenceBase + 0xc, seen);
  CHECK(seen == std::vector<std::uint8_t>{0xf4, 0xff, 0xc2, 0x40});  // gdb never sees it
  p.trap_at(kSequenceBase + 0xc);
  REQUIRE(p.stops.size() == 1);
  CHECK(p.stops[0].host_signal == SIGTRAP);
  CHECK_FALSE(p.stops[0].software_breakpoint);  // a step's end, not a breakpoint of gdb's
  CHECK(*p.engine.pc(kPid) == kSequenceBase + 0xc);
  CHECK(word_at(p.ops, kSequenceBase + 0xc) == 0x40c2fff4);  // the bne is back
  // The next step, at the bne, is an ordinary one.
  p.engine.resume({{kPid, {true, 0}}});
  CHECK(p.ops.log.back() == "step 300 sig 0");
}

TEST_CASE("ppc64: gdb's own breakpoint at the exit is left to gdb when the atomic step ends") {
  AtAtomicAdd p;
  REQUIRE(p.engine.insert_breakpoint(kPid, kSequenceBase + 0xc) == 0);
  p.engine.resume({{kPid, {true, 0}}});
  p.trap_at(kSequenceBase + 0xc);
  REQUIRE(p.stops.size() == 1);
  CHECK(word_at(p.ops, kSequenceBase + 0xc) == kTrap);  // still planted: it is gdb's
}

TEST_CASE("ppc64: an atomic step that stops for something else ends, and takes its breakpoints out") {
  AtAtomicAdd p;
  p.engine.resume({{kPid, {true, 0}}});
  p.set(kNipOffset, kSequenceBase + 4);
  p.engine.handle_wait({kPid, stopped_status(SIGSEGV)});
  REQUIRE(p.stops.size() == 1);
  CHECK(p.stops[0].host_signal == SIGSEGV);
  CHECK(word_at(p.ops, kSequenceBase + 0xc) == 0x40c2fff4);
}

TEST_CASE("ppc64: another thread that runs into an atomic step's breakpoint waits, unseen, until the step ends") {
  AtAtomicAdd p;
  constexpr pid_t kOther = kPid + 1;
  p.ops.general[kOther].assign(48 * 8, 0);
  p.engine.adopt(kPid, {kPid, kOther}, true, {EngineStop::Kind::Signal, kPid, SIGTRAP});
  p.engine.resume({{kPid, {true, 0}}, {kOther, {}}});
  std::uint64_t at_exit = kSequenceBase + 0xc;
  std::memcpy(p.ops.general[kOther].data() + kNipOffset, &at_exit, 8);
  p.ops.traps[kOther] = {SIGTRAP, 1};
  p.engine.handle_wait({kOther, stopped_status(SIGTRAP)});
  CHECK(p.stops.empty());  // not gdb's breakpoint: nothing to tell
  p.ops.log.clear();
  p.trap_at(at_exit);
  REQUIRE(p.stops.size() == 1);  // the other thread is stopped already: told at once
  CHECK(p.stops[0].tid == kPid);
  CHECK(p.ops.log.end() == std::find(p.ops.log.begin(), p.ops.log.end(), "interrupt 301"));
  // Resumed by gdb, it runs the instruction it stopped at, which is the program's again.
  CHECK(word_at(p.ops, at_exit) == 0x40c2fff4);
  CHECK(*p.engine.pc(kOther) == at_exit);
}

namespace {

std::vector<std::uint8_t> little_endian_words(std::initializer_list<std::uint32_t> words) {
  std::vector<std::uint8_t> out;
  for (std::uint32_t w : words)
    for (unsigned i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(w >> (8 * i)));
  return out;
}

constexpr std::uint64_t kRangeStart = 0x10000b44, kRangeEnd = 0x10000b58, kCallee = 0x10000c00;
// addi r3,r3,1; bl callee; crxor 6,6,6; beq .+8 (inside); blr
const std::vector<std::uint8_t> kRangeCode =
    little_endian_words({0x38630001, 0x480000b9, 0x4cc63182, 0x41820008, 0x4e800020});

}  // namespace

TEST_CASE("ppc64: a range's plan stops at calls and branches out of it, its end, and the instructions with unknown next pcs") {
  auto plan = arch::ppc64::plan_range_step(kRangeStart, kRangeCode, arch::Endian::Little);
  REQUIRE(plan);
  CHECK(plan->exits == std::vector<std::uint64_t>{kRangeEnd, kCallee});
  CHECK(plan->step_points == std::vector<std::uint64_t>{0x10000b54});  // blr; crxor moves no pc
  // sc, scv, traps, bctr and bcctrl are stepped; a conditional branch out of the range is an exit.
  auto more = arch::ppc64::plan_range_step(
      0x1000, little_endian_words({0x44000002, 0x44000001, 0x7fe00008, 0x0c830000, 0x4e800420, 0x4c820421, 0x4082ff00}),
      arch::Endian::Little);
  REQUIRE(more);
  CHECK(more->step_points == std::vector<std::uint64_t>{0x1000, 0x1004, 0x1008, 0x100c, 0x1010, 0x1014});
  CHECK(more->exits == std::vector<std::uint64_t>{0x1018 - 0x100, 0x101c});
  // An ISA 3.1 prefix's suffix is never read as an instruction of its own (here one shaped like b).
  auto prefixed = arch::ppc64::plan_range_step(0x1000, little_endian_words({0x04100000, 0x48000100}), arch::Endian::Little);
  REQUIRE(prefixed);
  CHECK(prefixed->exits == std::vector<std::uint64_t>{0x1008});
  CHECK_FALSE(arch::ppc64::plan_range_step(0x1000, little_endian_words({0x04100000}), arch::Endian::Little));
  CHECK_FALSE(arch::ppc64::plan_range_step(0x1000, std::vector<std::uint8_t>{0x01, 0x00}, arch::Endian::Little));
  // Big-endian words decode the same.
  std::vector<std::uint8_t> big = {0x48, 0x00, 0x00, 0x10};  // b .+16
  auto be = arch::ppc64::plan_range_step(0x1000, big, arch::Endian::Big);
  REQUIRE(be);
  CHECK(be->exits == std::vector<std::uint64_t>{0x1004, 0x1010});
}

TEST_CASE("ppc64: a range step runs the thread on trap instructions at the plan's addresses, not a step at a time") {
  Ppc64Process p;
  std::vector<EngineStop> stops;
  p.engine.set_stop_handler([&](const EngineStop& s) { stops.push_back(s); });
  for (std::size_t i = 0; i < kRangeCode.size(); ++i) p.ops.memory[kRangeStart + i] = kRangeCode[i];
  for (std::uint64_t a : {kCallee, kRangeEnd}) put_word(p.ops, a, 0x60000000);  // nop
  auto trap_word_at = [&](std::uint64_t a) {
    return p.ops.memory[a] == 0x08 && p.ops.memory[a + 1] == 0x00 && p.ops.memory[a + 2] == 0xe0 && p.ops.memory[a + 3] == 0x7f;
  };
  p.engine.resume({{kPid, {.step = true, .host_signal = 0, .range_start = kRangeStart, .range_end = kRangeEnd}}});
  CHECK(p.ops.log.back() == "step 300 sig 0");  // the first instruction, as on x86
  p.set(kNipOffset, kRangeStart + 4);
  p.ops.traps[kPid] = {SIGTRAP, 2 /* TRAP_TRACE */};
  p.engine.handle_wait({kPid, stopped_status(SIGTRAP)});
  CHECK(stops.empty());
  CHECK(p.ops.log.back() == "cont 300 sig 0");
  for (std::uint64_t a : {kRangeEnd, kCallee, std::uint64_t{0x10000b54}}) CHECK(trap_word_at(a));
  // The call was made: the thread stops at the callee's trap, which powerpc reports at the trap itself.
  p.set(kNipOffset, kCallee);
  p.ops.traps[kPid] = {SIGTRAP, 1 /* TRAP_BRKPT */};
  p.engine.handle_wait({kPid, stopped_status(SIGTRAP)});
  REQUIRE(stops.size() == 1);
  CHECK(stops[0].host_signal == SIGTRAP);
  CHECK(*p.engine.pc(kPid) == kCallee);
  for (std::uint64_t a : {kRangeEnd, kCallee, std::uint64_t{0x10000b54}}) CHECK_FALSE(trap_word_at(a));
}

// Out of line on powerpc64: copies that go back with `b`, and the page mapped
// by an `sc` the thread makes, run to its exit stop (a single-step over `sc`
// would run the vDSO's next instruction too).

namespace {

std::vector<std::uint8_t> le_word(std::uint32_t w) {
  return {static_cast<std::uint8_t>(w), static_cast<std::uint8_t>(w >> 8), static_cast<std::uint8_t>(w >> 16),
          static_cast<std::uint8_t>(w >> 24)};
}
std::vector<std::uint8_t> be_word(std::uint32_t w) {
  return {static_cast<std::uint8_t>(w >> 24), static_cast<std::uint8_t>(w >> 16), static_cast<std::uint8_t>(w >> 8),
          static_cast<std::uint8_t>(w)};
}
std::vector<std::uint8_t> concat(std::vector<std::uint8_t> a, const std::vector<std::uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

constexpr pid_t kOtherThread = 301;
constexpr std::uint64_t kVdsoBase = 0x7000, kScInVdso = kVdsoBase + 0x18, kFalseHit = 0x10000b00;
constexpr unsigned kR0 = 0, kR3 = 3 * 8, kR5 = 5 * 8;
// gdb's `$r3 == 1` (reg 3, const8 1, equal, end): false while r3 is 0.
const std::vector<std::uint8_t> kR3Is1 = {0x26, 0x00, 0x03, 0x22, 0x01, 0x13, 0x27};

struct Ppc64FalseConditionBesideAnotherThread {
  ScriptedOps ops;
  Engine engine{arch::arch_by_name("ppc64"), ops};
  std::vector<EngineStop> stops;

  Ppc64FalseConditionBesideAnotherThread() {
    for (pid_t t : {kPid, kOtherThread}) {
      ops.general[t].assign(48 * 8, 0);
      set(t, kNipOffset, 0x10000a00);
      set(t, kTrapOffset, 0x700);
    }
    put_word(ops, kFalseHit, 0x38630001);  // addi r3,r3,1
    for (std::uint64_t a = kVdsoBase; a < kVdsoBase + 0x40; a += 4) put_word(ops, a, 0x60000000);  // nop
    put_word(ops, kScInVdso, 0x44000002);  // sc
    ops.vdso = kVdsoBase;
    engine.adopt(kPid, {kPid, kOtherThread}, true, {EngineStop::Kind::Signal, kPid, SIGTRAP});
    engine.set_stop_handler([this](const EngineStop& s) { stops.push_back(s); });
    REQUIRE(engine.insert_breakpoint(kPid, kFalseHit) == 0);
    engine.set_breakpoint_agent(kPid, kFalseHit, {kR3Is1}, {});
    engine.resume({{kPid, {}}, {kOtherThread, {}}});
  }
  void set(pid_t tid, unsigned offset, std::uint64_t value) { std::memcpy(ops.general[tid].data() + offset, &value, 8); }
  std::uint64_t get(unsigned offset) {
    std::uint64_t value;
    std::memcpy(&value, ops.general[kPid].data() + offset, 8);
    return value;
  }
  // powerpc's trap leaves nip at the trap instruction.
  void hit() {
    set(kPid, kNipOffset, kFalseHit);
    ops.traps[kPid] = {SIGTRAP, 1 /* TRAP_BRKPT */};
    engine.handle_wait({kPid, stopped_status(SIGTRAP)});
  }
  void syscall_stop(bool entry) {
    ops.syscall_entry[kPid] = entry;
    set(kPid, kNipOffset, kScInVdso + 4);
    engine.handle_wait({kPid, stopped_status(SIGTRAP | 0x80)});
  }
  std::vector<std::uint8_t> memory(std::uint64_t at, unsigned n) {
    std::vector<std::uint8_t> out;
    for (unsigned i = 0; i < n; ++i) out.push_back(ops.memory[at + i]);
    return out;
  }
};

}  // namespace

TEST_CASE("ppc64: a copy out of line is the instruction and a `b` back, in the process's byte order") {
  const auto& le = arch::arch_by_name("ppc64");
  auto copy = le.out_of_line_copy(0x10000b00, le_word(0x38630001), 0x0fff0000);  // addi r3,r3,1
  REQUIRE(copy);
  CHECK(copy->length == 4);
  // b +0x10b00: from 0x0fff0004 to 0x10000b04.
  CHECK(copy->bytes == concat(le_word(0x38630001), le_word(0x48010b00)));
  auto backwards = le.out_of_line_copy(0x10000b00, le_word(0x38630001), 0x10100000);
  REQUIRE(backwards);
  CHECK(backwards->bytes == concat(le_word(0x38630001), le_word(0x48000000 | (0x03fffffcu & static_cast<std::uint32_t>(
                                                                                  0x10000b04 - 0x10100004)))));
  auto big = arch::Ppc64Arch(arch::Endian::Big).out_of_line_copy(0x10000b00, be_word(0x38630001), 0x0fff0000);
  REQUIRE(big);
  CHECK(big->bytes == concat(be_word(0x38630001), be_word(0x48010b00)));
  CHECK_FALSE(le.out_of_line_copy(0x10000b00, le_word(0x38630001), 0x10000b00 + (32u << 20) + 4));  // past b's reach
}

TEST_CASE("ppc64: what branches, traps, enters the kernel, reserves or is prefixed is not copied") {
  const auto& le = arch::arch_by_name("ppc64");
  for (std::uint32_t w : {0x48000010u,   // b
                          0x48000011u,   // bl
                          0x4082fff0u,   // bne
                          0x4e800020u,   // blr
                          0x4e800420u,   // bctr
                          0x4c00012cu,   // isync
                          0x4c620004u,   // addpcis r3,0 (lnia)
                          0x44000002u,   // sc
                          0x44000001u,   // scv 0
                          0x7fe00008u,   // trap
                          0x0c030000u,   // twi 0,r3,0
                          0x7d2018a8u,   // ldarx r9,0,r3
                          0x7d20192du,   // stdcx. r9,0,r3
                          0x04100000u})  // a prefix (pla's first word)
    CHECK_MESSAGE(!le.out_of_line_copy(0x10000b00, le_word(w), 0x0fff0000), "copied 0x", std::hex, w);
  CHECK(le.out_of_line_copy(0x10000b00, le_word(0xf8610020), 0x0fff0000));  // std r3,32(r1)
}

TEST_CASE("ppc64: an `sc` failed when CR0.SO is set (r3 holds +errno); `scv` when r3 is -errno") {
  struct Registers : arch::RegisterAccess {
    std::map<std::string, std::uint64_t, std::less<>> values;
    std::optional<std::uint64_t> get(std::string_view name) override {
      auto it = values.find(name);
      return it == values.end() ? std::nullopt : std::optional(it->second);
    }
    void set(std::string_view name, std::uint64_t value) override { values[std::string(name)] = value; }
  } regs;
  const auto& ppc = arch::arch_by_name("ppc64");
  regs.values = {{"trap", 0xc00}, {"cr", 0x20000000}, {"r3", 0x7fff00000000}};
  CHECK(ppc.syscall_succeeded(regs) == 0x7fff00000000);
  regs.values = {{"trap", 0xc00}, {"cr", 0x10000000}, {"r3", 1}};  // EPERM
  CHECK_FALSE(ppc.syscall_succeeded(regs));
  regs.values = {{"trap", 0x3000}, {"cr", 0}, {"r3", static_cast<std::uint64_t>(-1)}};
  CHECK_FALSE(ppc.syscall_succeeded(regs));
  regs.values = {{"trap", 0x3000}, {"cr", 0x10000000}, {"r3", 0x1000}};  // SO means nothing to scv
  CHECK(ppc.syscall_succeeded(regs) == 0x1000);
}

TEST_CASE("ppc64: a false hit maps a page with an `sc` in the vDSO, run to its exit stop, then goes on in a copy") {
  Ppc64FalseConditionBesideAnotherThread f;
  f.hit();
  CHECK(f.stops.empty());
  CHECK(f.ops.log.back() == "syscall 300 sig 0");  // PTRACE_SYSCALL: a single-step would overshoot the sc
  CHECK(f.get(kNipOffset) == kScInVdso);
  CHECK(f.get(kR0) == 90);                // mmap
  CHECK(f.get(kR3) == 0x0fff0000);        // just below the 16 MiB the code is in: within b's reach
  CHECK(f.get(kR5) == 5);                 // PROT_READ | PROT_EXEC
  CHECK(f.memory(kFalseHit, 4) == le_word(0x7fe00008));  // the breakpoint never left
  f.syscall_stop(true);
  CHECK(f.stops.empty());
  CHECK(f.ops.log.back() == "syscall 300 sig 0");  // on to the exit
  f.set(kPid, kR3, 0x0fff0000);
  f.syscall_stop(false);
  CHECK(f.stops.empty());
  CHECK(f.get(kNipOffset) == kFalseHit);  // its registers back, at the breakpoint
  CHECK(f.get(kR3) == 0);
  CHECK(f.ops.log.back() == "cont 300 sig 0");
  f.hit();
  CHECK(f.stops.empty());
  CHECK(f.get(kNipOffset) == 0x0fff0000);
  CHECK(f.ops.log.back() == "cont 300 sig 0");
  CHECK(f.memory(0x0fff0000, 8) == concat(le_word(0x38630001), le_word(0x48010b00)));
}

TEST_CASE("ppc64: an mmap refused (CR0.SO) is not asked for again: hits are stepped over in place") {
  Ppc64FalseConditionBesideAnotherThread f;
  f.hit();
  f.syscall_stop(true);
  f.set(kPid, kR3, 1);  // EPERM
  f.set(kPid, kCcrOffset, 0x10000000);
  f.syscall_stop(false);
  CHECK(f.get(kNipOffset) == kFalseHit);
  CHECK(f.get(kCcrOffset) == 0);  // its own registers back
  f.ops.log.clear();
  f.hit();
  CHECK(f.stops.empty());
  CHECK(f.ops.log.back() == "interrupt 301");  // in place: the other thread is stopped first
}
