// The engine's non-stop rules (QNonStop:1) on a scripted three-thread process:
// an event stops its own thread only and is told at once.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/ptrace.h>

#include "tests/engine/three_threads.hpp"

using namespace ustub;
using namespace ustub::testing;

namespace {

struct NonStopThreads : Threads {
  NonStopThreads() { engine.set_non_stop(true); }
};

constexpr pid_t kChild = 200;

// Running, with fork events on; the second thread's fork will make kChild.
struct NonStopForking : NonStopThreads {
  NonStopForking() {
    engine.set_report_fork_events(true, true);
    continue_all();
    ops.event_messages[kSecond] = kChild;
    ops.set_pc(kChild, 0x2000);
  }
  void fork_event() { land(kSecond, stopped_status(SIGTRAP, PTRACE_EVENT_FORK)); }
};

}  // namespace

TEST_CASE("non-stop: a breakpoint hit is told at once and no other thread is stopped") {
  NonStopThreads f;
  f.continue_all();
  f.hit_breakpoint(kSecond);
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].tid == kSecond);
  CHECK(f.stops[0].software_breakpoint);
  CHECK_FALSE(f.logged("interrupt 100"));
  CHECK_FALSE(f.logged("interrupt 102"));
  CHECK(f.engine.running());
  // A second thread's hit is not kept for later: it is told as it lands.
  f.hit_breakpoint(kThird);
  REQUIRE(f.stops.size() == 2);
  CHECK(f.stops[1].tid == kThird);
}

TEST_CASE("non-stop: vCont;t stops the named thread, which reports signal 0; the others run on") {
  NonStopThreads f;
  f.continue_all();
  f.engine.stop_threads({kThird});
  CHECK(f.logged("interrupt 102"));
  CHECK_FALSE(f.logged("interrupt 100"));
  CHECK(f.stops.empty());
  f.interrupted(kThird);
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].tid == kThird);
  CHECK(f.stops[0].kind == EngineStop::Kind::Signal);
  CHECK(f.stops[0].host_signal == 0);
  CHECK(f.engine.thread_stopped(kThird));
  CHECK_FALSE(f.engine.thread_stopped(kLeader));
}

TEST_CASE("non-stop: a thread asked to stop that meets a breakpoint first tells the breakpoint, once") {
  NonStopThreads f;
  f.continue_all();
  f.engine.stop_threads({kSecond});
  f.hit_breakpoint(kSecond);
  f.interrupted(kSecond);  // the interrupt stop that was on its way
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].software_breakpoint);
}

TEST_CASE("non-stop: a thread stopped without gdb's knowing (the attach) is told when gdb stops it") {
  NonStopThreads f;
  std::size_t requests = f.ops.log.size();
  f.engine.stop_threads({kLeader, kSecond});
  REQUIRE(f.stops.size() == 2);
  CHECK(f.stops[0].host_signal == 0);
  CHECK(f.ops.log.size() == requests);  // nothing to interrupt: they are stopped
  // Told once: asking again adds nothing.
  f.engine.stop_threads({kLeader});
  CHECK(f.stops.size() == 2);
}

TEST_CASE("non-stop: a Ctrl-C stops one running thread with SIGINT, not all of them") {
  NonStopThreads f;
  f.continue_all();
  f.engine.interrupt();
  CHECK(f.logged("interrupt 100"));  // the leader, as it runs
  CHECK_FALSE(f.logged("interrupt 101"));
  f.interrupted(kLeader);
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].host_signal == SIGINT);
  CHECK(f.engine.running());
}

TEST_CASE("non-stop: a fork is told only once the child's first stop is in, so gdb can read the child at once") {
  NonStopForking f;
  f.fork_event();
  CHECK(f.stops.empty());  // gdb would ask for registers the child cannot give yet
  CHECK_FALSE(f.logged("interrupt 100"));  // the other threads run on
  f.interrupted(kChild);
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].kind == EngineStop::Kind::Forked);
  CHECK(f.stops[0].tid == kSecond);
  CHECK(f.stops[0].child_pid == kChild);
  CHECK(f.engine.thread_stopped(kChild));
  CHECK(f.engine.thread_stopped(kSecond));
  CHECK_FALSE(f.engine.thread_stopped(kLeader));
}

TEST_CASE("non-stop: a fork whose child is stopped before its fork event is told at once") {
  NonStopForking f;
  f.interrupted(kChild);
  CHECK(f.stops.empty());
  f.fork_event();
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].kind == EngineStop::Kind::Forked);
}
