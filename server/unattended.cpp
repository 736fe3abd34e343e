#include "server/unattended.hpp"

#include <signal.h>

#include <set>
#include <utility>
#include <vector>

namespace ustub {

bool UnattendedProcess::keep_running(pid_t pid) {
  // In all-stop, one process's stop stops every process held: only a process
  // held alone can run on by itself.
  if (pid_ || !engine_.has_persistent_commands(pid) || engine_.process_ids() != std::vector<pid_t>{pid}) return false;
  engine_.keep_only_persistent_breakpoints(pid);
  gdbs_settings_ = engine_.reporting();
  // Nobody is there to hear of threads, syscalls or forks (fork children go
  // at once, without our breakpoints). Signals go straight on to the
  // program, but for those a breakpoint could raise, which come here.
  engine_.set_non_stop(false);
  engine_.set_report_thread_events(false);
  engine_.set_catch_syscalls(false);
  engine_.set_report_fork_events(false, false);
  engine_.set_rewind_pc_at_breakpoints(true);
  std::set<int> every_signal;
  for (int signal = 1; signal < NSIG; ++signal) every_signal.insert(signal);
  engine_.set_pass_signals(std::move(every_signal));
  pid_ = pid;
  run_all();
  return true;
}

bool UnattendedProcess::on_stop(const EngineStop& stop) {
  if (!pid_) return false;
  if (stop.process_ended()) {
    pid_ = 0;
    taking_back_ = false;
    stepping_alone_.reset();
    return true;
  }
  if (stop.kind == EngineStop::Kind::NoResumed) return true;  // the process's end is on its way
  if (taking_back_) {
    taking_back_ = false;  // everything is stopped: gdb's now
    return true;
  }
  bool our_step = stepping_alone_ == stop.tid;
  if (our_step) stepping_alone_.reset();
  bool at_breakpoint = stop.kind == EngineStop::Kind::Signal && stop.software_breakpoint;
  auto pc = at_breakpoint ? engine_.pc(stop.tid) : std::nullopt;
  if (at_breakpoint && pc && our_step && *pc == stepping_from_) {
    // It cannot be stepped over (the program's own trap instruction under
    // it, or a syscall on powerpc): that dprintf ends here.
    engine_.remove_breakpoint(pid_, *pc);
    at_breakpoint = false;
  }
  if (at_breakpoint && pc) {
    // The engine could not step over it while other threads ran (its
    // commands have run): alone, it can.
    stepping_alone_ = stop.tid;
    stepping_from_ = *pc;
    engine_.resume({{stop.tid, {.step = true}}});
    return true;
  }
  if (!engine_.has_persistent_commands(pid_)) {
    release();  // a new program (exec), or no dprintf left: nothing to keep it for
    return true;
  }
  bool program_signal = stop.kind == EngineStop::Kind::Signal && !our_step && !at_breakpoint;
  run_all(stop.tid, program_signal ? stop.host_signal : 0);
  return true;
}

bool UnattendedProcess::take_back() {
  if (!pid_) return false;
  pid_t pid = pid_;
  stepping_alone_.reset();
  if (engine_.running()) {
    taking_back_ = true;
    engine_.interrupt(SIGTRAP);  // what an attach's stop tells gdb
    while (taking_back_ && pid_) engine_.wait_for_events();
  }
  if (!pid_) return false;
  pid_ = 0;
  engine_.set_reporting(gdbs_settings_);
  engine_.remove_all_breakpoints(pid);
  return true;
}

void UnattendedProcess::release() {
  if (!pid_) return;
  pid_t pid = std::exchange(pid_, 0);
  taking_back_ = false;
  stepping_alone_.reset();
  engine_.detach(pid);
}

void UnattendedProcess::run_all(pid_t signalled_tid, int signal) {
  std::vector<ThreadResume> plan;
  for (pid_t tid : engine_.thread_ids()) plan.push_back({tid, {.host_signal = tid == signalled_tid ? signal : 0}});
  engine_.resume(plan);
}

}  // namespace ustub
