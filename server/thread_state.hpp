#pragma once
// One explicit state per traced thread and the one function family that moves
// it. The rule it exists for (utrace-devel, "UTRACE_STOP is useless due to a
// race"): a resume that gdb asks for before the thread's stop has landed is
// recorded and applied when the stop lands — never dropped — and that stop is
// then not reported.
#include <cstdint>
#include <optional>

namespace ustub {

struct ResumeRequest {
  bool step = false;
  int host_signal = 0;
  // A range step (vCont;r): step = true, and the thread is told stopped only
  // once its pc leaves [range_start, range_end). Empty when range_end == 0.
  std::uint64_t range_start = 0;
  std::uint64_t range_end = 0;
  bool range() const { return range_end > range_start; }
  bool operator==(const ResumeRequest&) const = default;
};

enum class StopKind {
  InterruptStop,  // PTRACE_EVENT_STOP: our PTRACE_INTERRUPT (or a group-stop) landed
  Passing,        // an event only the engine cares about (a clone): gdb never hears of it
  Event,          // anything gdb must hear about: trap, signal, exec, …
};

enum class StopDecision {
  Report,       // the thread is stopped (an Event: tell gdb; else it stopped as asked)
  ResumeAgain,  // nobody wants this stop; resume with resume_to_apply()
};

class ThreadState {
 public:
  enum class Phase { Running, StopRequested, Stopped, Exited };

  // A thread just cloned: it runs, and its first stop (the kernel's, for
  // auto-attached threads) counts as an interrupt we already sent.
  static ThreadState newborn();

  Phase phase() const { return phase_; }
  bool stopped() const { return phase_ == Phase::Stopped; }
  bool interrupt_outstanding() const { return interrupt_outstanding_; }
  ResumeRequest resume_to_apply() const { return to_apply_; }
  ResumeRequest last_resume() const { return last_resume_; }

  // gdb (or stop-all) wants the thread stopped. True: send PTRACE_INTERRUPT now.
  bool request_stop();
  // gdb wants the thread to run. Returns the request to carry out now; nullopt
  // when it is deferred until the pending stop lands (or the thread is gone).
  std::optional<ResumeRequest> request_resume(ResumeRequest request);
  // The kernel reported a stop for this thread.
  StopDecision on_stop(StopKind kind);
  // The thread was resumed by the engine itself (e.g. a breakpoint step-over).
  void on_internal_resume() { phase_ = Phase::Running; }
  void on_exit() { phase_ = Phase::Exited; }

 private:
  Phase phase_ = Phase::Stopped;
  bool interrupt_outstanding_ = false;  // PTRACE_INTERRUPT sent, its stop not yet seen
  std::optional<ResumeRequest> deferred_resume_;
  ResumeRequest last_resume_;
  ResumeRequest to_apply_;
};

}  // namespace ustub
