// Range stepping (vCont;r): which instructions a range's plan stops at, and
// how the engine runs a thread through a range on breakpoints of its own.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/ptrace.h>

#include <cstring>
#include <vector>

#include "arch/arch.hpp"
#include "arch/x86_64/instructions.hpp"
#include "server/engine.hpp"
#include "tests/engine/scripted_ops.hpp"

using namespace ustub;
using namespace ustub::testing;

namespace {

constexpr std::uint64_t kStart = 0x1000;

// 0x1000 add $1,%rax        48 83 c0 01
// 0x1004 cmp $9,%rax        48 83 f8 09
// 0x1008 jne 0x1000         75 f6          back into the range
// 0x100a je  0x2000         0f 84 f0 0f 00 00   out of it
// 0x1010 call 0x3000        e8 eb 1f 00 00
// 0x1015 call *%rax         ff d0
// 0x1017 syscall            0f 05
// 0x1019 ret                c3
// end 0x101a
const std::vector<std::uint8_t> kRange = {0x48, 0x83, 0xc0, 0x01, 0x48, 0x83, 0xf8, 0x09, 0x75, 0xf6,
                                          0x0f, 0x84, 0xf0, 0x0f, 0x00, 0x00, 0xe8, 0xeb, 0x1f, 0x00,
                                          0x00, 0xff, 0xd0, 0x0f, 0x05, 0xc3};
constexpr std::uint64_t kEnd = kStart + 0x1a;

}  // namespace

TEST_CASE("x86-64 range plan: exits where branches and calls leave the range, step points where the next pc is unknown") {
  auto plan = arch::x86_64::plan_range_step(kStart, kRange);
  REQUIRE(plan);
  CHECK(plan->exits == std::vector<std::uint64_t>{kEnd, 0x2000, 0x3000});
  CHECK(plan->step_points == std::vector<std::uint64_t>{0x1015, 0x1017, 0x1019});
}

TEST_CASE("x86-64 range plan: a call or jump into the range itself is no exit") {
  // 0x1000 call 0x1005 ; 0x1005 jmp 0x1000
  std::vector<std::uint8_t> code = {0xe8, 0x00, 0x00, 0x00, 0x00, 0xeb, 0xf9};
  auto plan = arch::x86_64::plan_range_step(kStart, code);
  REQUIRE(plan);
  CHECK(plan->exits == std::vector<std::uint64_t>{kStart + code.size()});
  CHECK(plan->step_points.empty());
}

TEST_CASE("x86-64 range plan: none for bytes that do not decode, or an instruction cut by the range's end") {
  CHECK_FALSE(arch::x86_64::plan_range_step(kStart, std::vector<std::uint8_t>{0x48, 0x83, 0xc0}));
  CHECK_FALSE(arch::x86_64::plan_range_step(kStart, std::vector<std::uint8_t>{0x06}));  // push es: not in 64-bit mode
  CHECK_FALSE(arch::x86_64::plan_range_step(kStart, std::vector<std::uint8_t>{}));
}

namespace {

struct InRange {
  ScriptedOps ops;
  Engine engine{arch::arch_by_name("x86_64"), ops};
  std::vector<EngineStop> stops;
  static constexpr pid_t kPid = 100;
  static constexpr pid_t kOther = 101;

  explicit InRange(bool two_threads = false) {
    for (std::size_t i = 0; i < kRange.size(); ++i) ops.memory[kStart + i] = kRange[i];
    for (std::uint64_t a : {kEnd, std::uint64_t{0x2000}, std::uint64_t{0x3000}}) ops.memory[a] = 0x90;
    ops.set_pc(kPid, kStart);
    std::vector<pid_t> tids = {kPid};
    if (two_threads) {
      ops.set_pc(kOther, 0x2000);
      tids.push_back(kOther);
    }
    engine.adopt(kPid, tids, true, {EngineStop::Kind::Signal, kPid, SIGTRAP});
    engine.set_stop_handler([this](const EngineStop& s) { stops.push_back(s); });
  }
  ThreadResume range_step(pid_t tid = kPid) {
    return {tid, {.step = true, .host_signal = 0, .range_start = kStart, .range_end = kEnd}};
  }
  // The thread ran into the int3 at `address`: x86 reports the pc after it.
  void trap_at_breakpoint(std::uint64_t address) {
    ops.set_pc(kPid, address + 1);
    ops.traps[kPid] = {SIGTRAP, 0x80 /* SI_KERNEL */};
    engine.handle_wait({kPid, stopped_status(SIGTRAP)});
  }
  void single_step_to(std::uint64_t address) {
    ops.set_pc(kPid, address);
    ops.traps[kPid] = {SIGTRAP, 2 /* TRAP_TRACE */};
    engine.handle_wait({kPid, stopped_status(SIGTRAP)});
  }
};

}  // namespace

TEST_CASE("a range step runs the thread on breakpoints at the range's exits, and gdb hears of it only once it leaves") {
  InRange r;
  r.ops.log.clear();
  r.engine.resume({r.range_step()});
  // Its first instruction is single-stepped: then it is known what else runs.
  CHECK(r.ops.log.back() == "step 100 sig 0");
  CHECK(r.ops.memory[0x2000] == 0x90);
  r.single_step_to(0x1004);
  CHECK(r.stops.empty());
  CHECK(r.ops.log.back() == "cont 100 sig 0");  // not PTRACE_SINGLESTEP
  for (std::uint64_t a : {kEnd, std::uint64_t{0x2000}, std::uint64_t{0x3000}, std::uint64_t{0x1015}})
    CHECK(r.ops.memory[a] == 0xcc);
  std::vector<std::uint8_t> seen(1);
  r.engine.read_memory(InRange::kPid, 0x2000, seen);
  CHECK(seen[0] == 0x90);  // gdb never sees them

  r.trap_at_breakpoint(0x2000);  // the je was taken
  REQUIRE(r.stops.size() == 1);
  CHECK(r.stops[0].host_signal == SIGTRAP);
  CHECK_FALSE(r.stops[0].software_breakpoint);  // a step's end, not a breakpoint of gdb's
  CHECK(*r.engine.pc(InRange::kPid) == 0x2000);  // on the exit, not past the int3
  for (std::uint64_t a : {kEnd, std::uint64_t{0x2000}, std::uint64_t{0x3000}, std::uint64_t{0x1015}})
    CHECK(r.ops.memory[a] != 0xcc);  // all taken out
}

TEST_CASE("a range step single-steps an instruction whose next pc is unknown, then runs on unseen") {
  InRange r;
  r.engine.resume({r.range_step()});
  r.single_step_to(0x1004);
  r.ops.log.clear();
  r.trap_at_breakpoint(0x1015);  // call *%rax
  CHECK(r.stops.empty());
  CHECK(*r.engine.pc(InRange::kPid) == 0x1015);
  CHECK(r.ops.log.back() == "step 100 sig 0");
  CHECK(r.ops.memory[0x1015] == 0xff);  // the instruction stepped is the program's own
  // Into a function outside the range: the step is done.
  r.single_step_to(0x5000);
  REQUIRE(r.stops.size() == 1);
  CHECK(r.stops[0].host_signal == SIGTRAP);
}

TEST_CASE("a range step that stays in the range after a single-step plants its exits again and continues") {
  InRange r;
  r.engine.resume({r.range_step()});
  r.single_step_to(0x1004);
  r.trap_at_breakpoint(0x1017);  // syscall: a step point
  r.ops.log.clear();
  r.single_step_to(0x1019);     // still in the range, at the ret
  CHECK(r.stops.empty());
  CHECK(r.ops.log.back() == "step 100 sig 0");  // a ret is stepped too
  r.single_step_to(0x1008);     // say the ret came back into the range
  CHECK(r.stops.empty());
  CHECK(r.ops.log.back() == "cont 100 sig 0");
  CHECK(r.ops.memory[0x3000] == 0xcc);
}

TEST_CASE("a range step with gdb's breakpoint at an exit leaves it gdb's, and reports the stop there") {
  InRange r;
  REQUIRE(r.engine.insert_breakpoint(InRange::kPid, 0x3000) == 0);
  r.engine.resume({r.range_step()});
  r.single_step_to(0x1004);
  r.trap_at_breakpoint(0x3000);
  REQUIRE(r.stops.size() == 1);
  CHECK(r.stops[0].software_breakpoint);  // gdb's own breakpoint, hit
  CHECK(*r.engine.pc(InRange::kPid) == 0x3000);
  CHECK(r.ops.memory[0x3000] == 0xcc);     // still planted: it is gdb's
  CHECK(r.ops.memory[0x2000] == 0x90);     // ours are out
}

TEST_CASE("a range step that stops for a signal ends, and takes its breakpoints out") {
  InRange r;
  r.engine.resume({r.range_step()});
  r.single_step_to(0x1004);
  REQUIRE(r.ops.memory[kEnd] == 0xcc);
  r.engine.handle_wait({InRange::kPid, stopped_status(SIGSEGV)});
  REQUIRE(r.stops.size() == 1);
  CHECK(r.stops[0].host_signal == SIGSEGV);
  CHECK(r.ops.memory[kEnd] != 0xcc);
  CHECK(r.ops.memory[0x2000] == 0x90);
}

TEST_CASE("a range step single-steps while another thread of the process runs, which could meet its breakpoints") {
  InRange r(true);
  r.ops.log.clear();
  r.engine.resume({r.range_step(), {InRange::kOther, {}}});
  CHECK(r.ops.memory[0x2000] == 0x90);  // nothing planted
  CHECK(std::find(r.ops.log.begin(), r.ops.log.end(), "step 100 sig 0") != r.ops.log.end());
  r.single_step_to(0x1004);  // still in the range: stepped again, unseen
  CHECK(r.stops.empty());
  CHECK(r.ops.log.back() == "step 100 sig 0");
}

TEST_CASE("a range step alone in its process with the other threads stopped runs on breakpoints") {
  InRange r(true);
  r.ops.log.clear();
  r.engine.resume({r.range_step()});  // scheduler-locking: only this thread
  r.single_step_to(0x1004);
  CHECK(r.ops.log.back() == "cont 100 sig 0");
}

namespace {

// gdb's `value == 3` for an int at rbp-4 (reg 6, const8 -4 ext 8, add, ref32, ext 32, const8 3, equal, end).
const std::vector<std::uint8_t> kValueIs3 = {0x26, 0x00, 0x06, 0x22, 0xfc, 0x16, 0x08, 0x02, 0x19,
                                             0x16, 0x20, 0x22, 0x03, 0x13, 0x27};
constexpr unsigned kRbpOffset = 4 * 8;  // in NT_PRSTATUS
constexpr std::uint64_t kFrame = 0x8000;

struct AtConditionalBreakpoint : InRange {
  explicit AtConditionalBreakpoint(bool two_threads = false) : InRange(two_threads) {
    REQUIRE(engine.insert_breakpoint(kPid, 0x2000) == 0);
    engine.set_breakpoint_conditions(kPid, 0x2000, {kValueIs3});
    std::uint64_t rbp = kFrame;
    std::memcpy(ops.general[kPid].data() + kRbpOffset, &rbp, 8);
  }
  void value_is(std::uint32_t v) {
    for (unsigned i = 0; i < 4; ++i) ops.memory[kFrame - 4 + i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
};

}  // namespace

TEST_CASE("a breakpoint hit whose condition is false is stepped over here, and gdb never hears of it") {
  AtConditionalBreakpoint b;
  b.value_is(2);
  b.engine.resume({{InRange::kPid, {}}});
  b.ops.log.clear();
  b.trap_at_breakpoint(0x2000);
  CHECK(b.stops.empty());
  CHECK(b.ops.log.back() == "step 100 sig 0");
  CHECK(b.ops.memory[0x2000] == 0x90);  // the instruction itself is stepped
  CHECK(b.ops.pc_of(InRange::kPid) == 0x2000);
  b.single_step_to(0x2001);
  CHECK(b.stops.empty());
  CHECK(b.ops.memory[0x2000] == 0xcc);  // back in
  CHECK(b.ops.log.back() == "cont 100 sig 0");  // on, as gdb asked
}

TEST_CASE("a breakpoint hit whose condition is true is told as gdb's breakpoint") {
  AtConditionalBreakpoint b;
  b.value_is(3);
  b.engine.resume({{InRange::kPid, {}}});
  b.trap_at_breakpoint(0x2000);
  REQUIRE(b.stops.size() == 1);
  CHECK(b.stops[0].software_breakpoint);
  CHECK(*b.engine.pc(InRange::kPid) == 0x2000);
}

TEST_CASE("a condition that cannot be evaluated, or gdb's conditions gone, means every hit is told") {
  AtConditionalBreakpoint b;  // the value's memory is unreadable
  b.engine.resume({{InRange::kPid, {}}});
  b.trap_at_breakpoint(0x2000);
  CHECK(b.stops.size() == 1);
  AtConditionalBreakpoint c;
  c.value_is(2);
  c.engine.set_breakpoint_conditions(InRange::kPid, 0x2000, {});  // gdb re-sent Z0 without any
  c.engine.resume({{InRange::kPid, {}}});
  c.trap_at_breakpoint(0x2000);
  CHECK(c.stops.size() == 1);
}

TEST_CASE("a false condition is told anyway while another thread runs, which could pass the breakpoint unseen") {
  AtConditionalBreakpoint b(true);
  b.value_is(2);
  b.engine.resume({{InRange::kPid, {}}, {InRange::kOther, {}}});
  b.trap_at_breakpoint(0x2000);
  b.engine.handle_wait({InRange::kOther, stopped_status(SIGTRAP, PTRACE_EVENT_STOP)});
  REQUIRE(b.stops.size() == 1);  // gdb checks the condition itself and goes on
  CHECK(b.stops[0].software_breakpoint);
}

TEST_CASE("a false condition on the program's own breakpoint instruction is told: stepping it would trap for ever") {
  InRange r;
  r.ops.memory[0x2000] = 0xcc;  // the program's own int3 (gdb's "permanent" breakpoint)
  REQUIRE(r.engine.insert_breakpoint(InRange::kPid, 0x2000) == 0);
  r.engine.set_breakpoint_conditions(InRange::kPid, 0x2000, {{0x22, 0x00, 0x27}});  // const8 0; end
  r.engine.resume({{InRange::kPid, {}}});
  r.trap_at_breakpoint(0x2000);
  CHECK(r.stops.size() == 1);
}

TEST_CASE("after stepping over a false condition the thread goes on without the signal it was resumed with") {
  AtConditionalBreakpoint b;
  b.value_is(2);
  b.engine.resume({{InRange::kPid, {.step = false, .host_signal = SIGALRM}}});  // into its handler, which has the breakpoint
  b.trap_at_breakpoint(0x2000);
  b.single_step_to(0x2001);
  CHECK(b.stops.empty());
  CHECK(b.ops.log.back() == "cont 100 sig 0");  // SIGALRM again would run the handler again, for ever
}

TEST_CASE("x86-64: syscall, sysenter and int enter the kernel; ordinary instructions and their prefixes do not") {
  CHECK(arch::x86_64::enters_kernel(std::vector<std::uint8_t>{0x0f, 0x05}));
  CHECK(arch::x86_64::enters_kernel(std::vector<std::uint8_t>{0x0f, 0x34}));
  CHECK(arch::x86_64::enters_kernel(std::vector<std::uint8_t>{0xcd, 0x80}));
  CHECK_FALSE(arch::x86_64::enters_kernel(std::vector<std::uint8_t>{0x48, 0x83, 0xc0, 0x01, 0x0f, 0x05}));
  CHECK(arch::x86_64::enters_kernel(std::vector<std::uint8_t>{0x0f}));  // undecodable: assume so
}

TEST_CASE("a false condition at a syscall instruction is told: a step over it can make threads, and stays gdb's") {
  InRange r;
  r.ops.memory[0x2000] = 0x0f;
  r.ops.memory[0x2001] = 0x05;  // syscall
  REQUIRE(r.engine.insert_breakpoint(InRange::kPid, 0x2000) == 0);
  r.engine.set_breakpoint_conditions(InRange::kPid, 0x2000, {{0x22, 0x00, 0x27}});  // const8 0; end
  r.engine.resume({{InRange::kPid, {}}});
  r.trap_at_breakpoint(0x2000);
  CHECK(r.stops.size() == 1);
}
