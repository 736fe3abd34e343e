// The engine's out-of-line runs (server/out_of_line.hpp): a hit whose
// conditions are false goes on in a copy of the instruction under the
// breakpoint, in a page ustub maps in the process the first time.
#include <signal.h>
#include <sys/ptrace.h>

#include <algorithm>

#include "server/engine.hpp"
#include "server/thread_registers.hpp"

namespace ustub {

bool Engine::out_of_line_possible(const Thread& t) const {
  const Process& p = processes_.at(t.pid);
  // A thread gdb single-steps must stop after the instruction: in-line only.
  if (t.state.last_resume().step || arch_->syscall_instruction().empty()) return false;
  auto state = p.out_of_line.state();
  return state == OutOfLineArea::State::Absent || state == OutOfLineArea::State::Ready;
}

// Not a thread gdb asked to stop (non-stop's vCont;t, a Ctrl-C): stopped
// untold, it would take that stop's interrupt for its own, run on when let
// go, and gdb would wait for its stop for ever. Its hit is told instead.
bool Engine::awaits_out_of_line_page(const Thread& t) const {
  return !t.state.last_resume().step && !t.stop_for_gdb &&
         processes_.at(t.pid).out_of_line.state() == OutOfLineArea::State::Mapping;
}

// The mapping is over, made or not: the threads that waited for it run into
// their breakpoints again, and are judged again (all-stop's stop of every
// thread holds them, as any other, until gdb resumes them).
void Engine::release_threads_awaiting_page(pid_t pid) {
  for (auto& [tid, other] : threads_)
    if (other.pid == pid && other.awaiting_out_of_line_page && other.state.stopped())
      resume_quietly(other, other.state.last_resume(), 0);
}

bool Engine::run_out_of_line(Thread& t, std::uint64_t address) {
  Process& p = process(t);
  OutOfLineArea& area = p.out_of_line;
  if (area.state() == OutOfLineArea::State::Absent) return start_mapping_out_of_line(t, address);
  std::vector<std::uint8_t> code(arch::Arch::kLongestInstruction);
  long n = read_memory(t.pid, address, code);  // our breakpoints hidden
  if (n <= 0) return false;
  code.resize(static_cast<std::size_t>(n));
  auto slot = area.slot_for(address, code);
  if (!slot) slot = copy_out_of_line(p, address, code);
  if (!slot) return false;
  t.registers->write_u64(*layout_->with_role(arch::RegisterRole::ProgramCounter).info, *slot);
  ResumeRequest on = t.state.last_resume();
  on.host_signal = 0;  // delivered already, by the resume that led here
  if (log_) log_("condition false: on out of line, tid " + std::to_string(t.tid));
  start(t, on);
  return true;
}

std::optional<std::uint64_t> Engine::copy_out_of_line(Process& p, std::uint64_t address,
                                                      std::span<const std::uint8_t> code) {
  auto at = p.out_of_line.next_slot();
  if (!at) return std::nullopt;
  auto copy = arch_->out_of_line_copy(address, code, *at);
  if (!copy) return std::nullopt;
  if (ops_->write_memory(p.pid, *at, copy->bytes) != static_cast<long>(copy->bytes.size())) return std::nullopt;
  p.out_of_line.add(address, code.first(copy->length));
  return at;
}

namespace {

// Where `instruction` first is in `image`, at a multiple of `alignment`.
std::optional<std::size_t> find_instruction(std::span<const std::uint8_t> image, std::span<const std::uint8_t> instruction,
                                            unsigned alignment) {
  for (std::size_t at = 0; !instruction.empty() && at + instruction.size() <= image.size(); at += alignment)
    if (std::equal(instruction.begin(), instruction.end(), image.begin() + static_cast<std::ptrdiff_t>(at))) return at;
  return std::nullopt;
}

}  // namespace

// The thread makes the mmap: at a syscall instruction of the vDSO (which
// every process has, and which nothing of ustub's needs changing), then its
// registers are put back and it runs into the breakpoint again. Where a
// single-step over the syscall instruction would run the one after it too
// (powerpc), the thread runs to the syscall's entry and exit stops instead.
bool Engine::start_mapping_out_of_line(Thread& t, std::uint64_t near) {
  Process& p = process(t);
  auto syscall = arch_->syscall_instruction();
  auto vdso = ops_->vdso_address(t.pid);
  std::vector<std::uint8_t> image(2 * OutOfLineArea::kPageBytes);
  long n = vdso ? ops_->read_memory(t.pid, *vdso, image) : -1;
  auto found = n > 0 ? find_instruction(std::span(image).first(static_cast<std::size_t>(n)), syscall,
                                        arch_->instruction_alignment())
                     : std::nullopt;
  const auto& pc_info = *layout_->with_role(arch::RegisterRole::ProgramCounter).info;
  auto saved = t.registers->save(pc_info.regset);
  if (!found || !saved) {
    p.out_of_line.unusable();
    return false;
  }
  t.mapping_syscall_at = *vdso + *found;
  t.registers_before_mapping = std::move(*saved);
  t.after_step_over = t.state.last_resume();
  t.after_step_over.host_signal = 0;
  ThreadRegisters registers(*layout_, *t.registers);
  arch_->prepare_anonymous_mapping(registers, t.mapping_syscall_at,
                                   OutOfLineArea::placement_hint(near, arch_->out_of_line_reach()),
                                   OutOfLineArea::kPageBytes);
  p.out_of_line.mapping();
  t.registers->flush();
  t.registers->invalidate();
  if (log_) log_("mapping an out-of-line page, tid " + std::to_string(t.tid));
  if (arch_->single_step_overshoots(syscall))
    ops_->resume_to_syscall(t.tid, 0);
  else
    ops_->resume(t.tid, true, 0);
  return true;
}

bool Engine::finish_mapping_out_of_line(Thread& t, int event, int signal) {
  bool through_syscall_stops = arch_->single_step_overshoots(arch_->syscall_instruction());
  bool syscall_stop = event == 0 && signal == (SIGTRAP | 0x80);
  bool entry = false;
  if (through_syscall_stops && syscall_stop && ops_->syscall_stop_is_entry(t.tid, entry) == 0 && entry) {
    ops_->resume_to_syscall(t.tid, 0);  // on to its exit, where the result is
    return true;
  }
  std::vector<std::uint8_t> saved = std::move(*t.registers_before_mapping);
  t.registers_before_mapping.reset();
  Process& p = process(t);
  if (event == PTRACE_EVENT_EXEC) {  // another thread's: this one is the leader now, in a new program
    p.out_of_line = OutOfLineArea{};
    return false;
  }
  const auto& pc_info = *layout_->with_role(arch::RegisterRole::ProgramCounter).info;
  auto pc = t.registers->read_u64(pc_info);
  // Past the syscall instruction: the syscall was made, whatever stopped it then.
  bool made = pc && *pc == t.mapping_syscall_at + arch_->syscall_instruction().size();
  if (made) {
    ThreadRegisters registers(*layout_, *t.registers);
    if (auto page = arch_->syscall_succeeded(registers))
      p.out_of_line.mapped(*page);
    else
      p.out_of_line.unusable();  // refused (seccomp, limits): never again
  } else {
    p.out_of_line.not_mapped();
  }
  release_threads_awaiting_page(p.pid);
  t.registers->restore(pc_info.regset, saved);  // at the breakpoint again
  bool mapping_stop = through_syscall_stops ? syscall_stop : event == 0 && signal == SIGTRAP;
  if (!made || !mapping_stop) return false;  // that stop is the thread's own, told as usual
  if (stopping_all_) {
    t.state.on_stop(StopKind::Event);
    finish_stop_all_if_done();
    return true;
  }
  start(t, t.after_step_over);  // runs into the breakpoint again: judged again, now with a page
  return true;
}

void Engine::put_back_from_out_of_line(Thread& t) {
  const OutOfLineArea& area = process(t).out_of_line;
  if (area.state() != OutOfLineArea::State::Ready) return;
  const auto& pc_info = *layout_->with_role(arch::RegisterRole::ProgramCounter).info;
  auto pc = t.registers->read_u64(pc_info);
  if (!pc) return;
  if (auto in_program = area.program_pc(*pc)) t.registers->write_u64(pc_info, *in_program);
}

}  // namespace ustub
