// Breakpoint conditions evaluated in ustub (ConditionalBreakpoints): which
// hits are stepped over unseen, which are told, and how the thread goes on.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/ptrace.h>

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "tests/engine/x86_range_program.hpp"

using namespace ustub;
using namespace ustub::testing;

namespace {

// gdb's `value == 3` for an int at rbp-4 (reg 6, const8 -4 ext 8, add, ref32, ext 32, const8 3, equal, end).
const std::vector<std::uint8_t> kValueIs3 = {0x26, 0x00, 0x06, 0x22, 0xfc, 0x16, 0x08, 0x02, 0x19,
                                             0x16, 0x20, 0x22, 0x03, 0x13, 0x27};
constexpr unsigned kRbpOffset = 4 * 8;  // in NT_PRSTATUS
constexpr std::uint64_t kFrame = 0x8000;

struct AtConditionalBreakpoint : InRange {
  explicit AtConditionalBreakpoint(bool two_threads = false) : InRange(two_threads) {
    REQUIRE(engine.insert_breakpoint(kPid, 0x2000) == 0);
    engine.set_breakpoint_agent(kPid, 0x2000, {kValueIs3}, {});
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
  c.engine.set_breakpoint_agent(InRange::kPid, 0x2000, {}, {});  // gdb re-sent Z0 without any
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

TEST_CASE("a false hit met while everything stops for a Ctrl-C is not told: the thread waits on the breakpoint") {
  AtConditionalBreakpoint b(true);
  b.value_is(2);
  b.engine.resume({{InRange::kPid, {}}, {InRange::kOther, {}}});
  b.engine.interrupt();
  b.trap_at_breakpoint(0x2000);  // it hit the breakpoint before the interrupt landed
  CHECK(b.stops.empty());
  b.engine.handle_wait({InRange::kOther, stopped_status(SIGTRAP, PTRACE_EVENT_STOP)});
  REQUIRE(b.stops.size() == 1);
  CHECK(b.stops[0].host_signal == SIGINT);  // the Ctrl-C's answer, not the hit
  CHECK_FALSE(b.stops[0].software_breakpoint);
  CHECK(*b.engine.pc(InRange::kPid) == 0x2000);  // on the breakpoint: it meets it again
  // Resumed, it runs into it again, and that hit is judged as any other.
  b.engine.resume({{InRange::kPid, {}}});
  CHECK(b.ops.log.back() == "cont 100 sig 0");
  b.trap_at_breakpoint(0x2000);
  CHECK(b.stops.size() == 1);
  CHECK(b.ops.log.back() == "step 100 sig 0");
}

TEST_CASE("a false condition is stepped over while the process's other threads are held, and beside other processes") {
  // gdb's step over a breakpoint holds the rest; a fork child has memory of
  // its own (step-over-exit.exp: gdb's own step over the child's exit syscall
  // leaves it waiting for an end that never comes).
  AtConditionalBreakpoint b(true);
  b.value_is(2);
  constexpr pid_t kOtherProcess = 200;
  b.ops.set_pc(kOtherProcess, 0x2000);
  b.engine.add_inferior(kOtherProcess, {kOtherProcess}, false, {EngineStop::Kind::Signal, kOtherProcess, SIGTRAP});
  b.engine.resume({{InRange::kPid, {}}});  // kOther and the other process stay stopped
  b.trap_at_breakpoint(0x2000);
  CHECK(b.stops.empty());
  CHECK(b.ops.log.back() == "step 100 sig 0");
}

TEST_CASE("a false condition on the program's own breakpoint instruction is told: stepping it would trap for ever") {
  InRange r;
  r.ops.memory[0x2000] = 0xcc;  // the program's own int3 (gdb's "permanent" breakpoint)
  REQUIRE(r.engine.insert_breakpoint(InRange::kPid, 0x2000) == 0);
  r.engine.set_breakpoint_agent(InRange::kPid, 0x2000, {{0x22, 0x00, 0x27}}, {});  // const8 0; end
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

TEST_CASE("a false condition at a syscall instruction is stepped over too; a fork it makes is told, the breakpoint back in both") {
  InRange r;
  r.engine.set_report_fork_events(true, true);
  r.ops.memory[0x2000] = 0x0f;
  r.ops.memory[0x2001] = 0x05;  // syscall
  REQUIRE(r.engine.insert_breakpoint(InRange::kPid, 0x2000) == 0);
  r.engine.set_breakpoint_agent(InRange::kPid, 0x2000, {{0x22, 0x00, 0x27}}, {});  // const8 0; end
  r.engine.resume({{InRange::kPid, {}}});
  r.trap_at_breakpoint(0x2000);
  CHECK(r.stops.empty());
  CHECK(r.ops.log.back() == "step 100 sig 0");
  CHECK(r.ops.memory[0x2000] == 0x0f);
  constexpr pid_t kChild = 200;
  r.ops.event_messages[InRange::kPid] = kChild;
  r.ops.writes.clear();
  r.engine.handle_wait({InRange::kPid, stopped_status(SIGTRAP, PTRACE_EVENT_FORK)});
  CHECK(r.ops.memory[0x2000] == 0xcc);
  // The child's copy was taken with the breakpoint out.
  CHECK(std::count(r.ops.writes.begin(), r.ops.writes.end(), std::pair<pid_t, std::uint64_t>{InRange::kPid, 0x2000}) == 1);
  CHECK(std::count(r.ops.writes.begin(), r.ops.writes.end(), std::pair<pid_t, std::uint64_t>{kChild, 0x2000}) == 1);
  r.engine.handle_wait({kChild, stopped_status(SIGTRAP, PTRACE_EVENT_STOP)});  // its first stop
  REQUIRE(r.stops.size() == 1);
  CHECK(r.stops[0].kind == EngineStop::Kind::Forked);
  CHECK(r.stops[0].child_pid == kChild);
}

TEST_CASE("a false condition at a syscall that makes a thread: the thread comes after the breakpoint is back, and both run") {
  InRange r;
  r.ops.memory[0x2000] = 0x0f;
  r.ops.memory[0x2001] = 0x05;
  REQUIRE(r.engine.insert_breakpoint(InRange::kPid, 0x2000) == 0);
  r.engine.set_breakpoint_agent(InRange::kPid, 0x2000, {{0x22, 0x00, 0x27}}, {});
  r.engine.resume({{InRange::kPid, {}}});
  r.trap_at_breakpoint(0x2000);
  r.ops.event_messages[InRange::kPid] = 103;
  r.engine.handle_wait({InRange::kPid, stopped_status(SIGTRAP, PTRACE_EVENT_CLONE)});
  CHECK(r.ops.memory[0x2000] == 0xcc);
  CHECK(r.ops.log.back() == "cont 100 sig 0");  // on, as gdb asked: the step's end is not needed
  r.engine.handle_wait({103, stopped_status(SIGTRAP, PTRACE_EVENT_STOP)});
  CHECK(r.ops.log.back() == "cont 103 sig 0");
  CHECK(r.stops.empty());
}

namespace {

// gdb's agent dprintf "v=%d\n" of the constant 7: const8 7; const8 0 (channel); const8 0 (function); printf 1; end.
const std::vector<std::uint8_t> kPrintSeven = {0x22, 7, 0x22, 0, 0x22, 0, 0x34, 1, 0, 6, 'v', '=', '%', 'd', '\n', 0, 0x27};

struct AtDprintf : AtConditionalBreakpoint {
  std::string printed;
  AtDprintf() {
    engine.set_breakpoint_agent(kPid, 0x2000, {kValueIs3}, {kPrintSeven});
    engine.set_agent_output([this](const std::string& text) { printed += text; });
  }
};

}  // namespace

TEST_CASE("a dprintf's commands run at each hit whose condition holds, and the hit goes on unseen") {
  AtDprintf b;
  b.value_is(2);
  b.engine.resume({{InRange::kPid, {}}});
  b.trap_at_breakpoint(0x2000);
  CHECK(b.printed.empty());  // condition false: nothing to print
  b.single_step_to(0x2001);
  b.value_is(3);
  b.trap_at_breakpoint(0x2000);
  CHECK(b.printed == "v=7\n");
  CHECK(b.stops.empty());
  CHECK(b.ops.log.back() == "step 100 sig 0");  // over it, as a false condition's hit
}

TEST_CASE("a dprintf hit that must be told runs its commands once, even when gdb never takes it and it is hit again") {
  AtDprintf b;
  b.value_is(3);
  b.engine.set_non_stop(true);  // no step-over here: the hit is told
  b.engine.resume({{InRange::kPid, {}}});
  b.trap_at_breakpoint(0x2000);
  CHECK(b.printed == "v=7\n");
  CHECK(b.stops.size() == 1);
  // Resumed where it is (its pc still at the breakpoint), it traps there again: the same hit.
  b.engine.resume({{InRange::kPid, {}}});
  b.trap_at_breakpoint(0x2000);
  CHECK(b.printed == "v=7\n");
  // Once it has been past the breakpoint, the next hit is a new one.
  b.engine.resume({{InRange::kPid, {.step = true}}});
  b.single_step_to(0x2001);
  b.engine.resume({{InRange::kPid, {}}});
  b.trap_at_breakpoint(0x2000);
  CHECK(b.printed == "v=7\nv=7\n");
}

TEST_CASE("events are collected in bounded batches, so threads that stop again at once cannot starve gdb's packets") {
  InRange r;
  r.engine.set_pass_signals({SIGUSR1});
  r.engine.resume({{InRange::kPid, {}}});
  for (int i = 0; i < 3; ++i) r.ops.pending.push_back({InRange::kPid, stopped_status(SIGUSR1)});
  CHECK(r.engine.drain_events(2));  // stopped at the limit: more may be ready
  CHECK(r.ops.pending.size() == 1);
  CHECK(std::count(r.ops.log.begin(), r.ops.log.end(), "cont 100 sig " + std::to_string(SIGUSR1)) == 2);
  CHECK_FALSE(r.engine.drain_events(2));  // all in
  CHECK(r.ops.pending.empty());
  CHECK(r.stops.empty());
}
