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
  CHECK(t.interrupt_outstanding());  // its interrupt stop is still to come
}

TEST_CASE("only one PTRACE_INTERRUPT is outstanding at a time") {
  ThreadState t;
  t.request_resume({});
  CHECK(t.request_stop());
  t.on_stop(StopKind::Event);
  t.request_resume({});
  CHECK_FALSE(t.request_stop());  // the first one's stop has not arrived yet
  CHECK(t.phase() == Phase::StopRequested);
  CHECK(t.on_stop(StopKind::InterruptStop) == StopDecision::Report);
}

TEST_CASE("resuming a thread that runs, or is gone, does nothing") {
  ThreadState t;
  t.request_resume({});
  CHECK_FALSE(t.request_resume({}).has_value());
  t.on_exit();
  CHECK_FALSE(t.request_resume({}).has_value());
  CHECK_FALSE(t.request_stop());
}
