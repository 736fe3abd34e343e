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
//
// Several processes: a traced program's fork children are traced from birth.
// gdb hears of them (fork/vfork events) and then detaches them or keeps them
// as inferiors of their own; without fork events they are let go at once.
// Memory, breakpoints and watchpoints belong to a process; all-stop stops
// every thread of every process.
#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "arch/register_layout.hpp"
#include "server/agent_expression.hpp"
#include "server/breakpoint_table.hpp"
#include "server/debug_port.hpp"
#include "server/out_of_line.hpp"
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
  // Forked/VForked: a new process (child_pid), stopped at its start; VForkDone:
  // the vfork parent got its memory back.
  enum class Kind {
    Signal, Exited, Terminated, NoResumed, ThreadCreated, ThreadExited, SyscallEntry, SyscallReturn, Exec,
    Forked, VForked, VForkDone
  };
  EngineStop() = default;
  EngineStop(Kind kind, pid_t tid, int host_signal = 0) : kind(kind), tid(tid), host_signal(host_signal) {}

  Kind kind = Kind::Signal;
  pid_t tid = 0;
  int host_signal = 0;  // Signal, Terminated
  int exit_code = 0;    // Exited, ThreadExited
  long syscall_number = 0;  // SyscallEntry, SyscallReturn
  bool software_breakpoint = false;
  std::optional<arch::HardwareHit> hardware_hit;  // a hardware breakpoint or watchpoint fired
  pid_t pid = 0;        // the process it happened in (the engine fills it in)
  pid_t child_pid = 0;  // Forked, VForked
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

  // Takes over a traced process whose listed threads are all stopped; any
  // process held before is forgotten.
  void adopt(pid_t pid, const std::vector<pid_t>& tids, bool launched, EngineStop initial_stop);
  // The same, next to the processes already held (gdb's several inferiors on
  // one extended-remote connection); adopt() when there are none.
  void add_inferior(pid_t pid, const std::vector<pid_t>& tids, bool launched, EngineStop initial_stop);
  // A stopped thread is at a signal's delivery gdb has not heard of (found so
  // at attach): told at the next resume that names it, like any kept event.
  void keep_signal_stop(pid_t tid, int host_signal);
  bool has_process() const { return !processes_.empty(); }
  bool has_process(pid_t pid) const { return processes_.count(pid) != 0; }
  // The first process gdb had (or, once it is gone, another one).
  pid_t pid() const { return pid_; }
  std::vector<pid_t> process_ids() const;
  bool launched() const { return launched(pid_); }
  bool launched(pid_t pid) const;
  // Every thread of every process, each process's leader first, the first process first.
  std::vector<pid_t> thread_ids() const;
  bool thread_alive(pid_t tid) const { return threads_.count(tid) != 0; }
  pid_t process_of(pid_t tid) const;
  const EngineStop& last_stop() const { return last_stop_; }
  bool running() const;
  // An exit (of a thread or one process of several) gdb has not heard of yet:
  // the next resume tells it instead of running anything.
  bool has_untold_events() const { return !gone_thread_events_.empty(); }
  // Killed or exiting, with its leader's exit status still to come.
  bool exiting() const { return pid_ && ops_->exiting(pid_); }
  // Every thread left is past PTRACE_EVENT_EXIT: the exit is on its way.
  bool only_exiting_threads() const {
    return !threads_.empty() &&
           std::all_of(threads_.begin(), threads_.end(), [](const auto& e) { return e.second.exiting; });
  }
  void set_stop_handler(StopHandler handler) { on_stop_ = std::move(handler); }
  // --debug: one line per kernel event and per request the engine makes.
  void set_event_log(std::function<void(const std::string&)> log) { log_ = std::move(log); }
  // With gdb's "swbreak" feature the stub moves the pc back onto the breakpoint;
  // without it gdb does that itself and the pc must be left alone.
  void set_rewind_pc_at_breakpoints(bool rewind) { rewind_pc_at_breakpoints_ = rewind; }
  // QPassSignals: these host signals go straight to the program, gdb never stops for them.
  void set_pass_signals(std::set<int> host_signals) { pass_signals_ = std::move(host_signals); }
  // QProgramSignals: the signals gdb lets reach the program; a thread detached
  // while stopped at one of them gets it on the way out (gdbserver's rule).
  void set_program_signals(std::set<int> host_signals) { program_signals_ = std::move(host_signals); }
  // QThreadEvents: new threads and thread exits become stops gdb hears of.
  void set_report_thread_events(bool on) { report_thread_events_ = on; }
  // QCatchSyscalls: stop at the entry and return of these syscalls (empty: all).
  void set_catch_syscalls(bool on, std::set<long> numbers = {}) {
    catch_syscalls_ = on;
    caught_syscalls_ = std::move(numbers);
  }
  // fork-events / vfork-events: gdb follows fork children. Without them a
  // child is let go at its first stop, with our breakpoints taken out of it.
  void set_report_fork_events(bool fork, bool vfork) {
    report_forks_ = fork;
    report_vforks_ = vfork;
  }

  // All of the above that gdb set, to be put back as it was.
  struct Reporting {
    bool non_stop, thread_events, catch_syscalls, forks, vforks, rewind_pc;
    std::set<long> caught_syscalls;
    std::set<int> pass_signals;
  };
  Reporting reporting() const {
    return {non_stop_, report_thread_events_, catch_syscalls_, report_forks_, report_vforks_,
            rewind_pc_at_breakpoints_, caught_syscalls_, pass_signals_};
  }
  void set_reporting(const Reporting& r) {
    set_non_stop(r.non_stop);
    set_report_thread_events(r.thread_events);
    set_catch_syscalls(r.catch_syscalls, r.caught_syscalls);
    set_report_fork_events(r.forks, r.vforks);
    set_rewind_pc_at_breakpoints(r.rewind_pc);
    set_pass_signals(r.pass_signals);
  }

  const arch::RegisterLayout& layout() const { return *layout_; }
  const arch::Arch& arch() const { return *arch_; }
  bool read_register(pid_t tid, unsigned regnum, std::vector<std::uint8_t>& value);
  bool write_register(pid_t tid, unsigned regnum, std::span<const std::uint8_t> value);
  std::optional<std::uint64_t> pc(pid_t tid);
  // Where a stopped thread's dtv pointer is (Arch::dtv_pointer_address).
  std::optional<std::uint64_t> dtv_pointer_address(pid_t tid);
  // The siginfo of the signal that stopped a stopped thread; empty if none.
  std::vector<std::uint8_t> siginfo(pid_t tid);
  // Changes part of it (gdb's "set $_siginfo..."); bytes written, or -errno.
  long write_siginfo(pid_t tid, std::uint64_t offset, std::span<const std::uint8_t> bytes);

  // In process `pid`. Bytes transferred, or -errno. Reads show no breakpoint instructions.
  long read_memory(pid_t pid, std::uint64_t address, std::span<std::uint8_t> out);
  long write_memory(pid_t pid, std::uint64_t address, std::span<const std::uint8_t> in);
  int insert_breakpoint(pid_t pid, std::uint64_t address);  // 0 or errno
  int remove_breakpoint(pid_t pid, std::uint64_t address);
  // gdb's conditions and commands for its breakpoint at `address` (agent
  // expressions; no conditions: every hit counts). A hit whose conditions are
  // all false is stepped over here and never told; one whose conditions hold
  // runs the commands (a dprintf's printf), and is then stepped over too.
  // Where that cannot be done safely the hit is told, and gdb, which checks
  // conditions itself and treats a dprintf's hit as "go on", goes on.
  // `persist`: gdb wants the commands to go on running after it detaches
  // (its `set disconnected-dprintf on`).
  void set_breakpoint_agent(pid_t pid, std::uint64_t address, std::vector<std::vector<std::uint8_t>> conditions,
                            std::vector<std::vector<std::uint8_t>> commands, bool persist = false);
  // A breakpoint of the process has commands gdb asked to persist.
  bool has_persistent_commands(pid_t pid) const;
  // Takes out every breakpoint of the process.
  void remove_all_breakpoints(pid_t pid) {
    if (Process* p = find_process(pid)) remove_all_breakpoints(*p);
  }
  // Takes out every breakpoint of the process but those with persistent commands.
  void keep_only_persistent_breakpoints(pid_t pid);
  // Where the commands' printf output goes (gdbserver: its stdout).
  void set_agent_output(std::function<void(const std::string&)> out) { agent_output_ = std::move(out); }
  // The same, in the first process.
  long read_memory(std::uint64_t address, std::span<std::uint8_t> out) { return read_memory(pid_, address, out); }
  long write_memory(std::uint64_t address, std::span<const std::uint8_t> in) { return write_memory(pid_, address, in); }
  int insert_breakpoint(std::uint64_t address) { return insert_breakpoint(pid_, address); }
  int remove_breakpoint(std::uint64_t address) { return remove_breakpoint(pid_, address); }
  // Whether gdb may have Z1–Z4 in this process (no: an empty reply, and gdb uses software watchpoints).
  bool has_hardware_debug(pid_t pid);
  // Z1–Z4 in every thread of the process, present and future. 0 or errno (ENOSPC: out of slots).
  int insert_hardware(pid_t pid, arch::WatchKind kind, std::uint64_t address, std::uint64_t length);
  int remove_hardware(pid_t pid, arch::WatchKind kind, std::uint64_t address, std::uint64_t length);

  void resume(const std::vector<ThreadResume>& plan);
  // All-stop: every thread stops and gdb hears SIGINT. Non-stop: one running
  // thread (the leader if it runs) stops and reports SIGINT; the rest run on.
  void interrupt();
  // The same, telling `signal` instead of SIGINT when nothing else stopped them.
  void interrupt(int signal);
  // Non-stop (QNonStop:1): an event stops only its own thread and is told at
  // once; the other threads run on. Off: all-stop, as before.
  void set_non_stop(bool on) { non_stop_ = on; }
  bool non_stop() const { return non_stop_; }
  // Non-stop's vCont;t: these threads stop, each telling gdb (signal 0) once
  // it has; threads already stopped stay as they are.
  void stop_threads(const std::vector<pid_t>& tids);
  bool thread_stopped(pid_t tid) const;
  // Whether gdb knows of the thread's stop, as non-stop's '?' left it.
  void stop_told(pid_t tid, bool told);
  // Feeds one wait status (from the SIGCHLD drain, or a test script).
  void handle_wait(const WaitResult& result);
  // Collects the statuses the kernel has ready, without blocking: at most
  // `limit` of them. True when it stopped there (more may be ready).
  bool drain_events(std::size_t limit = SIZE_MAX);
  // Waits for the kernel's next status, then collects the rest. Only when
  // one is sure to come (after an interrupt): it blocks until then.
  void wait_for_events();

  // SIGKILL and reap every process; returns once they are gone.
  void kill();
  void kill(pid_t pid);
  // Remove breakpoints, stop what runs, let every thread go; returns once detached.
  void detach();
  void detach(pid_t pid);

 private:
  struct Thread {
    pid_t tid;
    pid_t pid;  // its process
    ThreadState state;
    std::unique_ptr<RegisterCache> registers;
    std::optional<EngineStop> pending{};  // met while the others were being stopped; not told yet
    std::uint64_t pending_pc = 0;       // where a pending breakpoint hit was
    // Signals owed to the thread, delivered one per resume: a pass signal met
    // while all were stopping, or one gdb resumed it with when a kept event
    // was told instead of resuming.
    std::deque<int> held_signals{};
    bool needs_debug_registers = false;  // new: the kernel did not copy them from its creator
    bool exiting = false;                // past PTRACE_EVENT_EXIT: runs on to its end, never stops again
    // Its last ptrace-stop was a group-stop (SIGSTOP & co. from outside): a
    // plain continue leaves it stopped (PTRACE_LISTEN) until SIGCONT, as the
    // program would be without a debugger.
    bool in_group_stop = false;
    bool first_stop_unseen = false;        // a new thread, before its first stop
    int delivery_signal = 0;               // stopped at this signal's delivery since attach, not resumed
    std::optional<long> syscall_at_entry{};  // inside this syscall, stopped at its entry
    bool at_syscall_return = false;        // stopped at a syscall's exit
    // A single-step over a syscall instruction, made as a run to the
    // syscall's exit stop (see Arch::single_step_overshoots).
    bool stepping_through_syscall = false;
    // Non-stop: gdb asked for this thread to stop; its next stop is told
    // with this signal (0 for vCont;t, SIGINT for a Ctrl-C).
    std::optional<int> stop_for_gdb{};
    // Non-stop: gdb has heard of this thread's current stop. One it has not
    // (stopped by the attach, say) is told when gdb asks it to stop.
    bool stop_told = false;
    // Its step runs through an atomic sequence to these addresses
    // (Arch::atomic_sequence_exits) instead of single-stepping.
    std::vector<std::uint64_t> atomic_exits{};
    // It ran into a breakpoint planted for another thread's atomic step and
    // waits, unseen, until that step is over.
    bool parked = false;
    // Its last stop was a signal-delivery-stop, where ptrace can hand it a
    // signal; at any other stop a signal gdb gives it is sent (tgkill) and
    // let through when it arrives.
    bool at_signal_delivery = false;
    std::deque<int> sent_signals{};
    // The pending event is the end of a single-step gdb asked for: it means
    // nothing once gdb resumes the thread otherwise (gdbserver's rule too).
    bool pending_step_end = false;
    // A range step under way (vCont;r; range() false: none): gdb hears of the
    // thread only once its pc leaves the range. It runs on breakpoints of
    // ours at the range's exits (Arch::plan_range_step) when nothing else of
    // its process can run into them, else one single-step at a time.
    ResumeRequest range_step{};
    // Stepping over the breakpoint at this address, whose conditions were
    // false, with its instruction back in place; then on as gdb asked.
    std::optional<std::uint64_t> stepping_over{};
    ResumeRequest after_step_over{};
    // The breakpoint whose commands ran at a hit that was then told, or kept
    // pending: until the thread is seen past it, hitting it again is that same
    // hit, run again because gdb never took it (its pc is still there).
    std::optional<std::uint64_t> commands_ran_at{};
    // Making the syscall that maps its process's out-of-line page: the
    // registers to put back, and where the syscall instruction is.
    std::optional<std::vector<std::uint8_t>> registers_before_mapping{};
    std::uint64_t mapping_syscall_at = 0;
    // It hit a breakpoint to go on out of line while another thread was
    // mapping the page: it waits there, untold, and runs into the breakpoint
    // again once the mapping is over (told, the hit would be a round trip to
    // gdb, and in all-stop a stop of every thread).
    bool awaiting_out_of_line_page = false;
    std::optional<arch::RangeStepPlan> range_plan{};  // for range_planned_for, once decoded
    std::pair<std::uint64_t, std::uint64_t> range_planned_for{};
  };

  struct Process {
    pid_t pid;
    bool launched = false;
    BreakpointTable breakpoints;
    // Addresses that held one of ours: late traps from them are stale.
    std::set<std::uint64_t> removed_breakpoints;
    std::unique_ptr<arch::HardwareDebug> hw;
    bool hw_probed = false;  // what the hardware has is learnt from a stopped thread, once
    std::map<std::uint64_t, std::vector<std::uint8_t>> read_watch_values;  // by piece address
    // A fork child gdb is not to hear of: let go once its first stop lands.
    bool let_go_at_first_stop = false;
    bool shares_parent_memory = false;  // a vfork child, until it execs or exits
    // Non-stop: its parent's fork event, told once this child's first stop is
    // in (gdb reads the child's registers as soon as it hears of it).
    std::optional<EngineStop> fork_to_tell;
    // One thread's step through an atomic sequence at a time: its thread and
    // the breakpoints planted for it (gdb's own ones at the exits are not).
    pid_t atomic_stepper = 0;
    std::set<std::uint64_t> atomic_breakpoints;
    // The one thread whose range step runs on breakpoints of ours, and those
    // breakpoints (gdb's own at the same places are not among them).
    pid_t range_stepper = 0;
    std::set<std::uint64_t> range_breakpoints;
    struct BreakpointAgent {
      std::vector<std::vector<std::uint8_t>> conditions, commands;
      bool persist = false;
      // Commands gdb wants run on after it detaches.
      bool persistent_commands() const { return persist && !commands.empty(); }
    };
    std::map<std::uint64_t, BreakpointAgent> breakpoint_agents;
    OutOfLineArea out_of_line;
  };

  Thread* find(pid_t tid);
  Process* find_process(pid_t pid);
  Process& process(Thread& t) { return processes_.at(t.pid); }
  Thread& add_thread(pid_t tid, pid_t pid, ThreadState state = {});
  Thread& add_newborn(pid_t tid, pid_t pid, bool hold);
  bool steps_alone(const Thread& t) const;
  bool another_thread_of_its_process_runs(const Thread& t) const;
  Process& add_process(pid_t pid, bool launched);
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
  // A thread or process that is gone has something to tell (its exit).
  void gone_thread_event(const EngineStop& stop);
  void handle_syscall_stop(Thread& t, bool stepping_through);
  bool step_overshoots(Thread& t);
  void handle_fork(Thread& t, int event);
  void handle_exit(pid_t tid, int status);
  // A fork child gdb never hears of: our breakpoints out of its memory, and go.
  void let_go(Process& child);
  // Non-stop: a fork event held until the child's first stop, told now.
  void tell_held_fork(Process& child);
  arch::HardwareDebug* hardware(Process& p);
  void forbid_syscall_restart(Thread& t);
  long syscall_number_register(Thread& t);
  bool pending_still_valid(Thread& t);
  bool sent_by_tgkill(Thread& t);
  // Its interrupt stop came just after it ran into our breakpoint, the trap still queued.
  bool trap_queued_behind_interrupt(Thread& t);  // its signal-delivery-stop is for a tgkill'd signal
  // `range_under_way`: a range step's thread goes on (its first instruction
  // is always single-stepped: only then is it known what else gdb resumed).
  void start(Thread& t, ResumeRequest request, bool range_under_way = false);
  // A step at a load-reserve: plant breakpoints at the sequence's exits and
  // continue. False: not at one (or another thread's is under way): single-step.
  bool start_atomic_step(Thread& t, int host_signal);
  // The step's thread reached an exit: true, with the pc on it.
  bool reached_atomic_exit(Thread& t);
  // Another thread ran into one of those breakpoints: true, and it waits.
  bool park_at_atomic_breakpoint(Thread& t, const TrapInfo& trap);
  void end_atomic_step(Process& p, bool release_parked);
  // A stop of a thread in a range step: true when it stays in the range and
  // runs on unseen; false when the stop is handled as any other (the range
  // step is over either way, and our breakpoints are out).
  bool range_step_goes_on(Thread& t, int event, int signal);
  // Plants the range's exits and continues the thread; false when it must
  // single-step instead (see Thread::range_step).
  bool run_through_range(Thread& t);
  const arch::RangeStepPlan* range_plan(Thread& t);
  void remove_range_breakpoints(Process& p);
  // A hit of a breakpoint with conditions or commands: true when gdb need not
  // see it (its conditions are all false, or its commands ran) and the thread
  // is on its way over it.
  bool pass_hit_without_gdb(Thread& t, std::uint64_t address);
  // The hit's conditions: true when all are false; nullopt when one cannot
  // be evaluated (gdb then judges).
  std::optional<bool> conditions_all_false(Thread& t, const std::vector<std::vector<std::uint8_t>>& conditions);
  void run_breakpoint_commands(Thread& t, std::uint64_t address, const std::vector<std::vector<std::uint8_t>>& commands);
  AgentContext agent_context(Thread& t);
  // The step over is done (or cut short): the breakpoint goes back in. True
  // when the thread ran on as gdb had asked and the stop is no more.
  bool finish_step_over(Thread& t, int event, int signal);
  // Out-of-line runs of instructions under breakpoints (engine_out_of_line.cpp).
  bool out_of_line_possible(const Thread& t) const;
  bool run_out_of_line(Thread& t, std::uint64_t address);
  bool awaits_out_of_line_page(const Thread& t) const;
  void release_threads_awaiting_page(pid_t pid);
  // `code`: the bytes at `address` (breakpoints hidden), from run_out_of_line's read.
  std::optional<std::uint64_t> copy_out_of_line(Process& p, std::uint64_t address, std::span<const std::uint8_t> code);
  bool start_mapping_out_of_line(Thread& t, std::uint64_t near);
  bool finish_mapping_out_of_line(Thread& t, int event, int signal);
  void put_back_from_out_of_line(Thread& t);
  void report(const EngineStop& stop);
  void process_gone(const EngineStop& stop);
  EngineStop decode_trap(Thread& t, const TrapInfo& trap);
  bool rewind_to_removed_breakpoint(Thread& t, const TrapInfo& trap);
  void remove_all_breakpoints(Process& p);
  bool breakpoint_still_planted(pid_t pid, std::uint64_t address);
  int write_debug_registers(Thread& t);
  std::optional<arch::HardwareHit> hardware_hit(Thread& t);
  // A read watchpoint on x86 also fires on writes: true if the value changed (a write).
  bool read_watch_saw_a_write(Process& p, const arch::HardwareHit& hit);
  void note_read_watch_values(Process& p);
  // Stops every thread of `pid` for a detach; the signals each was stopped by.
  std::map<pid_t, int> stop_for_detach(pid_t pid);
  void forget_process(pid_t pid);
  void reset();

  const arch::Arch* arch_;
  PtraceOps* ops_;
  PtraceDebugPort debug_port_{*ops_};
  pid_t pid_ = 0;
  std::map<pid_t, Process> processes_;
  std::map<pid_t, Thread> threads_;
  std::unique_ptr<arch::RegisterLayout> layout_;
  EngineStop last_stop_;
  bool stopping_all_ = false;
  bool awaiting_stop_ = false;  // something was resumed and gdb has not heard of a stop since
  std::set<pid_t> born_before_announced_;  // first stop seen, creator's clone or fork event not yet
  std::optional<EngineStop> reporting_;  // what gdb hears once all are stopped (none: a Ctrl-C)
  int interrupt_signal_ = SIGINT;        // what a Ctrl-C's stop tells
  unsigned random_state_ = 1;
  StopHandler on_stop_;
  std::function<void(const std::string&)> log_;
  std::function<void(const std::string&)> agent_output_;
  bool rewind_pc_at_breakpoints_ = true;
  std::set<int> pass_signals_;
  std::optional<std::set<int>> program_signals_;  // none: gdb never said
  bool report_thread_events_ = false;
  bool catch_syscalls_ = false;
  std::set<long> caught_syscalls_;
  bool report_forks_ = false;
  bool report_vforks_ = false;
  std::deque<EngineStop> gone_thread_events_;  // exits met while another event was being told
  bool non_stop_ = false;
};

}  // namespace ustub
