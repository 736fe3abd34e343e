// A process gdb detached from with persistent dprintfs (gdb's `set
// disconnected-dprintf on`): it runs on by itself, its dprintfs printing,
// until it ends, a gdb takes it back, or ustub lets it go.
#include "server/unattended.hpp"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "tests/engine/x86_range_program.hpp"

using namespace ustub;
using namespace ustub::testing;

namespace {

// gdb's agent dprintf "v=%d\n" of the constant 7.
const std::vector<std::uint8_t> kPrintSeven = {0x22, 7, 0x22, 0, 0x22, 0, 0x34, 1, 0, 6, 'v', '=', '%', 'd', '\n', 0, 0x27};

// A dprintf at 0x2000 (persistent or not) and a plain breakpoint at 0x3000;
// stops the unattended process does not take reach `stops`, as in the client.
struct Detaching : InRange {
  UnattendedProcess unattended{engine};
  std::string printed;
  explicit Detaching(bool persist = true, bool two_threads = false) : InRange(two_threads) {
    REQUIRE(engine.insert_breakpoint(kPid, 0x2000) == 0);
    REQUIRE(engine.insert_breakpoint(kPid, 0x3000) == 0);
    engine.set_breakpoint_agent(kPid, 0x2000, {}, {kPrintSeven}, persist);
    engine.set_agent_output([this](const std::string& text) { printed += text; });
    engine.set_stop_handler([this](const EngineStop& s) {
      if (!unattended.on_stop(s)) stops.push_back(s);
    });
  }
  bool logged(const std::string& line) const { return std::count(ops.log.begin(), ops.log.end(), line) > 0; }
};

}  // namespace

TEST_CASE("a detach keeps a process with persistent dprintfs running, with only their breakpoints in") {
  Detaching d;
  REQUIRE(d.unattended.keep_running(InRange::kPid));
  CHECK(d.unattended.holds(InRange::kPid));
  CHECK(d.ops.memory[0x2000] == 0xcc);
  CHECK(d.ops.memory[0x3000] == 0x90);  // gdb's other breakpoint is out
  CHECK(d.ops.log.back() == "cont 100 sig 0");
  // A hit prints and goes on over the breakpoint, telling nobody.
  d.trap_at_breakpoint(0x2000);
  CHECK(d.printed == "v=7\n");
  CHECK(d.ops.log.back() == "step 100 sig 0");
  d.single_step_to(0x2001);
  CHECK(d.ops.log.back() == "cont 100 sig 0");
  CHECK(d.stops.empty());
}

TEST_CASE("without persistent commands, or beside another process, the detach is for the caller to make") {
  Detaching not_persistent(false);
  CHECK_FALSE(not_persistent.unattended.keep_running(InRange::kPid));
  CHECK_FALSE(not_persistent.unattended.holds_any());
  Detaching beside;
  beside.engine.add_inferior(200, {200}, false, {EngineStop::Kind::Signal, 200, SIGTRAP});
  CHECK_FALSE(beside.unattended.keep_running(InRange::kPid));
  CHECK(beside.ops.memory[0x3000] == 0xcc);  // nothing changed
}

TEST_CASE("an unattended process's signals go on to it, even those a breakpoint could raise") {
  Detaching d;
  REQUIRE(d.unattended.keep_running(InRange::kPid));
  d.engine.handle_wait({InRange::kPid, stopped_status(SIGUSR1)});
  CHECK(d.ops.log.back() == "cont 100 sig " + std::to_string(SIGUSR1));
  d.engine.handle_wait({InRange::kPid, stopped_status(SIGSEGV)});
  CHECK(d.ops.log.back() == "cont 100 sig " + std::to_string(SIGSEGV));
  CHECK(d.stops.empty());
  // Its end is told to nobody but the caller, which only says so.
  d.engine.handle_wait({InRange::kPid, W_EXITCODE(3, 0)});
  CHECK_FALSE(d.unattended.holds_any());
  CHECK(d.stops.empty());
}

TEST_CASE("a gdb takes an unattended process back stopped, as from an attach, with no breakpoint of ours left") {
  Detaching d;
  d.engine.set_report_fork_events(true, true);
  d.engine.set_pass_signals({SIGALRM});
  REQUIRE(d.unattended.keep_running(InRange::kPid));
  CHECK_FALSE(d.engine.reporting().forks);  // nobody to tell of a fork meanwhile
  d.ops.pending.push_back({InRange::kPid, stopped_status(SIGTRAP, PTRACE_EVENT_STOP)});
  REQUIRE(d.unattended.take_back());
  CHECK(d.logged("interrupt 100"));
  CHECK_FALSE(d.unattended.holds_any());
  CHECK(d.engine.last_stop().host_signal == SIGTRAP);  // gdb's attach takes SIGTRAP, not SIGINT
  CHECK(d.ops.memory[0x2000] == 0x90);
  CHECK_FALSE(d.engine.running());
  CHECK(d.stops.empty());
  // What gdb had set is back.
  CHECK(d.engine.reporting().forks);
  CHECK(d.engine.reporting().pass_signals == std::set<int>{SIGALRM});
}

TEST_CASE("a process let go is detached, breakpoints out, and runs on") {
  Detaching d;
  REQUIRE(d.unattended.keep_running(InRange::kPid));
  d.ops.pending.push_back({InRange::kPid, stopped_status(SIGTRAP, PTRACE_EVENT_STOP)});
  d.unattended.release();
  CHECK(d.logged("detach 100 sig 0"));
  CHECK(d.ops.memory[0x2000] == 0x90);
  CHECK_FALSE(d.unattended.holds_any());
  CHECK_FALSE(d.engine.has_process());
}

TEST_CASE("a hit the engine had to tell is stepped over alone, then every thread runs") {
  Detaching d(true, true);
  REQUIRE(d.unattended.keep_running(InRange::kPid));
  // The other thread's SIGSEGV is being told when the dprintf is hit: the
  // commands run, and the hit is kept, then told.
  d.engine.handle_wait({InRange::kOther, stopped_status(SIGSEGV)});
  CHECK(d.logged("interrupt 100"));
  d.ops.log.clear();
  d.trap_at_breakpoint(0x2000);
  CHECK(d.printed == "v=7\n");
  CHECK(d.ops.log.back() == "step 100 sig 0");  // alone: the other thread stays stopped
  CHECK_FALSE(d.logged("cont 101 sig " + std::to_string(SIGSEGV)));
  d.trap_at_breakpoint(0x2000);  // the int3 again: now the engine steps over it
  CHECK(d.ops.memory[0x2000] == 0x90);
  d.single_step_to(0x2001);
  CHECK(d.ops.memory[0x2000] == 0xcc);
  d.single_step_to(0x2002);
  CHECK(d.logged("cont 100 sig 0"));
  CHECK(d.logged("cont 101 sig " + std::to_string(SIGSEGV)));  // its signal, held meanwhile
  CHECK(d.printed == "v=7\n");  // once
  CHECK(d.stops.empty());
}
