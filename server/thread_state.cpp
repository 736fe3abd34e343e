#include "server/thread_state.hpp"

namespace ustub {

ThreadState ThreadState::newborn() {
  ThreadState s;
  s.phase_ = Phase::Running;
  s.interrupt_outstanding_ = true;
  return s;
}

bool ThreadState::request_stop() {
  if (phase_ != Phase::Running) return false;
  phase_ = Phase::StopRequested;
  if (interrupt_outstanding_) return false;  // one PTRACE_INTERRUPT is enough
  interrupt_outstanding_ = true;
  return true;
}

std::optional<ResumeRequest> ThreadState::request_resume(ResumeRequest request) {
  switch (phase_) {
    case Phase::Stopped:
      phase_ = Phase::Running;
      last_resume_ = request;
      return request;
    case Phase::StopRequested:
      deferred_resume_ = request;
      return std::nullopt;
    case Phase::Running:
    case Phase::Exited:
      return std::nullopt;
  }
  return std::nullopt;
}

StopDecision ThreadState::on_stop(StopKind kind) {
  // Any ptrace-stop may consume a PTRACE_INTERRUPT sent before it (seen with
  // clone events): never count on it arriving later. If it still does, it
  // finds the thread running and is resumed through (below).
  interrupt_outstanding_ = false;
  if (kind == StopKind::InterruptStop || kind == StopKind::Passing) {
    if (phase_ == Phase::StopRequested && deferred_resume_) {
      // The resume arrived before this stop: honour it, report nothing.
      phase_ = Phase::Running;
      last_resume_ = *deferred_resume_;
      to_apply_ = *deferred_resume_;
      deferred_resume_.reset();
      return StopDecision::ResumeAgain;
    }
    if (phase_ == Phase::Running) {
      // A stale interrupt (its thread stopped for another reason first and has
      // since been resumed) or a group-stop nobody asked for: keep running.
      // The signal, if any, was delivered with the original resume.
      to_apply_ = last_resume_;
      to_apply_.host_signal = 0;
      return StopDecision::ResumeAgain;
    }
    phase_ = Phase::Stopped;
    return StopDecision::Report;
  }
  // A real event is never swallowed. If a resume was deferred, gdb already
  // believes the thread runs; this event is simply its next stop.
  deferred_resume_.reset();
  phase_ = Phase::Stopped;
  return StopDecision::Report;
}

}  // namespace ustub
