// The powerpc64 rules, on scripted register images (they run on any host).
#include <doctest/doctest.h>
#include <signal.h>

#include <cstring>

#include "arch/arch.hpp"
#include "arch/ppc64/hw_debug.hpp"
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

TEST_CASE("ppc64: a thread's dtv pointer is the last word of the TCB, 0x7008 below r13") {
  Ppc64Process p;
  p.set(13 * 8, 0x7fffb7f77100);
  CHECK(p.engine.dtv_pointer_address(kPid) == 0x7fffb7f77100 - 0x7008);
}
