#include "server/engine.hpp"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace ustub {

namespace {
constexpr int kTrapBreakpoint = 1;  // TRAP_BRKPT
constexpr int kSiKernel = 0x80;     // SI_KERNEL: x86 int3

// A PTRACE_EVENT_STOP carries the stopping signal when it is a group-stop,
// SIGTRAP when it is our PTRACE_INTERRUPT or a new thread's first stop.
bool is_group_stop(int signal) { return signal == SIGSTOP || signal == SIGTSTP || signal == SIGTTIN || signal == SIGTTOU; }
}  // namespace

Engine::Engine(const arch::Arch& arch, PtraceOps& ops) : arch_(&arch), ops_(&ops) {}

Engine::Thread* Engine::find(pid_t tid) {
  auto it = threads_.find(tid);
  return it == threads_.end() ? nullptr : &it->second;
}

Engine::Thread& Engine::add_thread(pid_t tid, ThreadState state) {
  Thread t{tid, state, std::make_unique<RegisterCache>(*arch_, *ops_, tid), std::nullopt, 0, {}, false, false, false, false, std::nullopt};
  return threads_.emplace(tid, std::move(t)).first->second;
}

// Its first stop is on its way (or is the one in hand); `hold`: it stays
// stopped there, because everything is being stopped or already is.
Engine::Thread& Engine::add_newborn(pid_t tid, bool hold) {
  Thread& t = add_thread(tid, ThreadState::newborn());
  t.first_stop_unseen = true;
  if (hold) t.state.request_stop();
  t.needs_debug_registers = hw_ && !hw_->empty();
  return t;
}

void Engine::adopt(pid_t pid, const std::vector<pid_t>& tids, bool launched, EngineStop initial_stop) {
  reset();
  pid_ = pid;
  launched_ = launched;
  for (pid_t tid : tids) add_thread(tid);
  // The optional features (AVX, …) are decided once, from the first thread.
  Thread& first = threads_.begin()->second;
  std::vector<std::string> present;
  auto reader = [&](unsigned regset) -> std::optional<std::vector<std::uint8_t>> {
    const auto* img = first.registers->image(regset);
    if (!img) return std::nullopt;
    return *img;
  };
  for (const auto& feature : arch_->features())
    if (feature.optional && arch_->optional_feature_present(feature.name, reader))
      present.emplace_back(feature.name);
  layout_ = std::make_unique<arch::RegisterLayout>(*arch_, present);
  hw_ = arch_->make_hardware_debug();
  last_stop_ = initial_stop;
}

void Engine::reset() {
  pid_ = 0;
  launched_ = false;
  stopping_all_ = false;
  born_before_announced_.clear();
  removed_breakpoints_.clear();
  gone_thread_events_.clear();
  reporting_.reset();
  hw_.reset();
  read_watch_values_.clear();
  threads_.clear();
  breakpoints_ = BreakpointTable{};
}

std::vector<pid_t> Engine::thread_ids() const {
  std::vector<pid_t> out;
  // The leader first, as gdb numbers it 1; threads on their way out are gone for gdb.
  if (auto it = threads_.find(pid_); it != threads_.end() && !it->second.exiting) out.push_back(pid_);
  for (const auto& [tid, t] : threads_)
    if (tid != pid_ && !t.exiting) out.push_back(tid);
  return out;
}

bool Engine::running() const {
  for (const auto& [tid, t] : threads_)
    if (!t.state.stopped() && !t.exiting) return true;
  return false;
}

bool Engine::read_register(pid_t tid, unsigned regnum, std::vector<std::uint8_t>& value) {
  Thread* t = find(tid);
  const arch::LayoutEntry* e = layout_ ? layout_->find(regnum) : nullptr;
  if (!t || !e || !t->state.stopped()) return false;
  value.assign(e->info->bytes(), 0);
  return t->registers->read(*e->info, value);
}

bool Engine::write_register(pid_t tid, unsigned regnum, std::span<const std::uint8_t> value) {
  Thread* t = find(tid);
  const arch::LayoutEntry* e = layout_ ? layout_->find(regnum) : nullptr;
  if (!t || !e || !t->state.stopped() || value.size() != e->info->bytes()) return false;
  return t->registers->write(*e->info, value);
}

std::optional<std::uint64_t> Engine::pc(pid_t tid) {
  Thread* t = find(tid);
  if (!t || !layout_) return std::nullopt;
  return t->registers->read_u64(*layout_->with_role(arch::RegisterRole::ProgramCounter).info);
}

std::vector<std::uint8_t> Engine::siginfo(pid_t tid) {
  std::vector<std::uint8_t> raw;
  Thread* t = find(tid);
  if (!t || !t->state.stopped() || ops_->get_siginfo(tid, raw) != 0) raw.clear();
  return raw;
}

long Engine::write_siginfo(pid_t tid, std::uint64_t offset, std::span<const std::uint8_t> bytes) {
  auto raw = siginfo(tid);
  if (raw.empty()) return -ESRCH;
  if (offset >= raw.size()) return -EINVAL;
  std::size_t n = std::min<std::size_t>(bytes.size(), raw.size() - offset);
  std::copy_n(bytes.begin(), n, raw.begin() + static_cast<long>(offset));
  if (int rc = ops_->set_siginfo(tid, raw)) return -rc;
  return static_cast<long>(n);
}

long Engine::read_memory(std::uint64_t address, std::span<std::uint8_t> out) {
  if (!pid_) return -ESRCH;
  long n = ops_->read_memory(pid_, address, out);
  if (n > 0) breakpoints_.hide(address, out.first(static_cast<std::size_t>(n)));
  return n;
}

long Engine::write_memory(std::uint64_t address, std::span<const std::uint8_t> in) {
  if (!pid_) return -ESRCH;
  std::vector<std::uint8_t> data(in.begin(), in.end());
  breakpoints_.absorb_write(address, data, arch_->breakpoint_instruction());
  return ops_->write_memory(pid_, address, data);
}

// Whether our breakpoint instruction is still in memory at `address`. It is
// not when the code under it was unmapped and something new mapped there (a
// library dlclose'd and another dlopen'ed at the same address): gdb forgets
// breakpoints of an unloaded library without removing them.
bool Engine::breakpoint_still_planted(std::uint64_t address) {
  auto instruction = arch_->breakpoint_instruction();
  std::vector<std::uint8_t> now(instruction.size());
  long n = ops_->read_memory(pid_, address, now);
  return n == static_cast<long>(now.size()) && std::equal(now.begin(), now.end(), instruction.begin());
}

int Engine::insert_breakpoint(std::uint64_t address) {
  if (!pid_) return ESRCH;
  if (breakpoints_.contains(address)) {
    if (breakpoint_still_planted(address)) return 0;  // gdb may insert twice; once is enough
    breakpoints_.remove(address);  // stale: plant it afresh over the new code
  }
  auto instruction = arch_->breakpoint_instruction();
  std::vector<std::uint8_t> original(instruction.size());
  long n = ops_->read_memory(pid_, address, original);
  if (n != static_cast<long>(original.size())) return n < 0 ? static_cast<int>(-n) : EIO;
  n = ops_->write_memory(pid_, address, instruction);
  if (n != static_cast<long>(instruction.size())) return n < 0 ? static_cast<int>(-n) : EIO;
  breakpoints_.add(address, std::move(original));
  removed_breakpoints_.erase(address);
  return 0;
}

int Engine::remove_breakpoint(std::uint64_t address) {
  if (!pid_) return ESRCH;
  if (!breakpoints_.contains(address)) return 0;  // already gone: removing is idempotent for gdb
  bool planted = breakpoint_still_planted(address);
  auto original = breakpoints_.remove(address);
  removed_breakpoints_.insert(address);
  // Stale (the code under it was replaced): the bytes there now are not ours to restore.
  if (!planted) return 0;
  // A thread stepping off this breakpoint will find it gone and not re-plant it.
  long n = ops_->write_memory(pid_, address, *original);
  return n == static_cast<long>(original->size()) ? 0 : (n < 0 ? static_cast<int>(-n) : EIO);
}

int Engine::write_debug_registers(Thread& t) {
  t.needs_debug_registers = false;
  for (auto [offset, value] : hw_->thread_words())
    if (int rc = ops_->poke_user(t.tid, offset, value)) return rc;
  return 0;
}

int Engine::insert_hardware(arch::WatchKind kind, std::uint64_t address, std::uint64_t length) {
  if (!pid_ || !hw_) return ENOSYS;
  if (int rc = hw_->insert(kind, address, length)) return rc;
  for (auto& [tid, t] : threads_) {
    if (!t.state.stopped()) {
      t.needs_debug_registers = true;
      continue;
    }
    if (int rc = write_debug_registers(t)) {
      // The kernel refused the address (e.g. in kernel space): take it back everywhere.
      hw_->remove(kind, address, length);
      for (auto& [_, other] : threads_)
        if (other.state.stopped()) write_debug_registers(other);
      return rc;
    }
  }
  if (kind == arch::WatchKind::Read) {
    std::vector<std::uint8_t> value(length);
    long n = read_memory(address, value);
    value.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    read_watch_values_[address] = std::move(value);
  }
  return 0;
}

int Engine::remove_hardware(arch::WatchKind kind, std::uint64_t address, std::uint64_t length) {
  if (!pid_ || !hw_) return ENOSYS;
  hw_->remove(kind, address, length);
  if (kind == arch::WatchKind::Read) read_watch_values_.erase(address);
  for (auto& [tid, t] : threads_) {
    if (t.state.stopped())
      write_debug_registers(t);
    else
      t.needs_debug_registers = true;
  }
  return 0;
}

std::optional<arch::HardwareHit> Engine::hardware_hit(Thread& t) {
  if (!hw_ || hw_->empty()) return std::nullopt;
  std::uint64_t status = 0;
  if (ops_->peek_user(t.tid, hw_->status_offset(), status) != 0) return std::nullopt;
  auto hit = hw_->decode_status(status);
  if (hit) ops_->poke_user(t.tid, hw_->status_offset(), 0);  // the hardware never clears it
  return hit;
}

bool Engine::read_watch_saw_a_write(const arch::HardwareHit& hit) {
  auto it = read_watch_values_.upper_bound(hit.address);
  if (it == read_watch_values_.begin()) return false;
  --it;
  std::vector<std::uint8_t> now(it->second.size());
  long n = read_memory(it->first, now);
  if (n != static_cast<long>(now.size()) || now == it->second) return false;
  it->second = std::move(now);
  return true;
}

// A thread resumed at one of gdb's breakpoints runs into it: gdb steps over
// its own breakpoints (removing them first) when it means to, and when it
// moved the pc there (jump, a skipped permanent breakpoint) it wants the hit.
// gdbserver's rule too.
void Engine::start(Thread& t, ResumeRequest request) {
  // A failed write-back means the thread died under us; its exit status will tell.
  t.registers->flush();
  t.registers->invalidate();
  bool listen = t.in_group_stop && !request.step && !request.host_signal;
  bool to_syscall = catch_syscalls_ && !request.step && !listen;
  // Resumed any other way, a thread at a syscall's entry never stops at its exit.
  if (!to_syscall) t.syscall_at_entry.reset();
  if (log_)
    log_(std::string(listen ? "listen" : request.step ? "step" : to_syscall ? "syscall" : "cont") + " tid " +
         std::to_string(t.tid) + " signal " + std::to_string(request.host_signal));
  if (listen)
    ops_->listen(t.tid);
  else if (to_syscall)
    ops_->resume_to_syscall(t.tid, request.host_signal);
  else
    ops_->resume(t.tid, request.step, request.host_signal);
}

bool Engine::pending_still_valid(Thread& t) {
  if (!t.pending->software_breakpoint) return true;
  // gdb removed the breakpoint, or moved the pc: the hit is void. The pc
  // already points at the breakpoint, so the instruction simply runs again.
  return breakpoints_.contains(t.pending_pc) && pc(t.tid) == t.pending_pc;
}

void Engine::resume(const std::vector<ThreadResume>& plan) {
  if (!gone_thread_events_.empty()) {
    for (const ThreadResume& r : plan)
      if (Thread* t = find(r.tid); t && r.request.host_signal) t->held_signals.push_back(r.request.host_signal);
    EngineStop stop = gone_thread_events_.front();
    gone_thread_events_.pop_front();
    report(stop);
    return;
  }
  // A thread that is to run but already has an event to tell tells it
  // instead, and nothing runs (gdbserver's rule).
  std::vector<Thread*> told;
  for (const ThreadResume& r : plan) {
    Thread* t = find(r.tid);
    if (!t || !t->pending) continue;
    if (pending_still_valid(*t))
      told.push_back(t);
    else
      t->pending.reset();
  }
  if (!told.empty()) {
    // Nothing runs, but the signals gdb sent along are not lost.
    for (const ThreadResume& r : plan)
      if (Thread* t = find(r.tid); t && r.request.host_signal) t->held_signals.push_back(r.request.host_signal);
    random_state_ = random_state_ * 1103515245u + 12345u;
    Thread* chosen = told[(random_state_ >> 16) % told.size()];
    EngineStop stop = *chosen->pending;
    chosen->pending.reset();
    report(stop);
    return;
  }
  for (const ThreadResume& r : plan) {
    Thread* t = find(r.tid);
    if (!t) continue;
    ResumeRequest request = r.request;
    if (!request.host_signal && !t->held_signals.empty() && t->state.stopped()) {
      request.host_signal = t->held_signals.front();
      t->held_signals.pop_front();
    }
    if (auto now = t->state.request_resume(request)) {
      start(*t, *now);
      awaiting_stop_ = true;
    }
  }
}

void Engine::interrupt() {
  if (!running()) return;
  stopping_all_ = true;  // with nothing else to tell, gdb hears SIGINT
  for (auto& [tid, t] : threads_)
    if (t.state.request_stop()) send_interrupt(tid);
  finish_stop_all_if_done();
}

void Engine::send_interrupt(pid_t tid) {
  if (log_) log_("interrupt tid " + std::to_string(tid));
  ops_->interrupt(tid);
}

void Engine::gone_thread_event(const EngineStop& stop) {
  if (stopping_all_ && reporting_) {
    gone_thread_events_.push_back(stop);
  } else {
    reporting_ = stop;
    stopping_all_ = true;
    stop_all_others();
  }
  finish_stop_all_if_done();
}

void Engine::stop_all_others() {
  for (auto& [tid, t] : threads_)
    if (t.state.request_stop()) send_interrupt(tid);
}

void Engine::event_to_report(Thread& t, const EngineStop& stop) {
  if (stopping_all_ && reporting_) {
    t.pending = stop;
    t.pending_pc = pc(t.tid).value_or(0);
  } else {
    reporting_ = stop;
    stopping_all_ = true;
    stop_all_others();
  }
  finish_stop_all_if_done();
}

void Engine::finish_stop_all_if_done() {
  if (!stopping_all_) return;
  for (const auto& [tid, t] : threads_)
    if (!t.state.stopped() && !t.exiting) return;
  stopping_all_ = false;
  EngineStop stop;
  if (reporting_) {
    stop = *reporting_;
  } else {
    // A Ctrl-C: gdb expects to hear SIGINT, from the leader if it is there.
    stop = {EngineStop::Kind::Signal, threads_.count(pid_) ? pid_ : threads_.begin()->first, SIGINT};
  }
  reporting_.reset();
  report(stop);
}

void Engine::report_if_nothing_resumed() {
  if (!awaiting_stop_ || stopping_all_ || running()) return;
  // Only threads on their way out: the process's exit is what comes next.
  bool someone_stays = std::any_of(threads_.begin(), threads_.end(), [](const auto& e) { return !e.second.exiting; });
  if (!someone_stays) return;
  // Killed from outside: the threads still listed go too, and the exit follows.
  if (ops_->being_killed(pid_)) return;
  EngineStop stop;
  stop.kind = EngineStop::Kind::NoResumed;
  stop.tid = last_stop_.tid;
  if (on_stop_) on_stop_(stop);  // not the last stop: '?' still tells the one before
  awaiting_stop_ = false;
}

void Engine::report(const EngineStop& stop) {
  awaiting_stop_ = false;
  last_stop_ = stop;
  if (on_stop_) on_stop_(stop);
}

void Engine::process_gone(const EngineStop& stop) {
  reset();
  report(stop);
}

// A thread ran into one of our breakpoints just as it was being stopped for
// another thread's event: its interrupt stop came first and the SIGTRAP was
// still queued. gdb then removed the breakpoint, and the trap arrives now,
// with the original instruction back in place. That hit belongs to no
// breakpoint any more: back to the instruction, and on, unseen (gdbserver
// drops such hits too).
bool Engine::rewind_to_removed_breakpoint(Thread& t, const TrapInfo& trap) {
  if (trap.code != kSiKernel && trap.code != kTrapBreakpoint) return false;
  auto pc = this->pc(t.tid);
  if (!pc) return false;
  std::uint64_t address = arch_->breakpoint_address_from_trap_pc(*pc);
  if (!removed_breakpoints_.count(address) || breakpoints_.contains(address)) return false;
  auto instruction = arch_->breakpoint_instruction();
  std::vector<std::uint8_t> now(instruction.size());
  if (ops_->read_memory(pid_, address, now) != static_cast<long>(now.size())) return false;
  if (std::equal(now.begin(), now.end(), instruction.begin())) return false;  // the program's own trap
  if (address != *pc) t.registers->write_u64(*layout_->with_role(arch::RegisterRole::ProgramCounter).info, address);
  return true;
}

EngineStop Engine::decode_trap(Thread& t, const TrapInfo& trap) {
  EngineStop stop{EngineStop::Kind::Signal, t.tid, SIGTRAP};
  if (trap.code != kSiKernel && trap.code != kTrapBreakpoint) return stop;
  auto pc = this->pc(t.tid);
  if (!pc) return stop;
  std::uint64_t address = arch_->breakpoint_address_from_trap_pc(*pc);
  if (!breakpoints_.contains(address)) return stop;
  // gdb's swbreak contract: the stub reports the pc at the breakpoint itself.
  if (!rewind_pc_at_breakpoints_) return stop;
  if (address != *pc)
    t.registers->write_u64(*layout_->with_role(arch::RegisterRole::ProgramCounter).info, address);
  stop.software_breakpoint = true;
  return stop;
}

void Engine::handle_wait(const WaitResult& w) {
  Thread* t = find(w.tid);
  int status = w.status;
  if (log_) {
    char line[160];
    std::snprintf(line, sizeof line, "wait: tid %d status %#x (%s, signal %d, event %d)%s", w.tid, status,
                  WIFEXITED(status) ? "exited" : WIFSIGNALED(status) ? "killed" : "stopped",
                  WIFSTOPPED(status) ? WSTOPSIG(status) : WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
                  status >> 16, t ? "" : " (new)");
    log_(line);
  }
  if (!t) {
    // A new thread whose clone event has not reached us yet: this is its
    // first stop. If gdb has every thread stopped, it stays stopped too.
    if (!pid_ || !WIFSTOPPED(status)) return;
    bool hold = stopping_all_ || !running();
    t = &add_newborn(w.tid, hold);
    born_before_announced_.insert(w.tid);
  }
  if (WIFEXITED(status) || WIFSIGNALED(status)) {
    bool leader = w.tid == pid_;
    threads_.erase(w.tid);
    if (!leader) {
      if (report_thread_events_) {
        EngineStop exited{EngineStop::Kind::ThreadExited, w.tid};
        exited.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
        gone_thread_event(exited);
        return;
      }
      finish_stop_all_if_done();  // it may have been the last one we waited for
      return;
    }
    EngineStop stop;
    stop.tid = w.tid;
    if (WIFEXITED(status)) {
      stop.kind = EngineStop::Kind::Exited;
      stop.exit_code = WEXITSTATUS(status);
    } else {
      stop.kind = EngineStop::Kind::Terminated;
      stop.host_signal = WTERMSIG(status);
    }
    process_gone(stop);
    return;
  }
  if (!WIFSTOPPED(status)) return;
  int signal = WSTOPSIG(status);
  int event = status >> 16;
  t->registers->invalidate();
  t->in_group_stop = event == PTRACE_EVENT_STOP && is_group_stop(signal);

  if (t->needs_debug_registers && hw_) write_debug_registers(*t);
  if (event == PTRACE_EVENT_EXIT) {
    // On its way out: let it finish whatever anyone wants. A leader that
    // leaves before its threads (pthread_exit in main) gives no other sign.
    t->exiting = true;
    if (t->state.stopped() || t->state.phase() == ThreadState::Phase::StopRequested) t->state.on_internal_resume();
    ops_->resume(t->tid, false, 0);
    finish_stop_all_if_done();
    return;
  }
  if (event == PTRACE_EVENT_CLONE) {
    unsigned long child = 0;
    if (ops_->get_event_message(t->tid, child) == 0 && child > 0) {
      auto tid = static_cast<pid_t>(child);
      // A child seen first (and maybe gone already) is not added again: a
      // thread that never stops would hold every stop of all threads up.
      if (!born_before_announced_.erase(tid) && !find(tid)) add_newborn(tid, stopping_all_);
    }
  }
  if (event == PTRACE_EVENT_STOP && t->first_stop_unseen) {
    t->first_stop_unseen = false;
    if (report_thread_events_) {
      t->state.on_stop(StopKind::Event);
      event_to_report(*t, {EngineStop::Kind::ThreadCreated, t->tid, SIGTRAP});
      return;
    }
  }
  if (event == 0 && signal == (SIGTRAP | 0x80)) return handle_syscall_stop(*t);
  if (event == PTRACE_EVENT_STOP || event == PTRACE_EVENT_CLONE) {
    auto kind = event == PTRACE_EVENT_STOP ? StopKind::InterruptStop : StopKind::Passing;
    if (t->state.on_stop(kind) == StopDecision::ResumeAgain) {
      start(*t, t->state.resume_to_apply());
      return;
    }
    // Stopped as asked: by gdb's Ctrl-C or so that another thread's event can be told.
    finish_stop_all_if_done();
    return;
  }

  EngineStop stop{EngineStop::Kind::Signal, t->tid, signal};
  if (event == PTRACE_EVENT_EXEC) {
    ops_->image_replaced(pid_);
    stop.kind = EngineStop::Kind::Exec;
    stop.host_signal = SIGTRAP;
    // After an exec only one thread is left, under the leader's id, whichever
    // thread called it; the others are gone without a word for each.
    forget_all_threads_but(t->tid);
  } else if (signal == SIGTRAP && event == 0) {
    if (auto hit = hardware_hit(*t)) {
      stop.hardware_hit = hit;
    } else {
      TrapInfo trap;  // left zeroed if the kernel will not say: then it is a plain SIGTRAP
      ops_->get_trap_info(t->tid, trap);
      stop = decode_trap(*t, trap);
      if (!stop.software_breakpoint && rewind_to_removed_breakpoint(*t, trap)) {
        t->state.on_stop(StopKind::Event);
        return resume_quietly(*t, t->state.last_resume(), 0);
      }
    }
  }
  ResumeRequest was = t->state.last_resume();
  t->state.on_stop(StopKind::Event);
  // gdb said "nostop pass": no round trip — unless the thread was stepping
  // (gdb must see the signal to step into or over the handler), or the
  // signal could be a breakpoint's (SIGILL, SIGSEGV: gdb's own dummy-frame
  // breakpoints on some targets). gdbserver's rules too.
  bool maybe_breakpoint = signal == SIGTRAP || signal == SIGILL || signal == SIGSEGV;
  if (event == 0 && !maybe_breakpoint && !was.step && pass_signals_.count(signal))
    return resume_quietly(*t, was, signal);
  // A read watchpoint that a write set off (x86 has no read-only traps).
  if (stop.hardware_hit && stop.hardware_hit->kind == arch::WatchKind::Read &&
      read_watch_saw_a_write(*stop.hardware_hit))
    return resume_quietly(*t, was, 0);
  event_to_report(*t, stop);
}

long Engine::syscall_number_register(Thread& t) {
  auto value = t.registers->read_u64(*layout_->with_role(arch::RegisterRole::SyscallNumber).info);
  return value ? static_cast<long>(*value) : -1;
}

// A syscall-stop (PTRACE_O_TRACESYSGOOD). The kernel says whether it is an
// entry or an exit; the number is read at the entry and kept for the exit, as
// gdb may have changed the register meanwhile (-1: skip the call).
void Engine::handle_syscall_stop(Thread& t) {
  bool entry = !t.syscall_at_entry;
  ops_->syscall_stop_is_entry(t.tid, entry);
  long number = entry || !t.syscall_at_entry ? syscall_number_register(t) : *t.syscall_at_entry;
  if (entry)
    t.syscall_at_entry = number;
  else
    t.syscall_at_entry.reset();
  ResumeRequest was = t.state.last_resume();
  t.state.on_stop(StopKind::Event);
  if (!catch_syscalls_ || (!caught_syscalls_.empty() && !caught_syscalls_.count(number)))
    return resume_quietly(t, was, 0);
  EngineStop stop{entry ? EngineStop::Kind::SyscallEntry : EngineStop::Kind::SyscallReturn, t.tid, SIGTRAP};
  stop.syscall_number = number;
  event_to_report(t, stop);
}

// Lets a thread go on from a stop gdb is not to hear of. While all stop, it
// waits with the others, and its signal with it.
void Engine::resume_quietly(Thread& t, ResumeRequest was, int signal) {
  if (stopping_all_) {
    if (signal) t.held_signals.push_back(signal);
    finish_stop_all_if_done();
  } else if (auto now = t.state.request_resume({was.step, signal})) {
    start(t, *now);
  }
}

void Engine::forget_all_threads_but(pid_t tid) {
  for (auto it = threads_.begin(); it != threads_.end();)
    it = it->first == tid ? std::next(it) : threads_.erase(it);
  born_before_announced_.clear();
  Thread& survivor = threads_.at(tid);
  survivor.exiting = false;
  survivor.pending.reset();
  survivor.registers->invalidate();
  if (hw_) hw_ = arch_->make_hardware_debug();  // the new image starts with none
  read_watch_values_.clear();
  // Nor has it any of our breakpoints: their saved bytes belong to the old
  // program and must neither be shown in reads nor written back.
  breakpoints_ = BreakpointTable{};
  removed_breakpoints_.clear();
}

void Engine::drain_events() {
  while (auto w = ops_->wait(-1, false)) handle_wait(*w);
  // Judged only once the kernel has nothing more to say: when the whole
  // process exits, the other threads' ends are all in the queue by now.
  report_if_nothing_resumed();
}

void Engine::remove_all_breakpoints() {
  for (std::uint64_t address : breakpoints_.addresses()) remove_breakpoint(address);
}

void Engine::kill() {
  if (!pid_) return;
  pid_t leader = pid_;
  ops_->kill_process(leader);
  // Reap every thread; the leader's status comes last. A thread may still
  // stop on its way out (PTRACE_EVENT_EXIT): let it go on to its end.
  while (true) {
    auto w = ops_->wait(-1, true);
    if (!w) break;
    if (w->tid == leader && (WIFEXITED(w->status) || WIFSIGNALED(w->status))) break;
    if (WIFSTOPPED(w->status)) ops_->resume(w->tid, false, 0);
  }
  reset();
}

void Engine::detach() {
  if (!pid_) return;
  std::map<pid_t, int> pass_signal;
  // Every thread must be in a ptrace-stop to be detached.
  for (auto& [tid, t] : threads_) {
    if (t.state.stopped() || t.exiting) continue;  // an exiting leader would never report
    if (t.state.request_stop()) send_interrupt(tid);
    while (true) {
      auto w = ops_->wait(tid, true);
      if (!w) break;
      if (WIFEXITED(w->status) || WIFSIGNALED(w->status)) break;
      if (!WIFSTOPPED(w->status)) continue;
      if ((w->status >> 16) != PTRACE_EVENT_STOP && WSTOPSIG(w->status) != SIGTRAP)
        pass_signal[tid] = WSTOPSIG(w->status);  // a real signal: deliver it on the way out
      break;
    }
  }
  for (auto& [tid, t] : threads_)
    if (t.pending && t.pending->kind == EngineStop::Kind::Signal && t.pending->host_signal != SIGTRAP &&
        !pass_signal.count(tid))
      pass_signal[tid] = t.pending->host_signal;  // a signal gdb never heard of: not lost
  for (auto& [tid, t] : threads_)
    if (!t.held_signals.empty() && !pass_signal.count(tid)) pass_signal[tid] = t.held_signals.front();
  remove_all_breakpoints();
  if (hw_ && !hw_->empty())
    for (auto& [tid, t] : threads_)
      for (auto [offset, value] : hw_->cleared_words()) ops_->poke_user(tid, offset, value);
  for (auto& [tid, t] : threads_) {
    t.registers->flush();
    ops_->detach(tid, pass_signal.count(tid) ? pass_signal[tid] : 0);
  }
  reset();
}

}  // namespace ustub
