#include <doctest/doctest.h>
#include <signal.h>
#include <sys/ptrace.h>

#include <cstring>
#include <deque>
#include <map>

#include "arch/arch.hpp"
#include "server/engine.hpp"
#include "tests/engine/scripted_ops.hpp"

using namespace ustub;

namespace {

using namespace ustub::testing;

struct Fixture {
  ScriptedOps ops;
  Engine engine{arch::arch_by_name("x86_64"), ops};
  std::vector<EngineStop> stops;
  static constexpr pid_t kPid = 100;

  Fixture() {
    ops.set_pc(kPid, 0x1000);
    for (std::uint64_t a = 0x1000; a < 0x1010; ++a) ops.memory[a] = 0x90;
    engine.adopt(kPid, {kPid}, true, {EngineStop::Kind::Signal, kPid, SIGTRAP});
    engine.set_stop_handler([this](const EngineStop& s) { stops.push_back(s); });
  }
  void continue_all() { engine.resume({{kPid, {false, 0}}}); }
  void land(int status) { engine.handle_wait({kPid, status}); }
};

}  // namespace

TEST_CASE("a resume requested before the interrupt's stop lands is applied, not lost") {
  Fixture f;
  f.continue_all();
  f.engine.interrupt();
  CHECK(f.ops.log.back() == "interrupt 100");
  // gdb resumes again before the kernel has reported the stop.
  f.engine.resume({{Fixture::kPid, {true, 0}}});
  CHECK(f.ops.log.back() == "interrupt 100");  // nothing done yet: the thread is not stopped
  f.land(stopped_status(SIGTRAP, PTRACE_EVENT_STOP));
  CHECK(f.ops.log.back() == "step 100 sig 0");  // applied when the stop landed
  CHECK(f.stops.empty());                       // and that stop was not reported
  CHECK(f.engine.running());
}

TEST_CASE("an interrupt with no resume behind it reports SIGINT") {
  Fixture f;
  f.continue_all();
  f.engine.interrupt();
  f.land(stopped_status(SIGTRAP, PTRACE_EVENT_STOP));
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].host_signal == SIGINT);
  CHECK_FALSE(f.engine.running());
}

TEST_CASE("a stale interrupt stop after an earlier event is swallowed") {
  Fixture f;
  f.continue_all();
  f.engine.interrupt();
  // A signal wins the race against PTRACE_INTERRUPT and is reported …
  f.land(stopped_status(SIGUSR1));
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].host_signal == SIGUSR1);
  // … gdb passes it on; then the interrupt's own stop arrives late.
  f.engine.resume({{Fixture::kPid, {false, SIGUSR1}}});
  CHECK(f.ops.log.back() == "cont 100 sig 10");
  f.land(stopped_status(SIGTRAP, PTRACE_EVENT_STOP));
  CHECK(f.stops.size() == 1);                    // not reported
  CHECK(f.ops.log.back() == "cont 100 sig 0");  // resumed, signal not delivered twice
}

TEST_CASE("hitting a breakpoint reports swbreak with the pc moved back onto it") {
  Fixture f;
  REQUIRE(f.engine.insert_breakpoint(0x1004) == 0);
  CHECK(f.ops.memory[0x1004] == 0xcc);
  std::uint8_t shown[8];
  REQUIRE(f.engine.read_memory(0x1000, shown) == 8);
  CHECK(shown[4] == 0x90);  // gdb never sees its own int3
  f.continue_all();
  f.ops.set_pc(Fixture::kPid, 0x1005);
  f.ops.traps[Fixture::kPid] = {SIGTRAP, 0x80};
  f.land(stopped_status(SIGTRAP));
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].software_breakpoint);
  CHECK(f.engine.pc(Fixture::kPid) == 0x1004);
}

TEST_CASE("resuming at an inserted breakpoint runs into it: gdb steps over its own breakpoints") {
  // gdb removes a breakpoint before stepping off it; when it leaves one in
  // place at the pc (a jump, a skipped permanent breakpoint) it wants the hit.
  Fixture f;
  REQUIRE(f.engine.insert_breakpoint(0x1000) == 0);
  f.engine.resume({{Fixture::kPid, {false, SIGUSR1}}});
  // The signal goes with it (sent: the thread is not at a signal's delivery-stop).
  CHECK(f.ops.log.back() == "cont 100 sig 0");
  CHECK(f.ops.log[f.ops.log.size() - 2] == "tgkill 100 " + std::to_string(SIGUSR1));
  CHECK(f.ops.memory[0x1000] == 0xcc);
  f.ops.set_pc(Fixture::kPid, 0x1001);
  f.ops.traps[Fixture::kPid] = {SIGTRAP, 0x80};
  f.land(stopped_status(SIGTRAP));
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].software_breakpoint);
  CHECK(f.engine.pc(Fixture::kPid) == 0x1000);
}

TEST_CASE("a breakpoint whose code was replaced (library unloaded, another loaded there) is planted afresh") {
  Fixture f;
  REQUIRE(f.engine.insert_breakpoint(0x1004) == 0);
  f.ops.memory[0x1004] = 0x55;  // dlclose + dlopen: new code, no int3, gdb never said z0
  REQUIRE(f.engine.insert_breakpoint(0x1004) == 0);
  CHECK(f.ops.memory[0x1004] == 0xcc);
  f.ops.memory[0x1004] = 0x66;  // replaced again: removing must not write the old 0x55 back
  REQUIRE(f.engine.remove_breakpoint(0x1004) == 0);
  CHECK(f.ops.memory[0x1004] == 0x66);
  REQUIRE(f.engine.insert_breakpoint(0x1004) == 0);
  REQUIRE(f.engine.remove_breakpoint(0x1004) == 0);
  CHECK(f.ops.memory[0x1004] == 0x66);  // the original under a live breakpoint comes back
}

TEST_CASE("a breakpoint that is not ours is a plain SIGTRAP") {
  Fixture f;
  f.continue_all();
  f.ops.set_pc(Fixture::kPid, 0x1009);
  f.ops.traps[Fixture::kPid] = {SIGTRAP, 0x80};
  f.land(stopped_status(SIGTRAP));
  REQUIRE(f.stops.size() == 1);
  CHECK_FALSE(f.stops[0].software_breakpoint);
  CHECK(f.engine.pc(Fixture::kPid) == 0x1009);
}

TEST_CASE("exit and death by signal end the process") {
  SUBCASE("exit code") {
    Fixture f;
    f.continue_all();
    f.land(exited_status(5));
    REQUIRE(f.stops.size() == 1);
    CHECK(f.stops[0].kind == EngineStop::Kind::Exited);
    CHECK(f.stops[0].exit_code == 5);
    CHECK_FALSE(f.engine.has_process());
  }
  SUBCASE("SIGKILL from outside") {
    Fixture f;
    f.continue_all();
    f.land(killed_status(SIGKILL));
    REQUIRE(f.stops.size() == 1);
    CHECK(f.stops[0].kind == EngineStop::Kind::Terminated);
    CHECK(f.stops[0].host_signal == SIGKILL);
  }
}

TEST_CASE("register writes reach the kernel only when the thread resumes") {
  Fixture f;
  const auto* rax = f.engine.layout().find_by_name("rax");
  std::vector<std::uint8_t> value{1, 2, 3, 4, 5, 6, 7, 8};
  REQUIRE(f.engine.write_register(Fixture::kPid, rax->regnum, value));
  CHECK(f.ops.log.empty());
  f.continue_all();
  REQUIRE(f.ops.log.size() == 2);
  CHECK(f.ops.log[0] == "setregs 100");
  CHECK(f.ops.general[Fixture::kPid][80] == 1);  // rax sits at offset 80
}

TEST_CASE("detach removes breakpoints and lets every thread go") {
  Fixture f;
  REQUIRE(f.engine.insert_breakpoint(0x1002) == 0);
  f.engine.detach();
  CHECK(f.ops.memory[0x1002] == 0x90);
  CHECK(f.ops.log.back() == "detach 100 sig 0");
  CHECK_FALSE(f.engine.has_process());
}

TEST_CASE("kill reaps the process before returning") {
  Fixture f;
  f.engine.kill();
  CHECK(f.ops.log.back() == "kill 100");
  CHECK(f.ops.pending.empty());
  CHECK_FALSE(f.engine.has_process());
}
