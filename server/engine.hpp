#pragma once
// The ptrace engine: traced threads with explicit states, stop decoding,
// resume plans, breakpoints and memory. It talks to the kernel only through
// PtraceOps and never blocks except in kill()/detach(), which must finish
// before they return.
//
// All-stop, as gdb expects from a stub: when one thread has something to
// report, every other thread is stopped before gdb hears of it. An event
// another thread meets meanwhile is kept on that thread and told at a later
// resume instead of resuming it (chosen at random among several, so no thread
// starves), or dropped if it was a breakpoint gdb has since removed or the
// thread's pc was moved off it (gdbserver's rules).
#include <sys/types.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "arch/register_layout.hpp"
#include "server/breakpoint_table.hpp"
#include "server/ptrace_ops.hpp"
#include "server/register_cache.hpp"
#include "server/thread_state.hpp"

namespace ustub {

struct EngineStop {
  // NoResumed: every thread gdb resumed has exited, the rest are stopped
  // (gdb's "N" reply: "No unwaited-for children left").
  // ThreadCreated/ThreadExited: only when gdb asked for thread events.
  // SyscallEntry/SyscallReturn: only while gdb catches syscalls.
  // Exec: the process runs a new program (a SIGTRAP for gdbs without exec events).
  enum class Kind { Signal, Exited, Terminated, NoResumed, ThreadCreated, ThreadExited, SyscallEntry, SyscallReturn, Exec };
  Kind kind = Kind::Signal;
  pid_t tid = 0;
  int host_signal = 0;  // Signal, Terminated
  int exit_code = 0;    // Exited, ThreadExited
  long syscall_number = 0;  // SyscallEntry, SyscallReturn
  bool software_breakpoint = false;
  std::optional<arch::HardwareHit> hardware_hit;  // a hardware breakpoint or watchpoint fired
  bool process_ended() const { return kind == Kind::Exited || kind == Kind::Terminated; }
};

struct ThreadResume {
  pid_t tid;
  ResumeRequest request;
};

class Engine {
 public:
  using StopHandler = std::function<void(const EngineStop&)>;

  Engine(const arch::Arch& arch, PtraceOps& ops);

  // Takes over a traced process whose listed threads are all stopped.
  void adopt(pid_t pid, const std::vector<pid_t>& tids, bool launched, EngineStop initial_stop);
  bool has_process() const { return pid_ != 0; }
  pid_t pid() const { return pid_; }
  bool launched() const { return launched_; }
  std::vector<pid_t> thread_ids() const;
  bool thread_alive(pid_t tid) const { return threads_.count(tid) != 0; }
  const EngineStop& last_stop() const { return last_stop_; }
  bool running() const;
  // Killed or exiting, with its leader's exit status still to come.
  bool exiting() const { return pid_ && ops_->exiting(pid_); }
  void set_stop_handler(StopHandler handler) { on_stop_ = std::move(handler); }
  // --debug: one line per kernel event and per request the engine makes.
  void set_event_log(std::function<void(const std::string&)> log) { log_ = std::move(log); }
  // With gdb's "swbreak" feature the stub moves the pc back onto the breakpoint;
  // without it gdb does that itself and the pc must be left alone.
  void set_rewind_pc_at_breakpoints(bool rewind) { rewind_pc_at_breakpoints_ = rewind; }
  // QPassSignals: these host signals go straight to the program, gdb never stops for them.
  void set_pass_signals(std::set<int> host_signals) { pass_signals_ = std::move(host_signals); }
  // QThreadEvents: new threads and thread exits become stops gdb hears of.
  void set_report_thread_events(bool on) { report_thread_events_ = on; }
  // QCatchSyscalls: stop at the entry and return of these syscalls (empty: all).
  void set_catch_syscalls(bool on, std::set<long> numbers = {}) {
    catch_syscalls_ = on;
    caught_syscalls_ = std::move(numbers);
  }

  const arch::RegisterLayout& layout() const { return *layout_; }
  const arch::Arch& arch() const { return *arch_; }
  bool read_register(pid_t tid, unsigned regnum, std::vector<std::uint8_t>& value);
  bool write_register(pid_t tid, unsigned regnum, std::span<const std::uint8_t> value);
  std::optional<std::uint64_t> pc(pid_t tid);
  // The siginfo of the signal that stopped a stopped thread; empty if none.
  std::vector<std::uint8_t> siginfo(pid_t tid);
  // Changes part of it (gdb's "set $_siginfo..."); bytes written, or -errno.
  long write_siginfo(pid_t tid, std::uint64_t offset, std::span<const std::uint8_t> bytes);

  // Bytes transferred, or -errno. Reads show no breakpoint instructions.
  long read_memory(std::uint64_t address, std::span<std::uint8_t> out);
  long write_memory(std::uint64_t address, std::span<const std::uint8_t> in);
  int insert_breakpoint(std::uint64_t address);  // 0 or errno
  int remove_breakpoint(std::uint64_t address);
  bool has_hardware_debug() const { return hw_ != nullptr; }
  // Z1–Z4 in every thread, present and future. 0 or errno (ENOSPC: out of slots).
  int insert_hardware(arch::WatchKind kind, std::uint64_t address, std::uint64_t length);
  int remove_hardware(arch::WatchKind kind, std::uint64_t address, std::uint64_t length);

  void resume(const std::vector<ThreadResume>& plan);
  void interrupt();
  // Feeds one wait status (from the SIGCHLD drain, or a test script).
  void handle_wait(const WaitResult& result);
  // Collects every status the kernel has ready, without blocking.
  void drain_events();

  // SIGKILL and reap; returns once the process is gone.
  void kill();
  // Remove breakpoints, stop what runs, let every thread go; returns once detached.
  void detach();

 private:
  struct Thread {
    pid_t tid;
    ThreadState state;
    std::unique_ptr<RegisterCache> registers;
    std::optional<EngineStop> pending;  // met while the others were being stopped; not told yet
    std::uint64_t pending_pc = 0;       // where a pending breakpoint hit was
    // Signals owed to the thread, delivered one per resume: a pass signal met
    // while all were stopping, or one gdb resumed it with when a kept event
    // was told instead of resuming.
    std::deque<int> held_signals;
    bool needs_debug_registers = false;  // new: the kernel did not copy them from its creator
    bool exiting = false;                // past PTRACE_EVENT_EXIT: runs on to its end, never stops again
    // Its last ptrace-stop was a group-stop (SIGSTOP & co. from outside): a
    // plain continue leaves it stopped (PTRACE_LISTEN) until SIGCONT, as the
    // program would be without a debugger.
    bool in_group_stop = false;
    bool first_stop_unseen = false;          // a new thread, before its first stop
    std::optional<long> syscall_at_entry;    // inside this syscall, stopped at its entry
  };

  Thread* find(pid_t tid);
  Thread& add_thread(pid_t tid, ThreadState state = {});
  Thread& add_newborn(pid_t tid, bool hold);
  // One thread has `stop` to tell: stop the others first (or keep it pending
  // when that is already under way).
  void event_to_report(Thread& t, const EngineStop& stop);
  void stop_all_others();
  void send_interrupt(pid_t tid);
  void finish_stop_all_if_done();
  void resume_quietly(Thread& t, ResumeRequest was, int signal);
  // gdb waits, but every thread it resumed is gone: tell it so.
  void report_if_nothing_resumed();
  void forget_all_threads_but(pid_t tid);
  // A thread that is gone has something to tell (its exit, with thread events on).
  void gone_thread_event(const EngineStop& stop);
  void handle_syscall_stop(Thread& t);
  long syscall_number_register(Thread& t);
  bool pending_still_valid(Thread& t);
  void start(Thread& t, ResumeRequest request);
  void report(const EngineStop& stop);
  void process_gone(const EngineStop& stop);
  EngineStop decode_trap(Thread& t, const TrapInfo& trap);
  bool rewind_to_removed_breakpoint(Thread& t, const TrapInfo& trap);
  void remove_all_breakpoints();
  bool breakpoint_still_planted(std::uint64_t address);
  int write_debug_registers(Thread& t);
  std::optional<arch::HardwareHit> hardware_hit(Thread& t);
  // A read watchpoint on x86 also fires on writes: true if the value changed (a write).
  bool read_watch_saw_a_write(const arch::HardwareHit& hit);
  void reset();

  const arch::Arch* arch_;
  PtraceOps* ops_;
  pid_t pid_ = 0;
  bool launched_ = false;
  std::map<pid_t, Thread> threads_;
  std::unique_ptr<arch::RegisterLayout> layout_;
  BreakpointTable breakpoints_;
  std::unique_ptr<arch::HardwareDebug> hw_;
  std::map<std::uint64_t, std::vector<std::uint8_t>> read_watch_values_;  // by piece address
  EngineStop last_stop_;
  bool stopping_all_ = false;
  bool awaiting_stop_ = false;  // something was resumed and gdb has not heard of a stop since
  std::set<pid_t> born_before_announced_;
  std::set<std::uint64_t> removed_breakpoints_;  // addresses that held one of ours: late traps from them are stale  // first stop seen, creator's clone event not yet
  std::optional<EngineStop> reporting_;  // what gdb hears once all are stopped (none: a Ctrl-C)
  unsigned random_state_ = 1;
  StopHandler on_stop_;
  std::function<void(const std::string&)> log_;
  bool rewind_pc_at_breakpoints_ = true;
  std::set<int> pass_signals_;
  bool report_thread_events_ = false;
  bool catch_syscalls_ = false;
  std::set<long> caught_syscalls_;
  std::deque<EngineStop> gone_thread_events_;  // exits met while another event was being told
};

}  // namespace ustub
