// Range stepping (vCont;r): which instructions a range's plan stops at, and
// how the engine runs a thread through a range on breakpoints of its own.
#include <doctest/doctest.h>

#include <vector>

#include "arch/x86_64/instructions.hpp"
#include "tests/engine/x86_range_program.hpp"

using namespace ustub;
using namespace ustub::testing;

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
