#include "server/engine.hpp"

#include "server/agent_expression.hpp"
#include "server/agent_printf.hpp"
#include "server/thread_registers.hpp"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ustub {

namespace {
constexpr int kTrapBreakpoint = 1;  // TRAP_BRKPT
constexpr int kTrapTrace = 2;       // TRAP_TRACE: a single-step's trap
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

Engine::Process* Engine::find_process(pid_t pid) {
  auto it = processes_.find(pid);
  return it == processes_.end() ? nullptr : &it->second;
}

Engine::Thread& Engine::add_thread(pid_t tid, pid_t pid, ThreadState state) {
  Thread t{.tid = tid, .pid = pid, .state = state, .registers = std::make_unique<RegisterCache>(*arch_, *ops_, tid)};
  return threads_.emplace(tid, std::move(t)).first->second;
}

// Its first stop is on its way (or is the one in hand); `hold`: it stays
// stopped there, because everything is being stopped or already is.
Engine::Thread& Engine::add_newborn(pid_t tid, pid_t pid, bool hold) {
  Thread& t = add_thread(tid, pid, ThreadState::newborn());
  t.first_stop_unseen = true;
  if (hold) t.state.request_stop();
  const Process* p = find_process(pid);
  t.needs_debug_registers = p && p->hw && !p->hw->empty();
  return t;
}

bool Engine::steps_alone(const Thread& t) const {
  // gdb single-steps one thread with the rest of its process held (its own
  // step over a breakpoint): a thread that thread makes is held too, as
  // gdbserver holds it under its step-overs. Run, it could report a stop
  // gdb cannot take mid step-over (infrun's finish_step_over assertion,
  // step-over-syscall.exp: a clone's child at a breakpoint).
  return !non_stop_ && t.state.last_resume().step && !another_thread_of_its_process_runs(t);
}

bool Engine::another_thread_of_its_process_runs(const Thread& t) const {
  for (const auto& [tid, other] : threads_)
    if (tid != t.tid && other.pid == t.pid && !other.exiting && !other.state.stopped()) return true;
  return false;
}

Engine::Process& Engine::add_process(pid_t pid, bool launched) {
  Process& p = processes_[pid];
  p.pid = pid;
  p.launched = launched;
  p.hw = arch_->make_hardware_debug();
  return p;
}

void Engine::add_inferior(pid_t pid, const std::vector<pid_t>& tids, bool launched, EngineStop initial_stop) {
  if (processes_.empty()) return adopt(pid, tids, launched, initial_stop);
  add_process(pid, launched);
  for (pid_t tid : tids) add_thread(tid, pid);
  initial_stop.pid = pid;
  last_stop_ = initial_stop;
  if (Thread* t = find(initial_stop.tid); t && initial_stop.host_signal != SIGTRAP)
    t->delivery_signal = initial_stop.host_signal;
}

void Engine::keep_signal_stop(pid_t tid, int host_signal) {
  if (Thread* t = find(tid)) {
    t->pending = EngineStop{EngineStop::Kind::Signal, tid, host_signal};
    t->delivery_signal = host_signal;
    t->at_signal_delivery = true;
  }
}

void Engine::adopt(pid_t pid, const std::vector<pid_t>& tids, bool launched, EngineStop initial_stop) {
  reset();
  pid_ = pid;
  add_process(pid, launched);
  for (pid_t tid : tids) add_thread(tid, pid);
  // The optional features (AVX, …) are decided once, from the first thread.
  Thread& first = threads_.begin()->second;
  std::vector<std::string> present;
  auto reader = [&](unsigned regset) -> std::optional<std::vector<std::uint8_t>> {
    const auto* img = first.registers->image(regset);
    if (!img) return std::nullopt;
    return *img;
  };
  auto caps = ops_->hardware_caps(pid);
  for (const auto& feature : arch_->features())
    if (feature.optional && arch_->optional_feature_present(feature.name, reader, caps))
      present.emplace_back(feature.name);
  layout_ = std::make_unique<arch::RegisterLayout>(*arch_, present);
  initial_stop.pid = pid;
  last_stop_ = initial_stop;
  if (Thread* t = find(initial_stop.tid); t && initial_stop.host_signal != SIGTRAP)
    t->delivery_signal = initial_stop.host_signal;  // found at attach
}

void Engine::reset() {
  pid_ = 0;
  processes_.clear();
  stopping_all_ = false;
  born_before_announced_.clear();
  gone_thread_events_.clear();
  reporting_.reset();
  threads_.clear();
}

std::vector<pid_t> Engine::process_ids() const {
  std::vector<pid_t> out;
  if (processes_.count(pid_)) out.push_back(pid_);
  for (const auto& [pid, p] : processes_)
    if (pid != pid_) out.push_back(pid);
  return out;
}

bool Engine::launched(pid_t pid) const {
  auto it = processes_.find(pid);
  return it != processes_.end() && it->second.launched;
}

pid_t Engine::process_of(pid_t tid) const {
  auto it = threads_.find(tid);
  return it == threads_.end() ? 0 : it->second.pid;
}

std::vector<pid_t> Engine::thread_ids() const {
  std::vector<pid_t> out;
  // Each leader first, as gdb numbers it 1; threads on their way out are gone for gdb.
  for (pid_t pid : process_ids()) {
    if (auto it = threads_.find(pid); it != threads_.end() && !it->second.exiting) out.push_back(pid);
    for (const auto& [tid, t] : threads_)
      if (t.pid == pid && tid != pid && !t.exiting) out.push_back(tid);
  }
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

std::optional<std::uint64_t> Engine::dtv_pointer_address(pid_t tid) {
  Thread* t = find(tid);
  if (!t || !layout_ || !t->state.stopped()) return std::nullopt;
  ThreadRegisters regs(*layout_, *t->registers);
  return arch_->dtv_pointer_address(regs);
}

bool Engine::write_register(pid_t tid, unsigned regnum, std::span<const std::uint8_t> value) {
  Thread* t = find(tid);
  const arch::LayoutEntry* e = layout_ ? layout_->find(regnum) : nullptr;
  if (!t || !e || !t->state.stopped() || value.size() != e->info->bytes()) return false;
  if (e->info->role == arch::RegisterRole::SyscallResult && t->at_syscall_return) {
    if (!t->registers->write(*e->info, value)) return false;
    // The result as the program will see it, in the architecture's convention.
    ThreadRegisters regs(*layout_, *t->registers);
    arch_->syscall_result_written(static_cast<std::int64_t>(*t->registers->read_u64(*e->info)), regs);
    return true;
  }
  if (e->info->role != arch::RegisterRole::ProgramCounter) return t->registers->write(*e->info, value);
  auto before = t->registers->read_u64(*e->info);
  if (!t->registers->write(*e->info, value)) return false;
  if (t->registers->read_u64(*e->info) != before) forbid_syscall_restart(*t);
  return true;
}

// The pc was moved: an interrupted syscall must not be restarted by the
// kernel moving it back (powerpc restarts when trap says "syscall").
void Engine::forbid_syscall_restart(Thread& t) {
  if (const arch::LayoutEntry* restart = layout_->find_role(arch::RegisterRole::SyscallRestart))
    t.registers->write_u64(*restart->info, ~std::uint64_t{0});
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

long Engine::read_memory(pid_t pid, std::uint64_t address, std::span<std::uint8_t> out) {
  Process* p = find_process(pid);
  if (!p) return -ESRCH;
  long n = ops_->read_memory(pid, address, out);
  if (n > 0) p->breakpoints.hide(address, out.first(static_cast<std::size_t>(n)));
  return n;
}

long Engine::write_memory(pid_t pid, std::uint64_t address, std::span<const std::uint8_t> in) {
  Process* p = find_process(pid);
  if (!p) return -ESRCH;
  std::vector<std::uint8_t> data(in.begin(), in.end());
  p->breakpoints.absorb_write(address, data, arch_->breakpoint_instruction());
  long n = ops_->write_memory(pid, address, data);
  if (!p->read_watch_values.empty()) note_read_watch_values(*p);  // gdb's write is no read
  return n;
}

// Whether our breakpoint instruction is still in memory at `address`. It is
// not when the code under it was unmapped and something new mapped there (a
// library dlclose'd and another dlopen'ed at the same address): gdb forgets
// breakpoints of an unloaded library without removing them.
bool Engine::breakpoint_still_planted(pid_t pid, std::uint64_t address) {
  auto instruction = arch_->breakpoint_instruction();
  std::vector<std::uint8_t> now(instruction.size());
  long n = ops_->read_memory(pid, address, now);
  return n == static_cast<long>(now.size()) && std::equal(now.begin(), now.end(), instruction.begin());
}

int Engine::insert_breakpoint(pid_t pid, std::uint64_t address) {
  Process* p = find_process(pid);
  if (!p) return ESRCH;
  p->atomic_breakpoints.erase(address);  // gdb's now (or ours, recorded by the caller after this)
  p->range_breakpoints.erase(address);
  if (p->breakpoints.contains(address)) {
    if (breakpoint_still_planted(pid, address)) return 0;  // gdb may insert twice; once is enough
    p->breakpoints.remove(address);  // stale: plant it afresh over the new code
  }
  auto instruction = arch_->breakpoint_instruction();
  std::vector<std::uint8_t> original(instruction.size());
  long n = ops_->read_memory(pid, address, original);
  if (n != static_cast<long>(original.size())) return n < 0 ? static_cast<int>(-n) : EIO;
  n = ops_->write_memory(pid, address, instruction);
  if (n != static_cast<long>(instruction.size())) return n < 0 ? static_cast<int>(-n) : EIO;
  p->breakpoints.add(address, std::move(original));
  p->removed_breakpoints.erase(address);
  return 0;
}

int Engine::remove_breakpoint(pid_t pid, std::uint64_t address) {
  Process* p = find_process(pid);
  if (!p) return ESRCH;
  if (!p->breakpoints.contains(address)) return 0;  // already gone: removing is idempotent for gdb
  // An exit of an atomic step under way stays planted, as ours, until the step ends.
  if (Thread* stepper = find(p->atomic_stepper); stepper && !p->atomic_breakpoints.count(address) &&
      std::find(stepper->atomic_exits.begin(), stepper->atomic_exits.end(), address) != stepper->atomic_exits.end()) {
    p->atomic_breakpoints.insert(address);
    return 0;
  }
  p->breakpoint_agents.erase(address);
  bool planted = breakpoint_still_planted(pid, address);
  auto original = p->breakpoints.remove(address);
  p->removed_breakpoints.insert(address);
  // Stale (the code under it was replaced): the bytes there now are not ours to restore.
  if (!planted) return 0;
  // A thread stepping off this breakpoint will find it gone and not re-plant it.
  long n = ops_->write_memory(pid, address, *original);
  return n == static_cast<long>(original->size()) ? 0 : (n < 0 ? static_cast<int>(-n) : EIO);
}

void Engine::set_breakpoint_agent(pid_t pid, std::uint64_t address, std::vector<std::vector<std::uint8_t>> conditions,
                                  std::vector<std::vector<std::uint8_t>> commands, bool persist) {
  Process* p = find_process(pid);
  if (!p) return;
  if ((conditions.empty() && commands.empty()) || !p->breakpoints.contains(address))
    p->breakpoint_agents.erase(address);
  else
    p->breakpoint_agents[address] = {std::move(conditions), std::move(commands), persist};
}

bool Engine::has_persistent_commands(pid_t pid) const {
  auto p = processes_.find(pid);
  return p != processes_.end() &&
         std::any_of(p->second.breakpoint_agents.begin(), p->second.breakpoint_agents.end(),
                     [](const auto& entry) { return entry.second.persistent_commands(); });
}

void Engine::keep_only_persistent_breakpoints(pid_t pid) {
  Process* p = find_process(pid);
  if (!p) return;
  for (std::uint64_t address : p->breakpoints.addresses()) {
    auto agent = p->breakpoint_agents.find(address);
    if (agent == p->breakpoint_agents.end() || !agent->second.persistent_commands())
      remove_breakpoint(pid, address);
  }
}

AgentContext Engine::agent_context(Thread& t) {
  bool little = arch_->endian() == arch::Endian::Little;
  auto to_value = [little](std::span<const std::uint8_t> bytes) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < bytes.size() && i < 8; ++i)
      v |= std::uint64_t{bytes[little ? i : bytes.size() - 1 - i]} << (8 * i);
    return v;
  };
  return AgentContext{
      [this, &t, to_value](unsigned regnum) -> std::optional<std::uint64_t> {
        // The thread is stopped at the hit, though gdb has not heard of it.
        const arch::LayoutEntry* e = layout_->find(regnum);
        if (!e) return std::nullopt;
        std::vector<std::uint8_t> value(e->info->bytes());
        if (!t.registers->read(*e->info, value)) return std::nullopt;
        return to_value(value);
      },
      [this, &t, to_value](std::uint64_t address, unsigned size) -> std::optional<std::uint64_t> {
        std::uint8_t buf[8];
        if (read_memory(t.pid, address, std::span(buf, size)) != static_cast<long>(size)) return std::nullopt;
        return to_value(std::span(buf, size));
      }};
}

std::optional<bool> Engine::conditions_all_false(Thread& t, const std::vector<std::vector<std::uint8_t>>& conditions) {
  AgentContext context = agent_context(t);
  for (const auto& condition : conditions) {
    AgentResult r = evaluate_agent_expression(condition, context);
    if (!r.value) {
      if (log_) log_("breakpoint condition not evaluated: " + r.error);
      return std::nullopt;
    }
    if (*r.value != 0) return false;
  }
  return true;
}

void Engine::run_breakpoint_commands(Thread& t, std::uint64_t address,
                                     const std::vector<std::vector<std::uint8_t>>& commands) {
  AgentContext context = agent_context(t);
  std::string printed;
  context.printf = [&](std::string_view format, std::span<const std::uint64_t> args) -> std::string {
    auto read_string = [&](std::uint64_t at) -> std::optional<std::string> {
      // A bounded read, a chunk at a time: the string may end near unmapped memory.
      constexpr std::size_t kLongest = 4096;
      std::string text;
      while (text.size() < kLongest) {
        std::uint8_t chunk[64];
        std::uint64_t from = at + text.size();
        std::size_t n = std::min<std::size_t>(sizeof chunk, 64 - from % 64);
        if (read_memory(t.pid, from, std::span(chunk, n)) != static_cast<long>(n)) return std::nullopt;
        for (std::size_t i = 0; i < n; ++i) {
          if (chunk[i] == 0) return text;
          text += static_cast<char>(chunk[i]);
        }
      }
      return text;
    };
    auto text = agent_printf(format, args, read_string);
    if (auto* e = std::get_if<AgentPrintfError>(&text)) return e->why;
    printed += std::get<std::string>(text);
    return "";
  };
  for (const auto& command : commands) {
    AgentResult r = evaluate_agent_expression(command, context);
    if (!r.reached_end) {
      char where[32];
      std::snprintf(where, sizeof where, "0x%llx", static_cast<unsigned long long>(address));
      printed += "ustub: breakpoint command at " + std::string(where) + " failed: " + r.error + "\n";
      break;
    }
  }
  if (agent_output_ && !printed.empty()) agent_output_(printed);
}

bool Engine::pass_hit_without_gdb(Thread& t, std::uint64_t address) {
  Process& p = process(t);
  auto agent = p.breakpoint_agents.find(address);
  if (agent == p.breakpoint_agents.end()) return false;
  std::vector<std::uint8_t> original(arch_->breakpoint_instruction().size());
  if (read_memory(t.pid, address, original) != static_cast<long>(original.size())) return false;
  // The program's own breakpoint instruction under gdb's (a "permanent"
  // breakpoint): stepping it traps again, for ever. gdb skips those itself.
  auto instruction = arch_->breakpoint_instruction();
  if (std::equal(original.begin(), original.end(), instruction.begin())) return false;
  auto all_false = agent->second.conditions.empty() ? std::optional<bool>(false)  // no condition: always holds
                                                     : conditions_all_false(t, agent->second.conditions);
  if (!all_false) return false;  // gdb judges
  bool counts = !*all_false;
  if (counts && agent->second.commands.empty()) return false;  // a stop for gdb
  if (!counts && stopping_all_ && !non_stop_) {
    // Everything is stopping (for gdb's Ctrl-C, or another thread's event):
    // this thread stops here too, on the breakpoint, untold, as if the
    // interrupt had come first, and judges the hit again when it goes on.
    // Told, the hit would come before the Ctrl-C's SIGINT, or later, as a
    // kept event, for gdb to judge.
    t.state.on_stop(StopKind::Event);
    resume_quietly(t, t.state.last_resume(), 0);
    return true;
  }
  // A hit that counts runs its commands here, once, whether or not it is then
  // told: gdb takes a dprintf's hit as "go on" and prints nothing itself.
  auto run_commands = [&] {
    if (counts && t.commands_ran_at != address) run_breakpoint_commands(t, address, agent->second.commands);
    t.commands_ran_at.reset();
  };
  // While the breakpoint is out, another thread of the process (or a vfork
  // child sharing its memory) could run past it unseen: then the hit is told.
  // Other processes have memory of their own. A syscall stepped over may make
  // threads and processes: they come after the breakpoint is back
  // (finish_step_over).
  // In non-stop, gdb may resume any other thread at any moment: never in line.
  // Run out of line, the breakpoint stays in place and nothing else matters.
  bool in_line = !non_stop_ && !another_thread_of_its_process_runs(t) &&
                 std::none_of(processes_.begin(), processes_.end(),
                              [](const auto& entry) { return entry.second.shares_parent_memory; });
  bool out_of_line = out_of_line_possible(t);
  // On powerpc a single-step over a syscall overshoots: such steps stay gdb's.
  bool goes_on_here =
      !stopping_all_ && !p.atomic_stepper && !p.range_stepper && !arch_->single_step_overshoots(original);
  if (goes_on_here && !in_line && !out_of_line && awaits_out_of_line_page(t)) {
    t.state.on_stop(StopKind::Event);
    t.awaiting_out_of_line_page = true;
    return true;
  }
  if (!goes_on_here || (!in_line && !out_of_line)) {
    run_commands();
    if (counts) t.commands_ran_at = address;  // told, or kept pending: maybe hit again
    return false;
  }
  // The first hit out of line maps the page, and the thread then hits the
  // breakpoint again: the commands run at that hit.
  bool mapping_first = out_of_line && p.out_of_line.state() == OutOfLineArea::State::Absent;
  if (!mapping_first) run_commands();
  if (out_of_line && run_out_of_line(t, address)) return true;
  if (mapping_first) run_commands();
  if (!in_line) {
    if (counts) t.commands_ran_at = address;
    return false;
  }
  if (ops_->write_memory(t.pid, address, original) != static_cast<long>(original.size())) {
    if (counts) t.commands_ran_at = address;
    return false;
  }
  t.stepping_over = address;
  t.after_step_over = t.state.last_resume();
  t.after_step_over.host_signal = 0;  // delivered already, by the resume that led here
  t.registers->flush();
  t.registers->invalidate();
  if (log_) log_("condition false: step over the breakpoint, tid " + std::to_string(t.tid));
  ops_->resume(t.tid, true, 0);
  return true;
}

bool Engine::finish_step_over(Thread& t, int event, int signal) {
  std::uint64_t address = *std::exchange(t.stepping_over, std::nullopt);
  Process& p = process(t);
  // After an exec the memory is a new program's: nothing of ours to put back.
  if (event != PTRACE_EVENT_EXEC && p.breakpoints.contains(address)) {
    ops_->write_memory(t.pid, address, arch_->breakpoint_instruction());
    // A fork child's copy was taken with the breakpoint out, yet it is
    // listed as the child's too (handle_fork): put it back there as well.
    unsigned long child = 0;
    if (event == PTRACE_EVENT_FORK && ops_->get_event_message(t.tid, child) == 0 && child > 0)
      ops_->write_memory(static_cast<pid_t>(child), address, arch_->breakpoint_instruction());
  }
  TrapInfo trap;
  if (event != 0 || signal != SIGTRAP || ops_->get_trap_info(t.tid, trap) != 0 || trap.code != kTrapTrace) return false;
  if (stopping_all_) {
    t.state.on_stop(StopKind::Event);
    finish_stop_all_if_done();
    return true;
  }
  start(t, t.after_step_over);
  return true;
}

int Engine::write_debug_registers(Thread& t) {
  t.needs_debug_registers = false;
  return process(t).hw->write_to_thread(t.tid, debug_port_);
}

// The process's hardware debug, once what the hardware has is known.
arch::HardwareDebug* Engine::hardware(Process& p) {
  if (!p.hw) return nullptr;
  if (!p.hw_probed)
    for (auto& [tid, t] : threads_)
      if (t.pid == p.pid && t.state.stopped()) {
        p.hw->probe(tid, debug_port_);
        p.hw_probed = true;
        break;
      }
  return p.hw.get();
}

bool Engine::has_hardware_debug(pid_t pid) {
  Process* p = find_process(pid);
  arch::HardwareDebug* hw = p ? hardware(*p) : nullptr;
  return hw && hw->available();
}

int Engine::insert_hardware(pid_t pid, arch::WatchKind kind, std::uint64_t address, std::uint64_t length) {
  Process* p = find_process(pid);
  if (!p || !hardware(*p)) return ENOSYS;
  if (int rc = p->hw->insert(kind, address, length)) return rc;
  for (auto& [tid, t] : threads_) {
    if (t.pid != pid) continue;
    if (!t.state.stopped()) {
      t.needs_debug_registers = true;
      continue;
    }
    if (int rc = write_debug_registers(t)) {
      // The kernel refused the address (e.g. in kernel space): take it back everywhere.
      p->hw->remove(kind, address, length);
      for (auto& [_, other] : threads_)
        if (other.pid == pid && other.state.stopped()) write_debug_registers(other);
      return rc;
    }
  }
  if (kind == arch::WatchKind::Read && p->hw->reads_trap_writes()) {
    std::vector<std::uint8_t> value(length);
    long n = read_memory(pid, address, value);
    value.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    p->read_watch_values[address] = std::move(value);
  }
  return 0;
}

int Engine::remove_hardware(pid_t pid, arch::WatchKind kind, std::uint64_t address, std::uint64_t length) {
  Process* p = find_process(pid);
  if (!p || !p->hw) return ENOSYS;
  p->hw->remove(kind, address, length);
  if (kind == arch::WatchKind::Read) p->read_watch_values.erase(address);
  for (auto& [tid, t] : threads_) {
    if (t.pid != pid) continue;
    if (t.state.stopped())
      write_debug_registers(t);
    else
      t.needs_debug_registers = true;
  }
  return 0;
}

std::optional<arch::HardwareHit> Engine::hardware_hit(Thread& t) {
  const auto& hw = process(t).hw;
  if (!hw || hw->empty()) return std::nullopt;
  return hw->take_hit(t.tid, debug_port_);
}

bool Engine::read_watch_saw_a_write(Process& p, const arch::HardwareHit& hit) {
  auto it = p.read_watch_values.upper_bound(hit.address);
  if (it == p.read_watch_values.begin()) return false;
  --it;
  std::vector<std::uint8_t> now(it->second.size());
  long n = read_memory(p.pid, it->first, now);
  return n == static_cast<long>(now.size()) && now != it->second;
}

// Every access to watched memory traps, so the values at the last trap (or
// at gdb's last write) are what a later read must find unchanged.
void Engine::note_read_watch_values(Process& p) {
  for (auto& [address, value] : p.read_watch_values) {
    std::vector<std::uint8_t> now(value.size());
    if (read_memory(p.pid, address, now) == static_cast<long>(now.size())) value = std::move(now);
  }
}

// A thread resumed at one of gdb's breakpoints runs into it: gdb steps over
// its own breakpoints (removing them first) when it means to, and when it
// moved the pc there (jump, a skipped permanent breakpoint) it wants the hit.
// gdbserver's rule too.
void Engine::start(Thread& t, ResumeRequest request, bool range_under_way) {
  // A failed write-back means the thread died under us; its exit status will tell.
  t.delivery_signal = 0;  // delivered now (or dropped) as gdb asks
  t.stop_told = false;
  t.awaiting_out_of_line_page = false;
  bool listen = t.in_group_stop && !request.step && !request.host_signal;
  if (request.host_signal && !std::exchange(t.at_signal_delivery, false)) {
    // Stopped by our PTRACE_INTERRUPT or at an event: the kernel would drop
    // the signal given to PTRACE_CONT. It is sent instead, and taken through
    // when its delivery-stop comes (gdb's `signal SIG` on such a thread).
    if (ops_->send_signal(t.pid, t.tid, request.host_signal) == 0) t.sent_signals.push_back(request.host_signal);
    request.host_signal = 0;
  }
  t.at_signal_delivery = false;
  bool through_syscall = request.step && !listen && step_overshoots(t);
  t.stepping_through_syscall = through_syscall;
  t.registers->flush();
  t.registers->invalidate();
  bool to_syscall = catch_syscalls_ && !request.step && !listen;
  // Resumed any other way, a thread at a syscall's entry never stops at its exit.
  if (!to_syscall && !through_syscall) t.syscall_at_entry.reset();
  if (log_)
    log_(std::string(listen ? "listen" : through_syscall ? "step (through a syscall)" : request.step ? "step" : to_syscall ? "syscall" : "cont") + " tid " +
         std::to_string(t.tid) + " signal " + std::to_string(request.host_signal));
  t.range_step = request.range() && !listen ? request : ResumeRequest{};
  if (request.step && !listen && !through_syscall && start_atomic_step(t, request.host_signal)) return;
  if (range_under_way && t.range_step.range() && !through_syscall && !request.host_signal && run_through_range(t))
    return;
  if (listen)
    ops_->listen(t.tid);
  else if (to_syscall || through_syscall)
    ops_->resume_to_syscall(t.tid, request.host_signal);
  else
    ops_->resume(t.tid, request.step, request.host_signal);
}

bool Engine::start_atomic_step(Thread& t, int host_signal) {
  unsigned bytes = arch_->atomic_sequence_bytes();
  Process& p = process(t);
  if (bytes == 0 || p.atomic_stepper) return false;
  auto pc = this->pc(t.tid);
  if (!pc) return false;
  std::vector<std::uint8_t> code(bytes);
  long n = read_memory(t.pid, *pc, code);  // the program's bytes, not our breakpoints
  if (n < 4) return false;
  code.resize(static_cast<std::size_t>(n));
  auto exits = arch_->atomic_sequence_exits(*pc, code);
  if (!exits) return false;
  for (std::uint64_t address : *exits) {
    if (p.breakpoints.contains(address)) continue;  // gdb's own: a hit there ends the step too
    if (insert_breakpoint(t.pid, address) != 0) {
      end_atomic_step(p, false);
      return false;
    }
    p.atomic_breakpoints.insert(address);
  }
  p.atomic_stepper = t.tid;
  t.atomic_exits = *exits;
  if (log_) log_("step through an atomic sequence: cont tid " + std::to_string(t.tid));
  ops_->resume(t.tid, false, host_signal);
  return true;
}

bool Engine::reached_atomic_exit(Thread& t) {
  TrapInfo trap;
  ops_->get_trap_info(t.tid, trap);
  if (trap.code != kSiKernel && trap.code != kTrapBreakpoint) return false;
  auto pc = this->pc(t.tid);
  if (!pc) return false;
  std::uint64_t address = arch_->breakpoint_address_from_trap_pc(*pc);
  if (std::find(t.atomic_exits.begin(), t.atomic_exits.end(), address) == t.atomic_exits.end()) return false;
  if (address != *pc) t.registers->write_u64(*layout_->with_role(arch::RegisterRole::ProgramCounter).info, address);
  return true;
}

bool Engine::park_at_atomic_breakpoint(Thread& t, const TrapInfo& trap) {
  Process& p = process(t);
  if (p.atomic_breakpoints.empty() || (trap.code != kSiKernel && trap.code != kTrapBreakpoint)) return false;
  auto pc = this->pc(t.tid);
  if (!pc) return false;
  std::uint64_t address = arch_->breakpoint_address_from_trap_pc(*pc);
  if (!p.atomic_breakpoints.count(address)) return false;
  if (address != *pc) {
    t.registers->write_u64(*layout_->with_role(arch::RegisterRole::ProgramCounter).info, address);
    forbid_syscall_restart(t);
  }
  t.state.on_stop(StopKind::Event);
  t.parked = true;
  finish_stop_all_if_done();
  return true;
}

// All-stop: a parked thread stays stopped when the step's end is told, as
// every thread then stops; it runs on otherwise (non-stop, or the stepping
// thread is gone).
void Engine::end_atomic_step(Process& p, bool release_parked) {
  for (std::uint64_t address : p.atomic_breakpoints) remove_breakpoint(p.pid, address);
  p.atomic_breakpoints.clear();
  if (Thread* stepper = find(p.atomic_stepper)) stepper->atomic_exits.clear();
  p.atomic_stepper = 0;
  for (auto& [tid, t] : threads_) {
    if (t.pid != p.pid || !t.parked) continue;
    t.parked = false;
    if (release_parked && t.state.stopped()) resume_quietly(t, t.state.last_resume(), 0);
  }
}

const arch::RangeStepPlan* Engine::range_plan(Thread& t) {
  std::pair key{t.range_step.range_start, t.range_step.range_end};
  if (t.range_planned_for != key) {
    t.range_planned_for = key;
    t.range_plan.reset();
    std::uint64_t length = key.second - key.first;
    if (length <= arch::Arch::kMaxPlannedRange) {
      std::vector<std::uint8_t> code(length);
      if (read_memory(t.pid, key.first, code) == static_cast<long>(length))  // the program's bytes, not our breakpoints
        t.range_plan = arch_->plan_range_step(key.first, code);
    }
  }
  return t.range_plan ? &*t.range_plan : nullptr;
}

bool Engine::run_through_range(Thread& t) {
  Process& p = process(t);
  // Another thread of the process (or a vfork child sharing its memory)
  // could run into the breakpoints meanwhile; in non-stop gdb may resume
  // one at any time. Hardware watchpoints: a single-step keeps their traps
  // exactly as gdbserver's.
  if (non_stop_ || p.atomic_stepper || p.range_stepper || (p.hw && !p.hw->empty())) return false;
  for (const auto& [tid, other] : threads_)
    if (tid != t.tid && other.pid == t.pid && !other.state.stopped()) return false;
  for (const auto& [pid, other] : processes_)
    if (other.shares_parent_memory) return false;
  const arch::RangeStepPlan* plan = range_plan(t);
  auto pc = this->pc(t.tid);
  if (!plan || !pc) return false;
  if (std::find(plan->step_points.begin(), plan->step_points.end(), *pc) != plan->step_points.end()) return false;
  for (const auto* addresses : {&plan->exits, &plan->step_points})
    for (std::uint64_t address : *addresses) {
      if (p.breakpoints.contains(address)) continue;  // gdb's own: a hit there ends the step too
      if (insert_breakpoint(t.pid, address) != 0) {
        remove_range_breakpoints(p);
        return false;
      }
      p.range_breakpoints.insert(address);
    }
  p.range_stepper = t.tid;
  if (log_) log_("range step on breakpoints: cont tid " + std::to_string(t.tid));
  ops_->resume(t.tid, false, 0);
  return true;
}

void Engine::remove_range_breakpoints(Process& p) {
  for (std::uint64_t address : p.range_breakpoints) remove_breakpoint(p.pid, address);
  p.range_breakpoints.clear();
  p.range_stepper = 0;
}

bool Engine::range_step_goes_on(Thread& t, int event, int signal) {
  Process& p = process(t);
  if (event == PTRACE_EVENT_STOP && p.range_stepper == t.tid && !t.in_group_stop && trap_queued_behind_interrupt(t)) {
    // A Ctrl-C (or another process's event) overtook its trap at one of our
    // breakpoints: the trap comes out at once, and is handled as the hit it is.
    ops_->resume(t.tid, false, 0);
    return true;
  }
  ResumeRequest range = std::exchange(t.range_step, ResumeRequest{});
  std::set<std::uint64_t> ours;
  if (p.range_stepper == t.tid) {
    ours = p.range_breakpoints;
    remove_range_breakpoints(p);
  }
  if (event != 0 || signal != SIGTRAP || (p.hw && !p.hw->empty())) return false;
  TrapInfo trap;
  ops_->get_trap_info(t.tid, trap);
  auto pc = this->pc(t.tid);
  if (!pc) return false;
  if (trap.code == kSiKernel || trap.code == kTrapBreakpoint) {
    std::uint64_t address = arch_->breakpoint_address_from_trap_pc(*pc);
    if (!ours.count(address)) return false;  // gdb's breakpoint, or the program's own trap
    if (address != *pc) {
      t.registers->write_u64(*layout_->with_role(arch::RegisterRole::ProgramCounter).info, address);
      forbid_syscall_restart(t);
      pc = address;
    }
  } else if (trap.code != kTrapTrace) {
    return false;
  }
  bool left = *pc < range.range_start || *pc >= range.range_end || p.breakpoints.contains(*pc);
  if (left || stopping_all_) {
    // Out of the range (or at one of gdb's breakpoints in it, which gdb must
    // see): the step is done, told as a single-step's end. Stopping for
    // another thread's event: it stops here, and gdb steps it again later.
    t.state.on_stop(StopKind::Event);
    if (left) event_to_report(t, {EngineStop::Kind::Signal, t.tid, SIGTRAP});
    else finish_stop_all_if_done();
    return true;
  }
  range.host_signal = 0;
  start(t, range, true);
  return true;
}

bool Engine::trap_queued_behind_interrupt(Thread& t) {
  auto pc = this->pc(t.tid);
  if (!pc) return false;
  std::uint64_t address = arch_->breakpoint_address_from_trap_pc(*pc);
  // Only where a trap leaves the pc past the breakpoint (x86's int3).
  if (address == *pc || !process(t).breakpoints.contains(address)) return false;
  return ops_->signal_pending(t.tid, SIGTRAP);
}

bool Engine::sent_by_tgkill(Thread& t) {
  std::vector<std::uint8_t> raw;
  if (ops_->get_siginfo(t.tid, raw) != 0 || raw.size() < 12) return false;
  std::int32_t code;
  std::memcpy(&code, raw.data() + 8, 4);  // si_code, after si_signo and si_errno
  return code == SI_TKILL;
}

bool Engine::pending_still_valid(Thread& t) {
  if (!t.pending->software_breakpoint) return true;
  // gdb removed the breakpoint, or moved the pc: the hit is void. The pc
  // already points at the breakpoint, so the instruction simply runs again.
  return process(t).breakpoints.contains(t.pending_pc) && pc(t.tid) == t.pending_pc;
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
    if (pending_still_valid(*t) && (!t->pending_step_end || r.request.step))
      told.push_back(t);
    else
      t->pending.reset();  // the thread runs on from where it is
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

void Engine::interrupt() { interrupt(SIGINT); }

void Engine::interrupt(int signal) {
  if (!running()) return;
  interrupt_signal_ = signal;
  if (non_stop_) {
    Thread* chosen = nullptr;
    for (auto& [tid, t] : threads_)
      if (!t.state.stopped() && !t.exiting && (!chosen || tid == t.pid)) chosen = &t;
    if (!chosen) return;
    chosen->stop_for_gdb = std::exchange(interrupt_signal_, SIGINT);
    if (chosen->state.request_stop()) send_interrupt(chosen->tid);
    return;
  }
  stopping_all_ = true;  // with nothing else to tell, gdb hears SIGINT
  for (auto& [tid, t] : threads_)
    if (t.state.request_stop()) send_interrupt(tid);
  finish_stop_all_if_done();
}

void Engine::stop_threads(const std::vector<pid_t>& tids) {
  for (pid_t tid : tids) {
    Thread* t = find(tid);
    if (!t || t->exiting || t->stop_for_gdb) continue;
    if (t->state.stopped()) {
      // Stopped, but gdb thinks it runs: it never heard of this stop.
      t->awaiting_out_of_line_page = false;  // gdb's now, to resume
      if (!t->stop_told) report({EngineStop::Kind::Signal, tid, 0});
      continue;
    }
    t->stop_for_gdb = 0;
    if (t->state.request_stop()) send_interrupt(tid);
  }
}

void Engine::stop_told(pid_t tid, bool told) {
  if (Thread* t = find(tid)) t->stop_told = told;
}

bool Engine::thread_stopped(pid_t tid) const {
  auto it = threads_.find(tid);
  return it != threads_.end() && it->second.state.stopped();
}

void Engine::send_interrupt(pid_t tid) {
  if (log_) log_("interrupt tid " + std::to_string(tid));
  ops_->interrupt(tid);
}

void Engine::gone_thread_event(const EngineStop& stop) {
  if (non_stop_) return report(stop);  // nothing to wait for: the others run on
  if (!awaiting_stop_) {
    // gdb has everything stopped (a thread already on its way out finished
    // only now): it hears of this at its next resume.
    gone_thread_events_.push_back(stop);
    return;
  }
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
  if (non_stop_) {
    t.stop_for_gdb.reset();  // whatever stopped it, gdb hears of a stop
    return report(stop);
  }
  if (stopping_all_ && reporting_) {
    t.pending = stop;
    t.pending_pc = pc(t.tid).value_or(0);
    t.pending_step_end = stop.kind == EngineStop::Kind::Signal && stop.host_signal == SIGTRAP &&
                         !stop.software_breakpoint && !stop.hardware_hit && t.state.last_resume().step;
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
    // A Ctrl-C: gdb expects to hear SIGINT, from the leader if it is there
    // and not on its way out (a leader that called pthread_exit is a zombie
    // gdb has forgotten), else from another thread.
    pid_t tid = pid_;
    auto leader = threads_.find(pid_);
    if (leader == threads_.end() || leader->second.exiting) {
      auto live = std::find_if(threads_.begin(), threads_.end(), [](const auto& e) { return !e.second.exiting; });
      if (live != threads_.end()) tid = live->first;
      else if (!threads_.empty()) tid = threads_.begin()->first;
    }
    stop = {EngineStop::Kind::Signal, tid, std::exchange(interrupt_signal_, SIGINT)};
  }
  reporting_.reset();
  report(stop);
}

void Engine::report_if_nothing_resumed() {
  if (non_stop_ || !awaiting_stop_ || stopping_all_ || running()) return;
  // A process with only threads on their way out: its exit is what comes next.
  for (const auto& [pid, p] : processes_) {
    bool someone_stays = std::any_of(threads_.begin(), threads_.end(),
                                     [pid = pid](const auto& e) { return e.second.pid == pid && !e.second.exiting; });
    if (!someone_stays) return;
    // Killed from outside: the threads still listed go too, and the exit follows.
    if (ops_->being_killed(pid)) return;
  }
  EngineStop stop;
  stop.kind = EngineStop::Kind::NoResumed;
  stop.tid = last_stop_.tid;
  if (on_stop_) on_stop_(stop);  // not the last stop: '?' still tells the one before
  awaiting_stop_ = false;
}

void Engine::report(const EngineStop& given) {
  EngineStop stop = given;
  if (Thread* t = find(stop.tid)) t->stop_told = true;
  if (!stop.pid) stop.pid = process_of(stop.tid) ? process_of(stop.tid) : pid_;
  awaiting_stop_ = false;
  last_stop_ = stop;
  if (on_stop_) on_stop_(stop);
}

void Engine::process_gone(const EngineStop& stop) {
  // Thread exits gdb has not heard of yet go first, one per resume as ever:
  // gdb hears of every thread's end before the process's.
  auto untold = std::move(gone_thread_events_);
  reset();
  if (untold.empty()) return report(stop);
  gone_thread_events_ = std::move(untold);
  gone_thread_events_.push_back(stop);
  if (awaiting_stop_) {
    EngineStop first = gone_thread_events_.front();
    gone_thread_events_.pop_front();
    report(first);
  }
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
  Process& p = process(t);
  if (!p.removed_breakpoints.count(address) || p.breakpoints.contains(address)) return false;
  auto instruction = arch_->breakpoint_instruction();
  std::vector<std::uint8_t> now(instruction.size());
  if (ops_->read_memory(t.pid, address, now) != static_cast<long>(now.size())) return false;
  if (std::equal(now.begin(), now.end(), instruction.begin())) return false;  // the program's own trap
  if (address != *pc) {
    t.registers->write_u64(*layout_->with_role(arch::RegisterRole::ProgramCounter).info, address);
    forbid_syscall_restart(t);
  }
  return true;
}

EngineStop Engine::decode_trap(Thread& t, const TrapInfo& trap) {
  EngineStop stop{EngineStop::Kind::Signal, t.tid, SIGTRAP};
  if (trap.code != kSiKernel && trap.code != kTrapBreakpoint) return stop;
  auto pc = this->pc(t.tid);
  if (!pc) return stop;
  std::uint64_t address = arch_->breakpoint_address_from_trap_pc(*pc);
  if (!process(t).breakpoints.contains(address)) return stop;
  // gdb's swbreak contract: the stub reports the pc at the breakpoint itself.
  if (!rewind_pc_at_breakpoints_) return stop;
  if (address != *pc) {
    t.registers->write_u64(*layout_->with_role(arch::RegisterRole::ProgramCounter).info, address);
    forbid_syscall_restart(t);
  }
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
    // A thread or fork child whose creator's clone or fork event has not
    // reached us yet: this is its first stop. It waits there until that event
    // says whose it is (a fork child must not run into breakpoints that are
    // not its own), or with everything else when all stop.
    if (processes_.empty() || !WIFSTOPPED(status)) return;
    // A new thread's process is known at once from its Tgid: left to the
    // first process, a kill or detach of that one would wait for it forever.
    // A fork child is a process of its own, not listed until its fork event.
    pid_t group = ops_->thread_group(w.tid);
    t = &add_newborn(w.tid, group != w.tid && find_process(group) ? group : pid_, true);
    born_before_announced_.insert(w.tid);
  }
  if (WIFEXITED(status) || WIFSIGNALED(status)) return handle_exit(w.tid, status);
  if (!WIFSTOPPED(status)) return;
  int signal = WSTOPSIG(status);
  int event = status >> 16;
  t->registers->invalidate();
  t->at_syscall_return = false;
  bool stepping_through_syscall = std::exchange(t->stepping_through_syscall, false);
  t->in_group_stop = event == PTRACE_EVENT_STOP && is_group_stop(signal);
  t->at_signal_delivery = event == 0 && signal != (SIGTRAP | 0x80);
  t->delivery_signal = 0;  // only a signal found at attach is handed back at detach

  if (t->needs_debug_registers && process(*t).hw) write_debug_registers(*t);
  if (event != PTRACE_EVENT_EXEC) put_back_from_out_of_line(*t);
  // (The mapping's own stop, in the vDSO, is not the thread going anywhere.)
  if (t->registers_before_mapping && finish_mapping_out_of_line(*t, event, signal)) return;
  if (t->commands_ran_at) {
    // Still at the breakpoint, or maybe at its trap (told apart below): not past it.
    auto at = pc(t->tid);
    bool maybe_its_trap = event == 0 && signal == SIGTRAP && at &&
                          arch_->breakpoint_address_from_trap_pc(*at) == *t->commands_ran_at;
    if (!at || (*at != *t->commands_ran_at && !maybe_its_trap)) t->commands_ran_at.reset();
  }
  if (t->stepping_over && finish_step_over(*t, event, signal)) return;
  if (t->range_step.range() && range_step_goes_on(*t, event, signal)) return;
  if (!t->atomic_exits.empty()) {
    // A step through an atomic sequence ends here: at one of its exits (the
    // step is done, as a single-step would have told it), or for any other
    // reason (gdb will step again).
    bool done = event == 0 && signal == SIGTRAP && reached_atomic_exit(*t);
    end_atomic_step(process(*t), non_stop_);
    if (done) {
      t->state.on_stop(StopKind::Event);
      event_to_report(*t, {EngineStop::Kind::Signal, t->tid, SIGTRAP});
      return;
    }
  }
  if (event == PTRACE_EVENT_EXIT) {
    // On its way out: let it finish whatever anyone wants. A leader that
    // leaves before its threads (pthread_exit in main) gives no other sign.
    t->exiting = true;
    if (t->state.stopped() || t->state.phase() == ThreadState::Phase::StopRequested) t->state.on_internal_resume();
    ops_->resume(t->tid, false, 0);
    finish_stop_all_if_done();
    return;
  }
  Thread* held_newborn = nullptr;  // seen before this announcement, waiting for it
  bool keep_newborn_stopped = false;
  if (event == PTRACE_EVENT_CLONE) {
    unsigned long child = 0;
    if (ops_->get_event_message(t->tid, child) == 0 && child > 0) {
      auto tid = static_cast<pid_t>(child);
      // A child seen first (and maybe gone already) is not added again: a
      // thread that never stops would hold every stop of all threads up.
      keep_newborn_stopped = stopping_all_ || steps_alone(*t);
      if (born_before_announced_.erase(tid)) {
        if ((held_newborn = find(tid))) held_newborn->pid = t->pid;
      } else if (!find(tid)) {
        add_newborn(tid, t->pid, keep_newborn_stopped);
      }
    }
  }
  if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK) return handle_fork(*t, event);
  if (event == PTRACE_EVENT_VFORK_DONE && !report_vforks_) event = PTRACE_EVENT_CLONE;  // nobody to tell
  if (event == PTRACE_EVENT_STOP && t->first_stop_unseen) {
    t->first_stop_unseen = false;
    if (report_thread_events_) {
      t->state.on_stop(StopKind::Event);
      event_to_report(*t, {EngineStop::Kind::ThreadCreated, t->tid, SIGTRAP});
      return;
    }
  }
  if (event == 0 && signal == (SIGTRAP | 0x80)) return handle_syscall_stop(*t, stepping_through_syscall);
  if (event == PTRACE_EVENT_STOP && !t->in_group_stop && trap_queued_behind_interrupt(*t)) {
    // It ran into one of our breakpoints just as the interrupt came, and the
    // interrupt stop overtook the trap: its pc is past the breakpoint, which
    // gdb must never see (it would plant breakpoints mid-instruction). The
    // trap comes out at once when it is let go, and is handled as any hit.
    ops_->resume(t->tid, false, 0);
    return;
  }
  if (event == PTRACE_EVENT_STOP || event == PTRACE_EVENT_CLONE) {
    auto kind = event == PTRACE_EVENT_STOP ? StopKind::InterruptStop : StopKind::Passing;
    if (t->state.on_stop(kind) == StopDecision::ResumeAgain) {
      start(*t, t->state.resume_to_apply());
      // The creator goes on, and so does the thread it made.
      if (held_newborn && held_newborn->state.stopped() && !keep_newborn_stopped && !held_newborn->pending)
        if (auto now = held_newborn->state.request_resume({})) start(*held_newborn, *now);
      return;
    }
    // A fork child gdb is not to hear of, at its first stop: let it go.
    if (Process& p = process(*t); p.let_go_at_first_stop && t->tid == p.pid) return let_go(p);
    if (Process& p = process(*t); p.fork_to_tell && t->tid == p.pid) return tell_held_fork(p);
    if (non_stop_ && t->stop_for_gdb) {
      EngineStop asked{EngineStop::Kind::Signal, t->tid, *t->stop_for_gdb};
      t->stop_for_gdb.reset();
      return report(asked);
    }
    // Stopped as asked: by gdb's Ctrl-C or so that another thread's event can be told.
    finish_stop_all_if_done();
    return;
  }

  EngineStop stop{EngineStop::Kind::Signal, t->tid, signal};
  if (event == PTRACE_EVENT_VFORK_DONE) {
    stop.kind = EngineStop::Kind::VForkDone;
    stop.host_signal = SIGTRAP;
  } else if (event == PTRACE_EVENT_EXEC) {
    ops_->image_replaced(t->pid);
    stop.kind = EngineStop::Kind::Exec;
    stop.host_signal = SIGTRAP;
    // After an exec only one thread is left, under the leader's id, whichever
    // thread called it; the others are gone without a word for each.
    forget_all_threads_but(t->tid);
  } else if (signal == SIGTRAP && event == 0) {
    if (auto hit = hardware_hit(*t)) {
      stop.hardware_hit = hit;
      t->commands_ran_at.reset();
    } else {
      TrapInfo trap;  // left zeroed if the kernel will not say: then it is a plain SIGTRAP
      ops_->get_trap_info(t->tid, trap);
      if (park_at_atomic_breakpoint(*t, trap)) return;
      stop = decode_trap(*t, trap);
      if (!stop.software_breakpoint && t->commands_ran_at && pc(t->tid) != t->commands_ran_at)
        t->commands_ran_at.reset();  // a step past it, not its trap
      if (stop.software_breakpoint && pass_hit_without_gdb(*t, *pc(t->tid))) return;
      if (!stop.software_breakpoint && rewind_to_removed_breakpoint(*t, trap)) {
        t->state.on_stop(StopKind::Event);
        return resume_quietly(*t, t->state.last_resume(), 0);
      }
      if (!stop.software_breakpoint && trap.code == kTrapTrace && !t->state.last_resume().step &&
          !stepping_through_syscall) {
        // A single-step's trap after gdb resumed the thread some other way:
        // another thread's event cut the step short (the interrupt stop came
        // first) and the trap stayed queued. It means nothing now; gdbserver
        // drops such traps too.
        t->state.on_stop(StopKind::Event);
        return resume_quietly(*t, t->state.last_resume(), 0);
      }
    }
  }
  ResumeRequest was = t->state.last_resume();
  t->state.on_stop(StopKind::Event);
  // The signal gdb gave at a stop where ptrace could not hand it over,
  // arriving as sent: it goes through now, as gdb asked.
  if (event == 0 && !t->sent_signals.empty() && t->sent_signals.front() == signal && sent_by_tgkill(*t)) {
    t->sent_signals.pop_front();
    return resume_quietly(*t, was, signal);
  }
  // gdb said "nostop pass": no round trip — unless the thread was stepping
  // (gdb must see the signal to step into or over the handler), or the
  // signal could be a breakpoint's (SIGILL, SIGSEGV: gdb's own dummy-frame
  // breakpoints on some targets). gdbserver's rules too.
  bool maybe_breakpoint = signal == SIGTRAP || signal == SIGILL || signal == SIGSEGV;
  if (event == 0 && !maybe_breakpoint && !was.step && pass_signals_.count(signal))
    return resume_quietly(*t, was, signal);
  // A read watchpoint that a write set off (x86 has no read-only traps).
  if (stop.hardware_hit && stop.hardware_hit->kind != arch::WatchKind::Execute) {
    Process& p = process(*t);
    bool a_write = stop.hardware_hit->kind == arch::WatchKind::Read && read_watch_saw_a_write(p, *stop.hardware_hit);
    note_read_watch_values(p);
    if (a_write) return resume_quietly(*t, was, 0);
  }
  event_to_report(*t, stop);
}

long Engine::syscall_number_register(Thread& t) {
  auto value = t.registers->read_u64(*layout_->with_role(arch::RegisterRole::SyscallNumber).info);
  return value ? static_cast<long>(*value) : -1;
}

// A syscall-stop (PTRACE_O_TRACESYSGOOD). The kernel says whether it is an
// entry or an exit; the number is read at the entry and kept for the exit, as
// gdb may have changed the register meanwhile (-1: skip the call).
// A single-step that would overshoot (powerpc sc/scv) is made as a run to the
// syscall's exit stop, which is right after the instruction.
bool Engine::step_overshoots(Thread& t) {
  if (t.stepping_through_syscall) return true;  // on from the syscall's entry stop
  if (!arch_->has_overshooting_steps()) return false;
  auto pc = this->pc(t.tid);
  std::vector<std::uint8_t> instruction(arch_->breakpoint_instruction().size());
  return pc && ops_->read_memory(t.pid, *pc, instruction) == static_cast<long>(instruction.size()) &&
         arch_->single_step_overshoots(instruction);
}

void Engine::handle_syscall_stop(Thread& t, bool stepping_through) {
  bool entry = !t.syscall_at_entry;
  ops_->syscall_stop_is_entry(t.tid, entry);
  long number = entry || !t.syscall_at_entry ? syscall_number_register(t) : *t.syscall_at_entry;
  if (entry)
    t.syscall_at_entry = number;
  else
    t.syscall_at_entry.reset();
  t.at_syscall_return = !entry;
  ResumeRequest was = t.state.last_resume();
  t.state.on_stop(StopKind::Event);
  bool caught = catch_syscalls_ && (caught_syscalls_.empty() || caught_syscalls_.count(number));
  // A step through a syscall instruction goes on from the entry (gdb's next
  // step does too, if the entry is caught) and ends at the exit.
  if (stepping_through && entry) t.stepping_through_syscall = true;
  if (stepping_through && !entry && !caught) return event_to_report(t, {EngineStop::Kind::Signal, t.tid, SIGTRAP});
  if (!caught) return resume_quietly(t, was, 0);
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
  } else if (auto now = t.state.request_resume({.step = was.step, .host_signal = signal,
                                               .range_start = was.range_start, .range_end = was.range_end})) {
    start(t, *now);
  }
}

void Engine::forget_all_threads_but(pid_t tid) {
  pid_t pid = process_of(tid);
  for (auto it = threads_.begin(); it != threads_.end();)
    it = it->first == tid || it->second.pid != pid ? std::next(it) : threads_.erase(it);
  Thread& survivor = threads_.at(tid);
  survivor.exiting = false;
  survivor.pending.reset();
  survivor.registers->invalidate();
  Process& p = processes_.at(pid);
  if (p.hw) p.hw = arch_->make_hardware_debug();  // the new image starts with none
  p.read_watch_values.clear();
  // Nor has it any of our breakpoints: their saved bytes belong to the old
  // program and must neither be shown in reads nor written back.
  p.breakpoints = BreakpointTable{};
  p.breakpoint_agents.clear();
  p.out_of_line = OutOfLineArea{};  // the page went with the old program
  p.removed_breakpoints.clear();
  p.shares_parent_memory = false;  // a vfork child that execs has its own memory now
}

void Engine::handle_exit(pid_t tid, int status) {
  pid_t pid = process_of(tid);
  bool leader = tid == pid;
  // Its atomic step will never end: the threads waiting for it go on.
  if (Process* p = find_process(pid); p && p->atomic_stepper == tid && !leader) end_atomic_step(*p, true);
  threads_.erase(tid);
  if (!leader) {
    if (report_thread_events_) {
      EngineStop exited{EngineStop::Kind::ThreadExited, tid};
      exited.pid = pid;
      exited.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
      gone_thread_event(exited);
      return;
    }
    finish_stop_all_if_done();  // it may have been the last one we waited for
    return;
  }
  EngineStop stop;
  stop.tid = tid;
  stop.pid = pid;
  if (WIFEXITED(status)) {
    stop.kind = EngineStop::Kind::Exited;
    stop.exit_code = WEXITSTATUS(status);
  } else {
    stop.kind = EngineStop::Kind::Terminated;
    stop.host_signal = WTERMSIG(status);
  }
  if (processes_.size() <= 1) return process_gone(stop);
  // One of several processes ended; the others go on. gdb hears of it as of
  // any event: once everything else is stopped.
  bool told = !processes_.at(pid).let_go_at_first_stop;
  if (processes_.at(pid).fork_to_tell) tell_held_fork(processes_.at(pid));
  forget_process(pid);
  if (told)
    gone_thread_event(stop);
  else
    finish_stop_all_if_done();
}

void Engine::handle_fork(Thread& t, int event) {
  bool vfork = event == PTRACE_EVENT_VFORK;
  bool tell = vfork ? report_vforks_ : report_forks_;
  unsigned long message = 0;
  ops_->get_event_message(t.tid, message);
  auto child = static_cast<pid_t>(message);
  if (child > 0 && !find_process(child)) {
    Process& c = add_process(child, false);
    // Its memory is a copy of its parent's, our breakpoints included (a
    // vfork child even shares it).
    c.breakpoints = process(t).breakpoints;
    c.out_of_line = process(t).out_of_line;
    c.let_go_at_first_stop = !tell;
    c.shares_parent_memory = vfork;
    Thread* first = nullptr;
    if (born_before_announced_.erase(child) && (first = find(child))) {
      first->pid = child;  // its first stop came before this event
      if (first->state.stopped() && c.let_go_at_first_stop) let_go(c);
    } else if (!find(child)) {
      add_newborn(child, child, true);  // held at its first stop, still to come
    }
  }
  if (!tell) {
    // Like a clone: the parent goes on.
    if (t.state.on_stop(StopKind::Passing) == StopDecision::ResumeAgain)
      start(t, t.state.resume_to_apply());
    else
      finish_stop_all_if_done();
    return;
  }
  t.state.on_stop(StopKind::Event);
  EngineStop stop{vfork ? EngineStop::Kind::VForked : EngineStop::Kind::Forked, t.tid, SIGTRAP};
  stop.child_pid = child;
  // All-stop tells it once everything, the child too, is stopped; non-stop
  // waits for the child alone.
  if (Thread* c = non_stop_ ? find(child) : nullptr; c && !c->state.stopped()) {
    processes_.at(child).fork_to_tell = stop;
    return;
  }
  event_to_report(t, stop);
}

void Engine::tell_held_fork(Process& child) {
  EngineStop stop = *std::exchange(child.fork_to_tell, std::nullopt);
  if (Thread* parent = find(stop.tid))
    event_to_report(*parent, stop);
}

void Engine::let_go(Process& child) {
  pid_t pid = child.pid;
  // A vfork child shares its parent's memory: taking the breakpoints out of
  // it would take them out of the parent too.
  if (!child.shares_parent_memory) remove_all_breakpoints(child);
  for (auto& [tid, t] : threads_)
    if (t.pid == pid) ops_->detach(tid, 0);
  if (log_) log_("let go of fork child " + std::to_string(pid));
  forget_process(pid);
  finish_stop_all_if_done();
}

void Engine::forget_process(pid_t pid) {
  for (auto it = threads_.begin(); it != threads_.end();)
    it = it->second.pid == pid ? threads_.erase(it) : std::next(it);
  processes_.erase(pid);
  if (pid == pid_) pid_ = processes_.empty() ? 0 : processes_.begin()->first;
}

bool Engine::drain_events(std::size_t limit) {
  for (std::size_t taken = 0; taken < limit; ++taken) {
    auto w = ops_->wait(-1, false);
    if (!w) {
      // Judged only once the kernel has nothing more to say: when the whole
      // process exits, the other threads' ends are all in the queue by now.
      report_if_nothing_resumed();
      return false;
    }
    handle_wait(*w);
  }
  return true;
}

void Engine::wait_for_events() {
  if (auto w = ops_->wait(-1, true)) handle_wait(*w);
  drain_events();
}

void Engine::remove_all_breakpoints(Process& p) {
  for (std::uint64_t address : p.breakpoints.addresses()) remove_breakpoint(p.pid, address);
  p.atomic_breakpoints.clear();
  p.atomic_stepper = 0;
}

void Engine::kill() {
  if (processes_.empty()) return;
  std::set<pid_t> leaders;
  for (const auto& [pid, p] : processes_) {
    ops_->kill_process(pid);
    leaders.insert(pid);
  }
  // Reap every thread; a leader's status comes after its threads'. A thread
  // may still stop on its way out (PTRACE_EVENT_EXIT): let it go on to its end.
  while (!leaders.empty()) {
    auto w = ops_->wait(-1, true);
    if (!w) break;
    if (WIFEXITED(w->status) || WIFSIGNALED(w->status))
      leaders.erase(w->tid);
    else if (WIFSTOPPED(w->status))
      ops_->resume(w->tid, false, 0);
  }
  reset();
}

void Engine::kill(pid_t pid) {
  if (!find_process(pid)) return;
  if (processes_.size() == 1) return kill();
  ops_->kill_process(pid);
  // Only this process's threads are waited for: the others' events stay queued.
  std::vector<pid_t> tids;
  for (const auto& [tid, t] : threads_) {
    if (t.pid != pid || tid == pid) continue;
    // Counted here only until its fork event said whose it is: a fork child
    // is a process of its own, which the kill above did not reach.
    if (born_before_announced_.count(tid) && ops_->thread_group(tid) != pid) ops_->kill_process(tid);
    tids.push_back(tid);
  }
  tids.push_back(pid);
  for (pid_t tid : tids)
    while (auto w = ops_->wait(tid, true)) {
      if (WIFEXITED(w->status) || WIFSIGNALED(w->status)) break;
      if (WIFSTOPPED(w->status)) ops_->resume(w->tid, false, 0);
    }
  forget_process(pid);
}

void Engine::detach() {
  while (!processes_.empty()) detach(processes_.begin()->first);
  reset();
}

std::map<pid_t, int> Engine::stop_for_detach(pid_t pid) {
  std::map<pid_t, int> pass_signal;
  // Every thread must be in a ptrace-stop to be detached. The leader comes
  // last: killed from outside, its end is told only after its threads' ends.
  std::vector<pid_t> running;
  for (auto& [tid, t] : threads_)
    if (t.pid == pid && !t.state.stopped() && !t.exiting && tid != pid) running.push_back(tid);
  if (Thread* leader = find(pid); leader && !leader->state.stopped() && !leader->exiting) running.push_back(pid);
  for (pid_t tid : running) {
    Thread& t = *find(tid);
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
  return pass_signal;
}

void Engine::detach(pid_t pid) {
  Process* p = find_process(pid);
  if (!p) return;
  std::map<pid_t, int> pass_signal = stop_for_detach(pid);
  // gdbserver's rule for a signal gdb has not passed on: delivered unless gdb
  // keeps it from the program (QProgramSignals; without it, SIGTRAP and SIGINT).
  auto program_gets = [this](int s) {
    return program_signals_ ? program_signals_->count(s) != 0 : s != SIGTRAP && s != SIGINT && s != SIGSTOP;
  };
  for (auto& [tid, t] : threads_)
    if (t.pid == pid && t.pending && t.pending->kind == EngineStop::Kind::Signal &&
        t.pending->host_signal != SIGTRAP && !pass_signal.count(tid) && program_gets(t.pending->host_signal))
      pass_signal[tid] = t.pending->host_signal;  // a signal gdb never heard of: not lost
  for (auto& [tid, t] : threads_)
    if (t.pid == pid && !t.held_signals.empty() && !pass_signal.count(tid))
      pass_signal[tid] = t.held_signals.front();
  // Still at the delivery of a signal found at attach: the program gets it,
  // unless gdb keeps that signal from it (QProgramSignals). A signal stop gdb
  // itself was told of is gdb's to pass or not: an inferior call, for one,
  // ends in a SIGSEGV at its dummy frame that must never reach the program.
  for (auto& [tid, t] : threads_) {
    int s = t.delivery_signal;
    if (t.pid != pid || !s || pass_signal.count(tid) || !t.state.stopped()) continue;
    if (program_gets(s)) pass_signal[tid] = s;
  }
  if (!p->shares_parent_memory) remove_all_breakpoints(*p);
  if (p->hw && !p->hw->empty())
    for (auto& [tid, t] : threads_)
      if (t.pid == pid) p->hw->clear_thread(tid, debug_port_);
  for (auto& [tid, t] : threads_) {
    if (t.pid != pid) continue;
    t.registers->flush();
    ops_->detach(tid, pass_signal.count(tid) ? pass_signal[tid] : 0);
  }
  forget_process(pid);
}

}  // namespace ustub
