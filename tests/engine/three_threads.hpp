#pragma once
// A scripted three-thread x86_64 process with a breakpoint planted, for the
// engine's all-stop and non-stop rules.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/ptrace.h>

#include <algorithm>
#include <string>
#include <vector>

#include "arch/arch.hpp"
#include "server/engine.hpp"
#include "tests/engine/scripted_ops.hpp"

namespace ustub::testing {

constexpr pid_t kLeader = 100, kSecond = 101, kThird = 102;
constexpr std::uint64_t kBreakpoint = 0x1000;

struct Threads {
  ScriptedOps ops;
  Engine engine{arch::arch_by_name("x86_64"), ops};
  std::vector<EngineStop> stops;

  Threads() {
    for (pid_t t : {kLeader, kSecond, kThird}) ops.set_pc(t, 0x2000);
    for (std::uint64_t a = 0x1000; a < 0x1010; ++a) ops.memory[a] = 0x90;
    engine.adopt(kLeader, {kLeader, kSecond, kThird}, true, {EngineStop::Kind::Signal, kLeader, SIGTRAP});
    engine.set_stop_handler([this](const EngineStop& s) { stops.push_back(s); });
    REQUIRE(engine.insert_breakpoint(kBreakpoint) == 0);
  }
  void continue_all() { engine.resume({{kLeader, {}}, {kSecond, {}}, {kThird, {}}}); }
  void land(pid_t tid, int status) { engine.handle_wait({tid, status}); }
  // The thread ran into the int3 at kBreakpoint.
  void hit_breakpoint(pid_t tid) {
    ops.set_pc(tid, kBreakpoint + 1);
    ops.traps[tid] = {SIGTRAP, 0x80};
    land(tid, stopped_status(SIGTRAP));
  }
  bool logged(const std::string& line) const { return std::count(ops.log.begin(), ops.log.end(), line) > 0; }
  void interrupted(pid_t tid) { land(tid, stopped_status(SIGTRAP, PTRACE_EVENT_STOP)); }
};

}  // namespace ustub::testing
