#pragma once
// A process gdb detached from while it had dprintfs whose commands gdb asked
// to persist (`set dprintf-style agent` with `set disconnected-dprintf on`,
// gdb's default): it runs on, still traced, so that those dprintfs go on
// printing on ustub's console (gdbserver's behaviour). Nobody is told of its
// stops: a signal goes on to the program, a breakpoint is stepped over.
//
// It stays so until it ends, a gdb takes it back (the next connection in
// plain remote mode, or `attach PID`), or ustub lets it go (exit, SIGTERM,
// another process to debug), which is the detach gdb asked for, late.
#include <sys/types.h>

#include <cstdint>
#include <optional>

#include "server/engine.hpp"

namespace ustub {

class UnattendedProcess {
 public:
  explicit UnattendedProcess(Engine& engine) : engine_(engine) {}

  // gdb detaches from `pid`: true when it now runs on unattended (it has
  // persistent commands and is the only process held), false when it is
  // for the caller to detach as usual.
  bool keep_running(pid_t pid);
  bool holds(pid_t pid) const { return pid_ && pid_ == pid; }
  bool holds_any() const { return pid_ != 0; }
  pid_t pid() const { return pid_; }
  // A stop of the engine. True when it was this process's, and was dealt with
  // (its end only forgets it: the caller still says so).
  bool on_stop(const EngineStop& stop);
  // Stops it, as an attach would (a SIGTRAP stop, the engine's last stop),
  // and gives it back to gdb with its persistent breakpoints out. Returns
  // once it is stopped; false if it ended meanwhile.
  bool take_back();
  // Detaches it, breakpoints out: the program runs on by itself.
  void release();

 private:
  void run_all(pid_t signalled_tid = 0, int signal = 0);

  Engine& engine_;
  pid_t pid_ = 0;
  Engine::Reporting gdbs_settings_{};  // put back when a gdb takes it back
  bool taking_back_ = false;
  // A thread stopped at one of the breakpoints: it steps over it alone first
  // (the engine does that, commands and all), then everyone runs.
  std::optional<pid_t> stepping_alone_;
  std::uint64_t stepping_from_ = 0;
};

}  // namespace ustub
