#include <doctest/doctest.h>

#include "server/thread_state.hpp"

using namespace ustub;
using Phase = ThreadState::Phase;

TEST_CASE("stop then resume: the ordinary cycle") {
  ThreadState t;
  CHECK(t.request_resume({false, 0}) == ResumeRequest{false, 0});
  CHECK(t.phase() == Phase::Running);
  CHECK(t.request_stop());
  CHECK(t.phase() == Phase::StopRequested);
  CHECK(t.on_stop(StopKind::InterruptStop) == StopDecision::Report);
  CHECK(t.stopped());
}

TEST_CASE("resume before the stop lands is deferred, then applied") {
  ThreadState t;
  t.request_resume({});
  t.request_stop();
  CHECK_FALSE(t.request_resume({true, 0}).has_value());
  CHECK(t.on_stop(StopKind::InterruptStop) == StopDecision::ResumeAgain);
  CHECK(t.resume_to_apply() == ResumeRequest{true, 0});
  CHECK(t.phase() == Phase::Running);
}

TEST_CASE("a real event is never swallowed, even with a resume deferred") {
  ThreadState t;
  t.request_resume({});
  t.request_stop();
  t.request_resume({});
  CHECK(t.on_stop(StopKind::Event) == StopDecision::Report);
  CHECK(t.stopped());
}

TEST_CASE("only one PTRACE_INTERRUPT is outstanding at a time") {
  ThreadState t;
  t.request_resume({});
  CHECK(t.request_stop());
  CHECK_FALSE(t.request_stop());
  CHECK(t.phase() == Phase::StopRequested);
  CHECK(t.on_stop(StopKind::InterruptStop) == StopDecision::Report);
}

TEST_CASE("an interrupt is not counted on after another stop: the kernel may have consumed it") {
  ThreadState t;
  t.request_resume({});
  CHECK(t.request_stop());
  CHECK(t.on_stop(StopKind::Passing) == StopDecision::Report);  // a clone event got there first
  t.request_resume({});
  CHECK(t.request_stop());  // so the next stop-all sends a new one
  CHECK(t.on_stop(StopKind::InterruptStop) == StopDecision::Report);
  // If the first one was not consumed after all, it arrives once the thread
  // runs again, and is resumed through with what gdb last asked.
  t.request_resume({true, 0});
  CHECK(t.on_stop(StopKind::InterruptStop) == StopDecision::ResumeAgain);
  CHECK(t.resume_to_apply() == ResumeRequest{true, 0});
}

TEST_CASE("a new thread's first stop is the kernel's, and counts as the interrupt") {
  ThreadState running = ThreadState::newborn();
  CHECK(running.phase() == Phase::Running);
  CHECK(running.on_stop(StopKind::InterruptStop) == StopDecision::ResumeAgain);
  CHECK(running.resume_to_apply() == ResumeRequest{false, 0});
  ThreadState during_stop_all = ThreadState::newborn();
  CHECK_FALSE(during_stop_all.request_stop());  // no interrupt needed: its stop is coming
  CHECK(during_stop_all.on_stop(StopKind::InterruptStop) == StopDecision::Report);
  CHECK(during_stop_all.stopped());
}

TEST_CASE("resuming a thread that runs, or is gone, does nothing") {
  ThreadState t;
  t.request_resume({});
  CHECK_FALSE(t.request_resume({}).has_value());
  t.on_exit();
  CHECK_FALSE(t.request_resume({}).has_value());
  CHECK_FALSE(t.request_stop());
}
