// The engine's all-stop rules on a scripted three-thread process.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/ptrace.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "arch/arch.hpp"
#include "server/engine.hpp"
#include "tests/engine/scripted_ops.hpp"
#include "tests/engine/three_threads.hpp"

using namespace ustub;
using namespace ustub::testing;

TEST_CASE("one thread's breakpoint stops every other thread before gdb hears of it") {
  Threads f;
  f.continue_all();
  f.hit_breakpoint(kSecond);
  CHECK(f.stops.empty());
  CHECK(f.logged("interrupt 100"));
  CHECK(f.logged("interrupt 102"));
  CHECK_FALSE(f.logged("interrupt 101"));
  f.interrupted(kLeader);
  CHECK(f.stops.empty());  // the third still runs
  f.interrupted(kThird);
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].tid == kSecond);
  CHECK(f.stops[0].software_breakpoint);
  CHECK_FALSE(f.engine.running());
}

TEST_CASE("a second thread's event during the stop is kept and told at the next resume, without resuming") {
  Threads f;
  f.continue_all();
  f.hit_breakpoint(kSecond);
  f.land(kThird, stopped_status(SIGUSR1));  // a signal instead of the interrupt stop
  f.interrupted(kLeader);
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].tid == kSecond);
  std::size_t requests = f.ops.log.size();
  f.continue_all();
  REQUIRE(f.stops.size() == 2);
  CHECK(f.stops[1].tid == kThird);
  CHECK(f.stops[1].host_signal == SIGUSR1);
  CHECK(f.ops.log.size() == requests);  // nothing was resumed
  // The signal is delivered once, when gdb passes it on.
  f.engine.resume({{kLeader, {}}, {kSecond, {}}, {kThird, {false, SIGUSR1}}});
  CHECK(f.logged("cont 102 sig 10"));
}

TEST_CASE("a kept breakpoint hit is dropped if gdb removed the breakpoint or moved the pc") {
  Threads f;
  f.continue_all();
  f.hit_breakpoint(kSecond);
  f.hit_breakpoint(kThird);
  f.interrupted(kLeader);
  REQUIRE(f.stops.size() == 1);
  CHECK(f.engine.pc(kThird) == kBreakpoint);  // rewound: the int3 runs again if the hit is dropped
  SUBCASE("removed") {
    REQUIRE(f.engine.remove_breakpoint(kBreakpoint) == 0);
  }
  SUBCASE("pc moved") {
    std::vector<std::uint8_t> pc(8, 0);
    pc[0] = 0x40;
    pc[1] = 0x20;
    f.engine.write_register(kThird, 16, pc);  // rip
  }
  f.continue_all();
  CHECK(f.stops.size() == 1);  // nothing told: everything runs
  CHECK(f.logged("cont 102 sig 0"));
  CHECK(f.engine.running());
}

TEST_CASE("kept events are chosen among fairly: each thread gets its turn") {
  Threads f;
  std::set<pid_t> told_first;
  for (int round = 0; round < 20; ++round) {
    f.continue_all();
    f.land(kLeader, stopped_status(SIGUSR2));
    f.land(kSecond, stopped_status(SIGUSR1));
    f.land(kThird, stopped_status(SIGUSR1));
    std::size_t before = f.stops.size();
    f.continue_all();
    f.continue_all();
    REQUIRE(f.stops.size() == before + 2);
    told_first.insert(f.stops[before].tid);
    CHECK(f.stops[before].tid != f.stops[before + 1].tid);  // and the other one next
  }
  CHECK(told_first.size() == 2);  // sometimes the second, sometimes the third
}

TEST_CASE("gdb's resume arriving during the stop of all threads is applied, not lost") {
  Threads f;
  f.continue_all();
  f.engine.interrupt();  // Ctrl-C: stop all
  f.interrupted(kLeader);
  f.interrupted(kSecond);
  f.engine.resume({{kThird, {true, 0}}});  // the third has not stopped yet
  f.interrupted(kThird);
  CHECK(f.logged("step 102 sig 0"));
}

TEST_CASE("a thread that exits while being stopped does not hold the stop up") {
  Threads f;
  f.continue_all();
  f.hit_breakpoint(kSecond);
  f.interrupted(kLeader);
  CHECK(f.stops.empty());
  f.land(kThird, exited_status(0));
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].tid == kSecond);
  CHECK_FALSE(f.engine.thread_alive(kThird));
}

TEST_CASE("SIGKILL from outside during the stop of all threads reports the death, once") {
  Threads f;
  f.continue_all();
  f.hit_breakpoint(kSecond);
  f.land(kThird, killed_status(SIGKILL));
  f.land(kSecond, killed_status(SIGKILL));
  f.land(kLeader, killed_status(SIGKILL));
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].kind == EngineStop::Kind::Terminated);
  CHECK(f.stops[0].host_signal == SIGKILL);
  CHECK_FALSE(f.engine.has_process());
}

TEST_CASE("new threads are traced: run if the process runs, held if it is being stopped") {
  Threads f;
  f.continue_all();
  f.ops.event_messages[kLeader] = 103;
  f.land(kLeader, stopped_status(SIGTRAP, PTRACE_EVENT_CLONE));
  CHECK(f.logged("cont 100 sig 0"));  // the creator goes on
  CHECK(f.engine.thread_alive(103));
  f.interrupted(103);  // its first stop
  CHECK(f.logged("cont 103 sig 0"));
  // A thread whose first stop comes before its creator's clone event.
  f.hit_breakpoint(kSecond);
  f.interrupted(104);
  CHECK(f.engine.thread_alive(104));
  CHECK_FALSE(f.logged("cont 104 sig 0"));  // held: everything is being stopped
  for (pid_t t : {kLeader, kThird, pid_t(103)}) f.interrupted(t);
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].tid == kSecond);
}

TEST_CASE("a Ctrl-C with several threads reports SIGINT once all have stopped") {
  Threads f;
  f.continue_all();
  f.engine.interrupt();
  f.interrupted(kThird);
  f.interrupted(kSecond);
  CHECK(f.stops.empty());
  f.interrupted(kLeader);
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].host_signal == SIGINT);
  CHECK(f.stops[0].tid == kLeader);
}

TEST_CASE("a pass signal goes straight back to the program; during a stop of all it waits with the thread") {
  Threads f;
  f.engine.set_pass_signals({SIGUSR1});
  f.continue_all();
  f.land(kSecond, stopped_status(SIGUSR1));
  CHECK(f.ops.log.back() == "cont 101 sig 10");
  CHECK(f.stops.empty());
  f.hit_breakpoint(kThird);
  f.land(kSecond, stopped_status(SIGUSR1));  // met while the others are being stopped
  f.interrupted(kLeader);
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].tid == kThird);
  f.continue_all();
  CHECK(f.logged("cont 101 sig 10"));
}

TEST_CASE("signals gdb resumes with are kept when a kept event is told instead of resuming") {
  Threads f;
  f.continue_all();
  f.hit_breakpoint(kSecond);
  f.land(kThird, stopped_status(SIGUSR2));
  f.interrupted(kLeader);
  // gdb passes a signal to the leader, but the third's SIGUSR2 is told first.
  f.engine.resume({{kLeader, {false, SIGUSR1}}, {kSecond, {}}, {kThird, {}}});
  REQUIRE(f.stops.size() == 2);
  CHECK_FALSE(f.logged("tgkill 100 10"));
  f.continue_all();
  // Delivered at the next resume, once: the leader sits at an interrupt stop,
  // where ptrace would drop a signal, so it is sent.
  CHECK(f.logged("tgkill 100 10"));
  CHECK(std::count(f.ops.log.begin(), f.ops.log.end(), "tgkill 100 10") == 1);
}

TEST_CASE("a signal gdb gives a thread at an interrupt stop is sent, then let through unseen when it arrives") {
  Threads f;
  f.continue_all();
  f.hit_breakpoint(kSecond);
  f.interrupted(kLeader);
  f.interrupted(kThird);
  REQUIRE(f.stops.size() == 1);
  f.engine.resume({{kLeader, {false, SIGUSR1}}, {kSecond, {}}, {kThird, {}}});
  CHECK(f.logged("tgkill 100 10"));
  CHECK(f.logged("cont 100 sig 0"));  // PTRACE_CONT's signal would be dropped here
  f.ops.traps[kLeader] = {SIGUSR1, -6 /* SI_TKILL */};
  f.land(kLeader, stopped_status(SIGUSR1));
  CHECK(f.stops.size() == 1);  // gdb asked for it: not a new stop
  CHECK(f.ops.log.back() == "cont 100 sig 10");  // handed over at its delivery-stop
}

TEST_CASE("a signal gdb gives a thread at a signal's delivery-stop goes with the resume") {
  Threads f;
  f.continue_all();
  f.land(kSecond, stopped_status(SIGUSR2));
  f.interrupted(kLeader);
  f.interrupted(kThird);
  REQUIRE(f.stops.size() == 1);
  f.engine.resume({{kLeader, {}}, {kSecond, {false, SIGUSR2}}, {kThird, {}}});
  CHECK(f.logged("cont 101 sig 12"));
  CHECK_FALSE(f.logged("tgkill 101 12"));
}

TEST_CASE("a hardware watchpoint is written into every thread, and into threads born later") {
  Threads f;
  REQUIRE(f.engine.insert_hardware(kLeader, arch::WatchKind::Write, 0x5000, 4) == 0);
  for (pid_t t : {kLeader, kSecond, kThird}) CHECK(f.ops.user_area[{t, 848}] == 0x5000);
  CHECK(f.ops.user_area[{kSecond, 848 + 56}] != 0);
  f.continue_all();
  f.ops.event_messages[kLeader] = 103;
  f.land(kLeader, stopped_status(SIGTRAP, PTRACE_EVENT_CLONE));
  f.interrupted(103);
  CHECK(f.ops.user_area[{103, 848}] == 0x5000);
  // It fires in the new thread: DR6 says slot 0; the stop says where.
  f.ops.user_area[{103, 848 + 48}] = 1;
  f.land(103, stopped_status(SIGTRAP));
  for (pid_t t : {kLeader, kSecond, kThird}) f.interrupted(t);
  REQUIRE(f.stops.size() == 1);
  REQUIRE(f.stops[0].hardware_hit);
  CHECK(f.stops[0].hardware_hit->kind == arch::WatchKind::Write);
  CHECK(f.stops[0].hardware_hit->address == 0x5000);
  CHECK(f.ops.user_area[{103, 848 + 48}] == 0);  // DR6 cleared for the next one
}

TEST_CASE("a read watchpoint set off by a write is not reported (x86 traps on both)") {
  Threads f;
  for (std::uint64_t a = 0x5000; a < 0x5004; ++a) f.ops.memory[a] = 1;
  REQUIRE(f.engine.insert_hardware(kLeader, arch::WatchKind::Read, 0x5000, 4) == 0);
  f.continue_all();
  f.ops.memory[0x5000] = 2;  // written
  f.ops.user_area[{kSecond, 848 + 48}] = 1;
  f.land(kSecond, stopped_status(SIGTRAP));
  CHECK(f.stops.empty());
  CHECK(f.ops.log.back() == "cont 101 sig 0");
  f.ops.user_area[{kSecond, 848 + 48}] = 1;  // read: the value is as before
  f.land(kSecond, stopped_status(SIGTRAP));
  for (pid_t t : {kLeader, kThird}) f.interrupted(t);
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].hardware_hit->kind == arch::WatchKind::Read);
}

TEST_CASE("a read after a write watchpoint's stop on the same memory is told: every trap renews the value reads keep") {
  Threads f;
  for (std::uint64_t a = 0x5000; a < 0x5004; ++a) f.ops.memory[a] = 1;
  REQUIRE(f.engine.insert_hardware(kLeader, arch::WatchKind::Read, 0x5000, 4) == 0);   // slot 0
  REQUIRE(f.engine.insert_hardware(kLeader, arch::WatchKind::Write, 0x5000, 4) == 0);  // slot 1
  f.continue_all();
  f.ops.memory[0x5000] = 2;                    // written: both slots fire
  f.ops.user_area[{kSecond, 848 + 48}] = 0b11;
  f.land(kSecond, stopped_status(SIGTRAP));
  for (pid_t t : {kLeader, kThird}) f.interrupted(t);
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].hardware_hit->kind == arch::WatchKind::Write);
  f.continue_all();
  f.ops.user_area[{kSecond, 848 + 48}] = 0b01;  // read: the value is the one the write left
  f.land(kSecond, stopped_status(SIGTRAP));
  for (pid_t t : {kLeader, kThird}) f.interrupted(t);
  REQUIRE(f.stops.size() == 2);
  CHECK(f.stops[1].hardware_hit->kind == arch::WatchKind::Read);
}

TEST_CASE("gdb's own write to read-watched memory is not taken for the program's") {
  Threads f;
  for (std::uint64_t a = 0x5000; a < 0x5004; ++a) f.ops.memory[a] = 1;
  REQUIRE(f.engine.insert_hardware(kLeader, arch::WatchKind::Read, 0x5000, 4) == 0);
  const std::uint8_t five[] = {5, 0, 0, 0};
  REQUIRE(f.engine.write_memory(kLeader, 0x5000, five) == 4);  // print global = 5
  f.continue_all();
  f.ops.user_area[{kSecond, 848 + 48}] = 1;  // read
  f.land(kSecond, stopped_status(SIGTRAP));
  for (pid_t t : {kLeader, kThird}) f.interrupted(t);
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].hardware_hit->kind == arch::WatchKind::Read);
}

TEST_CASE("detaching clears the debug registers, so the program never traps after") {
  Threads f;
  REQUIRE(f.engine.insert_hardware(kLeader, arch::WatchKind::Access, 0x5000, 8) == 0);
  f.engine.detach();
  for (pid_t t : {kLeader, kSecond, kThird}) CHECK(f.ops.user_area[{t, 848 + 56}] == 0);
}

TEST_CASE("a pass signal that arrives during a single-step is reported: gdb steps into the handler itself") {
  Threads f;
  f.engine.set_pass_signals({SIGALRM});
  f.engine.resume({{kSecond, {true, 0}}});
  f.land(kSecond, stopped_status(SIGALRM));
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].host_signal == SIGALRM);
}

TEST_CASE("SIGSEGV and SIGILL are always reported, passed or not: they may be a breakpoint's") {
  Threads f;
  f.engine.set_pass_signals({SIGSEGV, SIGILL});
  f.continue_all();
  f.land(kSecond, stopped_status(SIGSEGV));
  f.interrupted(kLeader);
  f.interrupted(kThird);
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].host_signal == SIGSEGV);
}

TEST_CASE("a thread born just before another thread's event is waited for, and the event told") {
  Threads f;
  f.continue_all();
  f.ops.event_messages[kLeader] = 103;
  f.land(kLeader, stopped_status(SIGTRAP, PTRACE_EVENT_CLONE));  // 103 is born, its first stop still to come
  f.hit_breakpoint(kLeader);
  f.interrupted(kSecond);
  f.interrupted(kThird);
  CHECK(f.stops.empty());
  f.interrupted(103);  // its first stop
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].tid == kLeader);
}

TEST_CASE("a thread seen before its clone event waits for it, then runs with its creator") {
  Threads f;
  f.continue_all();
  f.interrupted(103);  // its first stop, before the creator's clone event
  CHECK_FALSE(f.logged("cont 103 sig 0"));  // whose it is (thread or fork child) is not known yet
  CHECK(f.stops.empty());
  f.ops.event_messages[kLeader] = 103;
  f.land(kLeader, stopped_status(SIGTRAP, PTRACE_EVENT_CLONE));
  CHECK(f.logged("cont 100 sig 0"));
  CHECK(f.logged("cont 103 sig 0"));
  CHECK(f.engine.process_of(103) == kLeader);
}

TEST_CASE("a thread made while gdb single-steps its creator alone is held until gdb resumes the process") {
  // gdb's own step over a breakpoint at a clone syscall: the new thread must
  // not report a stop (at a breakpoint) before that step's end, which gdb
  // cannot take (infrun's finish_step_over assertion, step-over-syscall.exp).
  Threads f;
  f.engine.resume({{kLeader, {.step = true}}});
  f.ops.event_messages[kLeader] = 103;
  f.land(kLeader, stopped_status(SIGTRAP, PTRACE_EVENT_CLONE));
  CHECK(f.logged("step 100 sig 0"));  // the step goes on
  f.interrupted(103);  // its first stop
  CHECK_FALSE(f.logged("cont 103 sig 0"));
  f.ops.set_pc(kLeader, 0x2002);
  f.ops.traps[kLeader] = {SIGTRAP, 2 /* TRAP_TRACE */};
  f.land(kLeader, stopped_status(SIGTRAP));
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].tid == kLeader);
  f.engine.resume({{kLeader, {}}, {kSecond, {}}, {kThird, {}}, {103, {}}});
  CHECK(f.logged("cont 103 sig 0"));
}

TEST_CASE("a thread made while gdb single-steps its creator and other threads run, runs too") {
  Threads f;
  f.engine.resume({{kLeader, {.step = true}}, {kSecond, {}}, {kThird, {}}});
  f.ops.event_messages[kLeader] = 103;
  f.land(kLeader, stopped_status(SIGTRAP, PTRACE_EVENT_CLONE));
  f.interrupted(103);
  CHECK(f.logged("cont 103 sig 0"));
}

TEST_CASE("with two processes, a thread seen before its clone event is counted in its own process at once") {
  // Counted in the first process until the event, a kill of that process
  // would wait for this thread, which nobody kills, forever.
  Threads f;
  constexpr pid_t kOther = 200, kOtherBorn = 203;
  f.ops.set_pc(kOther, 0x2000);
  f.engine.add_inferior(kOther, {kOther}, false, {EngineStop::Kind::Signal, kOther, SIGTRAP});
  f.engine.resume({{kLeader, {}}, {kSecond, {}}, {kThird, {}}, {kOther, {}}});
  f.ops.thread_groups[kOtherBorn] = kOther;
  f.interrupted(kOtherBorn);
  CHECK(f.engine.process_of(kOtherBorn) == kOther);
  f.engine.interrupt();
  for (pid_t t : {kLeader, kSecond, kThird, kOther}) f.interrupted(t);
  REQUIRE(f.stops.size() == 1);
  f.engine.kill(kLeader);
  CHECK(f.engine.thread_alive(kOtherBorn));
  CHECK(f.engine.process_of(kOtherBorn) == kOther);
}

TEST_CASE("killing one of two processes also kills a fork child whose fork event has not come yet") {
  // Counted in the first process until then, but a process of its own: left
  // alone, the kill would wait for its end forever.
  Threads f;
  constexpr pid_t kOther = 200, kForkChild = 300;
  f.ops.set_pc(kOther, 0x2000);
  f.engine.add_inferior(kOther, {kOther}, false, {EngineStop::Kind::Signal, kOther, SIGTRAP});
  f.engine.resume({{kLeader, {}}, {kSecond, {}}, {kThird, {}}, {kOther, {}}});
  f.ops.thread_groups[kForkChild] = kForkChild;
  f.interrupted(kForkChild);
  f.engine.kill(kLeader);
  CHECK(f.logged("kill 100"));
  CHECK(f.logged("kill 300"));
  CHECK_FALSE(f.logged("kill 200"));
  CHECK(f.engine.has_process(kOther));
}

TEST_CASE("a thread that started and was killed before its clone event is not brought back as a ghost") {
  Threads f;
  f.continue_all();
  f.interrupted(103);  // its first stop, before the creator's clone event
  f.land(103, killed_status(SIGKILL));
  f.ops.event_messages[kLeader] = 103;
  f.land(kLeader, stopped_status(SIGTRAP, PTRACE_EVENT_CLONE));
  CHECK_FALSE(f.engine.thread_alive(103));
  f.hit_breakpoint(kSecond);  // so the stop of all does not wait for it
  f.interrupted(kLeader);
  f.interrupted(kThird);
  CHECK(f.stops.size() == 1);
}

TEST_CASE("a new thread's first stop arriving while gdb has everything stopped keeps it stopped") {
  Threads f;  // all stopped, as after a reported stop
  f.interrupted(104);
  CHECK(f.engine.thread_alive(104));
  CHECK_FALSE(f.logged("cont 104 sig 0"));
  CHECK_FALSE(f.engine.running());
  f.continue_all();
  f.engine.resume({{104, {}}});
  CHECK(f.logged("cont 104 sig 0"));  // it runs with the next continue
}

TEST_CASE("when every thread gdb resumed has exited and the rest are stopped, gdb hears 'no resumed'") {
  Threads f;
  f.engine.resume({{kSecond, {}}});  // scheduler-locking: only the second runs
  f.land(kSecond, stopped_status(SIGTRAP, PTRACE_EVENT_EXIT));
  CHECK(f.ops.log.back() == "cont 101 sig 0");  // on its way out
  f.ops.pending.push_back({kSecond, exited_status(0)});
  f.engine.drain_events();
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].kind == EngineStop::Kind::NoResumed);
  CHECK(f.engine.thread_ids() == std::vector<pid_t>{kLeader, kThird});
}

TEST_CASE("a leader that leaves before its threads (pthread_exit) is gone for gdb, and nothing waits for it") {
  Threads f;
  f.engine.resume({{kLeader, {}}});
  f.ops.pending.push_back({kLeader, stopped_status(SIGTRAP, PTRACE_EVENT_EXIT)});
  f.engine.drain_events();  // no exit status follows while its threads live
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].kind == EngineStop::Kind::NoResumed);
  CHECK(f.engine.thread_ids() == std::vector<pid_t>{kSecond, kThird});
  f.engine.resume({{kSecond, {}}, {kThird, {}}});
  f.hit_breakpoint(kSecond);
  f.interrupted(kThird);
  REQUIRE(f.stops.size() == 2);  // the stop of all did not wait for the leader
  CHECK(f.stops[1].tid == kSecond);
}

TEST_CASE("a whole process exiting is its exit, not 'no resumed'") {
  Threads f;
  f.continue_all();
  for (pid_t t : {kSecond, kThird, kLeader}) f.ops.pending.push_back({t, stopped_status(SIGTRAP, PTRACE_EVENT_EXIT)});
  f.engine.drain_events();
  CHECK(f.stops.empty());
  for (pid_t t : {kSecond, kThird, kLeader}) f.ops.pending.push_back({t, exited_status(3)});
  f.engine.drain_events();
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].kind == EngineStop::Kind::Exited);
  CHECK(f.stops[0].exit_code == 3);
}

TEST_CASE("a breakpoint hit whose trap lands after gdb removed the breakpoint runs the instruction again, unseen") {
  Threads f;
  f.continue_all();
  f.hit_breakpoint(kSecond);
  f.interrupted(kLeader);
  f.interrupted(kThird);  // its int3 trap is still queued in the kernel
  REQUIRE(f.stops.size() == 1);
  REQUIRE(f.engine.remove_breakpoint(kBreakpoint) == 0);
  f.continue_all();
  f.hit_breakpoint(kThird);  // the queued trap, now with the original byte back
  CHECK(f.stops.size() == 1);
  CHECK(f.ops.log.back() == "cont 102 sig 0");
  CHECK(f.ops.pc_of(kThird) == kBreakpoint);  // back on the instruction
}

TEST_CASE("a trap from the program's own int3 at an old breakpoint address is still reported") {
  Threads f;
  REQUIRE(f.engine.remove_breakpoint(kBreakpoint) == 0);
  f.ops.memory[kBreakpoint] = 0xcc;  // the program's own
  f.continue_all();
  f.hit_breakpoint(kSecond);
  f.interrupted(kLeader);
  f.interrupted(kThird);
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].host_signal == SIGTRAP);
}

TEST_CASE("an exec by a non-leader thread leaves one thread, under the leader's id, and the stop is told") {
  Threads f;
  f.continue_all();
  // The kernel reports the exec on the leader's id; the caller's old id and the rest vanish.
  f.land(kLeader, stopped_status(SIGTRAP, PTRACE_EVENT_EXEC));
  REQUIRE(f.stops.size() == 1);  // no thread left to wait for
  CHECK(f.stops[0].tid == kLeader);
  CHECK(f.engine.thread_ids() == std::vector<pid_t>{kLeader});
  CHECK_FALSE(f.engine.running());
  f.engine.resume({{kLeader, {}}});
  CHECK(f.logged("cont 100 sig 0"));
}

TEST_CASE("after an exec the old program's breakpoints are forgotten, and so is its address space") {
  Threads f;
  f.continue_all();
  // The new program has its own code where the old breakpoint was.
  f.land(kLeader, stopped_status(SIGTRAP, PTRACE_EVENT_EXEC));
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].kind == EngineStop::Kind::Exec);
  CHECK(f.logged("exec 100"));  // e.g. a /proc/PID/mem of the old image is reopened
  f.ops.memory[kBreakpoint] = 0x55;
  std::uint8_t byte = 0;
  REQUIRE(f.engine.read_memory(kBreakpoint, {&byte, 1}) == 1);
  CHECK(byte == 0x55);  // not the old program's byte from the breakpoint table
  CHECK(f.engine.remove_breakpoint(kBreakpoint) == 0);
  CHECK(f.ops.memory[kBreakpoint] == 0x55);  // nothing of the old program written back
}

TEST_CASE("a group-stop from outside (SIGSTOP) keeps the threads stopped until SIGCONT, unseen by gdb") {
  Threads f;
  f.continue_all();
  f.ops.log.clear();
  for (pid_t t : {kLeader, kSecond, kThird}) f.land(t, stopped_status(SIGSTOP, PTRACE_EVENT_STOP));
  CHECK(f.logged("listen 100"));
  CHECK(f.logged("listen 101"));
  CHECK(f.logged("listen 102"));
  CHECK_FALSE(f.logged("cont 101 sig 0"));  // PTRACE_CONT would undo the stop
  CHECK(f.stops.empty());
  CHECK(f.engine.running());  // gdb still waits, as it would for a stopped program natively
  f.land(kSecond, stopped_status(SIGTRAP, PTRACE_EVENT_STOP));  // SIGCONT ends the group-stop
  CHECK(f.logged("cont 101 sig 0"));
  CHECK(f.stops.empty());
}

TEST_CASE("Ctrl-C reaches job-stopped threads; continuing leaves them job-stopped") {
  Threads f;
  f.continue_all();
  for (pid_t t : {kLeader, kSecond, kThird}) f.land(t, stopped_status(SIGSTOP, PTRACE_EVENT_STOP));
  f.engine.interrupt();
  CHECK(f.logged("interrupt 101"));
  for (pid_t t : {kLeader, kSecond, kThird}) f.land(t, stopped_status(SIGSTOP, PTRACE_EVENT_STOP));
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].host_signal == SIGINT);
  f.ops.log.clear();
  f.continue_all();
  CHECK(f.logged("listen 100"));
  CHECK_FALSE(f.logged("cont 100 sig 0"));
}

TEST_CASE("a single-step from a group-stop runs the thread: gdb asked it to move") {
  Threads f;
  f.continue_all();
  for (pid_t t : {kLeader, kSecond, kThird}) f.land(t, stopped_status(SIGSTOP, PTRACE_EVENT_STOP));
  f.engine.interrupt();
  for (pid_t t : {kLeader, kSecond, kThird}) f.land(t, stopped_status(SIGSTOP, PTRACE_EVENT_STOP));
  f.engine.resume({{kSecond, {true, 0}}});
  CHECK(f.ops.log.back() == "step 101 sig 0");
}

namespace {
constexpr unsigned kOrigRaxOffset = 120;
void set_syscall_number(ScriptedOps& ops, pid_t tid, std::uint64_t number) {
  std::memcpy(ops.general[tid].data() + kOrigRaxOffset, &number, 8);
}
int syscall_stop() { return stopped_status(SIGTRAP | 0x80); }
}  // namespace

TEST_CASE("catching syscalls: entry and return are told with the number read at the entry") {
  Threads f;
  f.engine.set_catch_syscalls(true);
  f.ops.log.clear();
  f.continue_all();
  CHECK(f.logged("syscall 101 sig 0"));  // PTRACE_SYSCALL, not PTRACE_CONT
  set_syscall_number(f.ops, kSecond, 39);
  f.ops.syscall_entry[kSecond] = true;
  f.land(kSecond, syscall_stop());
  f.interrupted(kLeader);
  f.interrupted(kThird);
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].kind == EngineStop::Kind::SyscallEntry);
  CHECK(f.stops[0].syscall_number == 39);
  set_syscall_number(f.ops, kSecond, static_cast<std::uint64_t>(-1));  // gdb skips the call
  f.continue_all();
  f.ops.syscall_entry[kSecond] = false;
  f.land(kSecond, syscall_stop());
  f.interrupted(kLeader);
  f.interrupted(kThird);
  REQUIRE(f.stops.size() == 2);
  CHECK(f.stops[1].kind == EngineStop::Kind::SyscallReturn);
  CHECK(f.stops[1].syscall_number == 39);  // the call gdb caught, not the -1 it wrote
}

TEST_CASE("syscalls outside gdb's list run on unseen; with catching off, threads run with PTRACE_CONT") {
  Threads f;
  f.engine.set_catch_syscalls(true, {1});
  f.continue_all();
  set_syscall_number(f.ops, kThird, 39);
  f.ops.syscall_entry[kThird] = true;
  f.ops.log.clear();
  f.land(kThird, syscall_stop());
  CHECK(f.stops.empty());
  CHECK(f.ops.log == std::vector<std::string>{"syscall 102 sig 0"});
  f.engine.interrupt();
  for (pid_t t : {kLeader, kSecond, kThird}) f.interrupted(t);
  REQUIRE(f.stops.size() == 1);
  f.engine.set_catch_syscalls(false);
  f.ops.log.clear();
  f.continue_all();
  CHECK(f.logged("cont 102 sig 0"));
  CHECK_FALSE(f.logged("syscall 102 sig 0"));
}

TEST_CASE("thread events: a new thread's first stop and a thread's exit are told, each once") {
  Threads f;
  f.engine.set_report_thread_events(true);
  f.continue_all();
  f.ops.event_messages[kSecond] = 103;
  f.land(kSecond, stopped_status(SIGTRAP, PTRACE_EVENT_CLONE));
  CHECK(f.stops.empty());
  f.land(103, stopped_status(SIGTRAP, PTRACE_EVENT_STOP));  // the newborn's first stop
  for (pid_t t : {kLeader, kSecond, kThird}) f.interrupted(t);
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].kind == EngineStop::Kind::ThreadCreated);
  CHECK(f.stops[0].tid == 103);
  f.engine.resume({{kLeader, {}}, {kSecond, {}}, {kThird, {}}, {103, {}}});
  f.land(103, stopped_status(SIGTRAP, PTRACE_EVENT_EXIT));
  f.land(103, exited_status(0));
  CHECK(f.stops.size() == 1);  // the others are being stopped first
  for (pid_t t : {kLeader, kSecond, kThird}) f.interrupted(t);
  REQUIRE(f.stops.size() == 2);
  CHECK(f.stops[1].kind == EngineStop::Kind::ThreadExited);
  CHECK(f.stops[1].tid == 103);
  CHECK(f.engine.thread_ids().size() == 3);
}

namespace {
constexpr pid_t kChild = 200;
void fork_child(Threads& f, pid_t parent, int event = PTRACE_EVENT_FORK) {
  f.ops.event_messages[parent] = kChild;
  f.ops.set_pc(kChild, 0x2000);
  f.land(parent, stopped_status(SIGTRAP, event));
}
}  // namespace

TEST_CASE("a fork is told once the child is stopped too; the child has its own copy of our breakpoints") {
  Threads f;
  f.engine.set_report_fork_events(true, true);
  f.continue_all();
  fork_child(f, kSecond);
  for (pid_t t : {kLeader, kThird}) f.interrupted(t);
  CHECK(f.stops.empty());  // the child's first stop is still to come
  f.interrupted(kChild);
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].kind == EngineStop::Kind::Forked);
  CHECK(f.stops[0].child_pid == kChild);
  CHECK(f.stops[0].pid == kLeader);
  CHECK(f.engine.process_of(kChild) == kChild);
  CHECK(f.engine.has_process(kChild));
  std::uint8_t byte = 0;
  REQUIRE(f.engine.read_memory(kChild, kBreakpoint, {&byte, 1}) == 1);
  CHECK(byte == 0x90);  // the child's memory holds our int3 too, hidden like the parent's
  // gdb takes its breakpoints out of the child and detaches it (D;PID).
  CHECK(f.engine.remove_breakpoint(kChild, kBreakpoint) == 0);
  f.engine.detach(kChild);
  CHECK(f.logged("detach 200 sig 0"));
  CHECK_FALSE(f.engine.has_process(kChild));
  CHECK(f.engine.has_process(kLeader));
  CHECK(f.engine.insert_breakpoint(kLeader, kBreakpoint) == 0);  // the parent's table is its own
}

TEST_CASE("a fork child whose first stop comes before the fork event is held, then counted as the child") {
  Threads f;
  f.engine.set_report_fork_events(true, true);
  f.continue_all();
  f.ops.set_pc(kChild, 0x2000);
  f.interrupted(kChild);  // not yet known whose it is
  CHECK_FALSE(f.logged("cont 200 sig 0"));
  fork_child(f, kSecond);
  for (pid_t t : {kLeader, kThird}) f.interrupted(t);
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].kind == EngineStop::Kind::Forked);
  CHECK(f.engine.process_of(kChild) == kChild);
  CHECK(f.engine.thread_ids().back() == kChild);
}

TEST_CASE("without fork events a child is let go at its first stop, with our breakpoints taken out") {
  Threads f;
  f.continue_all();
  fork_child(f, kSecond);
  CHECK(f.logged("cont 101 sig 0"));  // the parent goes on, unseen
  f.interrupted(kChild);
  CHECK(f.logged("detach 200 sig 0"));
  CHECK(f.ops.memory[kBreakpoint] == 0x90);  // the original byte back (memory here is shared by all pids)
  CHECK_FALSE(f.engine.has_process(kChild));
  CHECK(f.stops.empty());
}

TEST_CASE("one of two processes exiting is told with its pid once the others are stopped; the rest goes on") {
  Threads f;
  f.engine.set_report_fork_events(true, true);
  f.continue_all();
  fork_child(f, kSecond);
  for (pid_t t : {kLeader, kThird, kChild}) f.interrupted(t);
  REQUIRE(f.stops.size() == 1);
  f.engine.resume({{kLeader, {}}, {kSecond, {}}, {kThird, {}}, {kChild, {}}});
  f.land(kChild, exited_status(3));
  for (pid_t t : {kLeader, kSecond, kThird}) f.interrupted(t);
  REQUIRE(f.stops.size() == 2);
  CHECK(f.stops[1].kind == EngineStop::Kind::Exited);
  CHECK(f.stops[1].pid == kChild);
  CHECK(f.stops[1].exit_code == 3);
  CHECK(f.engine.has_process());
  CHECK(f.engine.pid() == kLeader);
  CHECK(f.engine.thread_ids().size() == 3);
}

TEST_CASE("a thread exit that lands after gdb was told of a stop is told at the next resume, which runs nothing") {
  Threads f;
  f.engine.set_report_thread_events(true);
  f.continue_all();
  f.land(kSecond, stopped_status(SIGTRAP, PTRACE_EVENT_EXIT));  // on its way out: it runs on to its end
  f.hit_breakpoint(kLeader);
  f.interrupted(kThird);
  REQUIRE(f.stops.size() == 1);
  f.land(kSecond, exited_status(0));  // gdb has everything stopped now
  CHECK(f.stops.size() == 1);
  CHECK(f.engine.has_untold_events());
  f.ops.log.clear();
  f.engine.resume({{kLeader, {}}, {kThird, {}}});
  REQUIRE(f.stops.size() == 2);
  CHECK(f.stops[1].kind == EngineStop::Kind::ThreadExited);
  CHECK(f.stops[1].tid == kSecond);
  CHECK(f.ops.log.empty());  // nothing ran
}

TEST_CASE("thread exits not told yet when the whole process ends are told before its exit") {
  Threads f;
  f.engine.set_report_thread_events(true);
  f.continue_all();
  // Everyone on the way out (main returned): gdb was told of the leader's stop.
  f.land(kSecond, stopped_status(SIGTRAP, PTRACE_EVENT_EXIT));
  f.land(kLeader, stopped_status(SIGTRAP, PTRACE_EVENT_EXIT));
  f.hit_breakpoint(kThird);
  REQUIRE(f.stops.size() == 1);
  f.land(kSecond, exited_status(0));  // gdb has everything stopped: kept
  f.land(kThird, exited_status(0));   // an exit_group takes it out of its stop
  f.land(kLeader, exited_status(0));  // and the process is gone
  CHECK(f.stops.size() == 1);
  f.engine.resume({});
  REQUIRE(f.stops.size() == 2);
  CHECK(f.stops[1].kind == EngineStop::Kind::ThreadExited);
  CHECK(f.stops[1].tid == kSecond);
  f.engine.resume({});
  REQUIRE(f.stops.size() == 3);
  CHECK(f.stops[2].kind == EngineStop::Kind::ThreadExited);
  CHECK(f.stops[2].tid == kThird);
  f.engine.resume({});
  REQUIRE(f.stops.size() == 4);
  CHECK(f.stops[3].kind == EngineStop::Kind::Exited);
  CHECK(f.stops[3].pid == kLeader);
  CHECK_FALSE(f.engine.has_untold_events());
  CHECK_FALSE(f.engine.has_process());
}

TEST_CASE("a signal stop gdb was told of is not delivered at detach: passing it was gdb's call") {
  Threads f;
  f.continue_all();
  // An inferior call ends like this: a SIGSEGV at gdb's dummy frame on the stack.
  f.land(kSecond, stopped_status(SIGSEGV));
  for (pid_t t : {kLeader, kThird}) f.interrupted(t);
  REQUIRE(f.stops.size() == 1);
  f.engine.detach();
  CHECK(f.logged("detach 101 sig 0"));
  CHECK(f.logged("detach 100 sig 0"));
}

TEST_CASE("a signal found at attach that gdb keeps from the program (QProgramSignals) is not delivered at detach") {
  Threads f;
  f.engine.set_program_signals({SIGALRM});
  f.engine.keep_signal_stop(kSecond, SIGUSR1);
  f.engine.keep_signal_stop(kThird, SIGALRM);
  f.engine.detach();
  CHECK(f.logged("detach 101 sig 0"));
  CHECK(f.logged("detach 102 sig 14"));
}

TEST_CASE("a signal found pending at attach is the attach stop, and reaches the program at detach") {
  ScriptedOps ops;
  Engine engine{arch::arch_by_name("x86_64"), ops};
  ops.set_pc(kLeader, 0x2000);
  ops.set_pc(kSecond, 0x2000);
  engine.adopt(kLeader, {kLeader, kSecond}, false, {EngineStop::Kind::Signal, kLeader, SIGALRM});
  engine.keep_signal_stop(kSecond, SIGALRM);
  std::vector<EngineStop> stops;
  engine.set_stop_handler([&](const EngineStop& s) { stops.push_back(s); });
  engine.resume({{kSecond, {}}});  // the kept signal is told instead of running
  REQUIRE(stops.size() == 1);
  CHECK(stops[0].tid == kSecond);
  CHECK(stops[0].host_signal == SIGALRM);
  engine.detach();
  CHECK(std::count(ops.log.begin(), ops.log.end(), "detach 100 sig 14") == 1);
  CHECK(std::count(ops.log.begin(), ops.log.end(), "detach 101 sig 14") == 1);
}

TEST_CASE("when every thread left is on its way out, the engine says the exit is coming") {
  Threads f;
  f.continue_all();
  f.land(kSecond, stopped_status(SIGTRAP, PTRACE_EVENT_EXIT));
  CHECK_FALSE(f.engine.only_exiting_threads());
  f.land(kThird, stopped_status(SIGTRAP, PTRACE_EVENT_EXIT));
  f.land(kLeader, stopped_status(SIGTRAP, PTRACE_EVENT_EXIT));
  CHECK(f.engine.only_exiting_threads());  // a resume naming no thread waits for the exit
  CHECK(f.engine.thread_ids().empty());
}

TEST_CASE("a single-step's trap that arrives after gdb resumed the thread with continue is dropped") {
  Threads f;
  // gdb steps the second thread and continues the others; the leader's
  // breakpoint wins, and the second's interrupt stop comes before its step trap.
  f.engine.resume({{kLeader, {}}, {kSecond, {true, 0}}, {kThird, {}}});
  f.hit_breakpoint(kLeader);
  f.interrupted(kSecond);
  f.interrupted(kThird);
  REQUIRE(f.stops.size() == 1);
  f.engine.remove_breakpoint(kBreakpoint);
  f.continue_all();
  // The step's trap, still queued, arrives now.
  f.ops.traps[kSecond] = {SIGTRAP, 2 /* TRAP_TRACE */};
  f.land(kSecond, stopped_status(SIGTRAP));
  CHECK(f.stops.size() == 1);  // not told
  CHECK(f.ops.log.back() == "cont 101 sig 0");
  // A step trap of a thread gdb does step is its step's end.
  f.engine.interrupt();
  f.interrupted(kLeader);
  f.interrupted(kSecond);
  f.interrupted(kThird);
  REQUIRE(f.stops.size() == 2);
  f.engine.resume({{kLeader, {}}, {kSecond, {true, 0}}, {kThird, {}}});
  f.land(kSecond, stopped_status(SIGTRAP));
  f.interrupted(kLeader);
  f.interrupted(kThird);
  REQUIRE(f.stops.size() == 3);
  CHECK(f.stops[2].tid == kSecond);
  CHECK(f.stops[2].host_signal == SIGTRAP);
}

TEST_CASE("a step's end kept while another event was told is dropped when gdb then continues the thread") {
  Threads f;
  f.engine.resume({{kLeader, {}}, {kSecond, {true, 0}}, {kThird, {}}});
  f.hit_breakpoint(kLeader);
  f.ops.traps[kSecond] = {SIGTRAP, 2 /* TRAP_TRACE */};
  f.land(kSecond, stopped_status(SIGTRAP));  // its step ended as all were stopping: kept
  f.interrupted(kThird);
  REQUIRE(f.stops.size() == 1);
  f.engine.remove_breakpoint(kBreakpoint);
  f.ops.log.clear();
  f.continue_all();
  CHECK(f.stops.size() == 1);  // not told: gdb no longer steps it
  CHECK(f.logged("cont 101 sig 0"));
}

TEST_CASE("a Ctrl-C after the leader left (pthread_exit) is told from a thread that is still there") {
  Threads f;
  f.engine.resume({{kLeader, {}}});
  f.ops.pending.push_back({kLeader, stopped_status(SIGTRAP, PTRACE_EVENT_EXIT)});
  f.engine.drain_events();
  REQUIRE(f.stops.size() == 1);  // 'no resumed'
  f.engine.resume({{kSecond, {}}, {kThird, {}}});
  f.engine.interrupt();
  f.interrupted(kSecond);
  f.interrupted(kThird);
  REQUIRE(f.stops.size() == 2);
  CHECK(f.stops[1].host_signal == SIGINT);
  CHECK(f.stops[1].tid == kSecond);
}

TEST_CASE("an interrupt stop that overtook a breakpoint's trap is let go, so gdb never sees the pc past the int3") {
  Threads f;
  f.continue_all();
  f.hit_breakpoint(kLeader);
  // The second ran into the breakpoint too; its interrupt stop comes first.
  f.ops.set_pc(kSecond, kBreakpoint + 1);
  f.ops.pending_signals.insert({kSecond, SIGTRAP});
  f.ops.log.clear();
  f.interrupted(kSecond);
  CHECK(f.ops.log.back() == "cont 101 sig 0");  // out comes the trap
  f.ops.pending_signals.clear();
  f.hit_breakpoint(kSecond);
  f.interrupted(kThird);
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].tid == kLeader);
  f.continue_all();
  REQUIRE(f.stops.size() == 2);  // the second's hit, kept and told now, at the breakpoint
  CHECK(f.stops[1].tid == kSecond);
  CHECK(f.stops[1].software_breakpoint);
  CHECK(*f.engine.pc(kSecond) == kBreakpoint);
}
