#pragma once
// A kernel made of scripted answers, for engine and session tests: registers
// and memory are plain maps, wait statuses are queued by the test, and every
// request the engine makes is logged.
#include <signal.h>
#include <sys/ptrace.h>

#include <cstring>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "server/ptrace_ops.hpp"

namespace ustub::testing {

inline int stopped_status(int signal, int event = 0) { return event << 16 | signal << 8 | 0x7f; }
inline int exited_status(int code) { return code << 8; }
inline int killed_status(int signal) { return signal; }

constexpr unsigned kRipOffset = 128;
constexpr unsigned kNtPrstatus = 1;

class ScriptedOps : public PtraceOps {
 public:
  std::vector<std::string> log;
  std::map<pid_t, std::vector<std::uint8_t>> general;  // NT_PRSTATUS images
  std::map<std::pair<pid_t, unsigned>, std::vector<std::uint8_t>> other_regsets;  // by thread and NT_*
  std::map<std::uint64_t, std::uint8_t> memory;
  std::map<pid_t, TrapInfo> traps;
  std::deque<WaitResult> pending;

  void set_pc(pid_t tid, std::uint64_t pc) {
    general[tid].resize(27 * 8);
    std::memcpy(general[tid].data() + kRipOffset, &pc, 8);
  }
  std::uint64_t pc_of(pid_t tid) {
    std::uint64_t pc;
    std::memcpy(&pc, general[tid].data() + kRipOffset, 8);
    return pc;
  }

  int interrupt(pid_t tid) override {
    log.push_back("interrupt " + std::to_string(tid));
    return 0;
  }
  int send_signal(pid_t, pid_t tid, int sig) override {
    log.push_back("tgkill " + std::to_string(tid) + " " + std::to_string(sig));
    return 0;
  }
  int resume(pid_t tid, bool step, int sig) override {
    log.push_back(std::string(step ? "step " : "cont ") + std::to_string(tid) + " sig " + std::to_string(sig));
    return 0;
  }
  int listen(pid_t tid) override {
    log.push_back("listen " + std::to_string(tid));
    return 0;
  }
  void image_replaced(pid_t pid) override { log.push_back("exec " + std::to_string(pid)); }
  int resume_to_syscall(pid_t tid, int sig) override {
    log.push_back("syscall " + std::to_string(tid) + " sig " + std::to_string(sig));
    return 0;
  }
  std::map<pid_t, bool> syscall_entry;  // what PTRACE_GET_SYSCALL_INFO says at a syscall-stop
  int syscall_stop_is_entry(pid_t tid, bool& entry) override {
    entry = syscall_entry[tid];
    return 0;
  }
  int detach(pid_t tid, int sig) override {
    log.push_back("detach " + std::to_string(tid) + " sig " + std::to_string(sig));
    return 0;
  }
  int kill_process(pid_t pid) override {
    log.push_back("kill " + std::to_string(pid));
    pending.push_back({pid, killed_status(SIGKILL)});
    return 0;
  }
  int get_regset(pid_t tid, unsigned note, std::vector<std::uint8_t>& image) override {
    if (note == kNtPrstatus) {
      image = general[tid];
      return 0;
    }
    if (auto it = other_regsets.find({tid, note}); it != other_regsets.end()) {
      image = it->second;
      return 0;
    }
    if (note == 2) {  // NT_PRFPREG: plain FXSAVE, no XSAVE here
      image.assign(512, 0);
      return 0;
    }
    return EIO;
  }
  int set_regset(pid_t tid, unsigned note, std::span<const std::uint8_t> image) override {
    if (note == kNtPrstatus) general[tid].assign(image.begin(), image.end());
    else if (other_regsets.count({tid, note})) other_regsets[{tid, note}].assign(image.begin(), image.end());
    log.push_back("setregs " + std::to_string(tid));
    return 0;
  }
  std::map<pid_t, unsigned long> event_messages;
  int set_siginfo(pid_t tid, std::span<const std::uint8_t> raw) override {
    log.push_back("setsiginfo " + std::to_string(tid) + " " + std::to_string(raw.size()));
    return 0;
  }
  bool process_exiting = false;
  bool exiting(pid_t) override { return process_exiting; }
  bool being_killed(pid_t) override { return process_exiting; }
  std::map<pid_t, pid_t> thread_groups;  // unlisted: gone
  pid_t thread_group(pid_t tid) override { return thread_groups.count(tid) ? thread_groups[tid] : 0; }
  std::set<std::pair<pid_t, int>> pending_signals;  // queued, not yet reported
  bool signal_pending(pid_t tid, int sig) override { return pending_signals.count({tid, sig}) != 0; }
  std::optional<arch::HardwareCaps> caps;  // none: the auxv could not be read
  std::optional<arch::HardwareCaps> hardware_caps(pid_t) override { return caps; }
  std::optional<std::uint64_t> vdso_address(pid_t) override { return vdso; }
  std::optional<std::uint64_t> vdso;
  std::map<std::pair<pid_t, unsigned>, std::uint64_t> user_area;
  arch::PpcDebugInfo ppc_info{};  // what PPC_PTRACE_GETHWDBGINFO says
  std::map<long, std::pair<pid_t, arch::PpcHwBreakpoint>> ppc_requests;  // set and not deleted, by handle
  long next_handle = 1;
  int ppc_debug_info(pid_t, arch::PpcDebugInfo& info) override {
    info = ppc_info;
    return ppc_info.version ? 0 : EIO;
  }
  int ppc_set_hw_debug(pid_t tid, const arch::PpcHwBreakpoint& request, long& handle) override {
    handle = next_handle++;
    ppc_requests[handle] = {tid, request};
    return 0;
  }
  int ppc_del_hw_debug(pid_t, long handle) override { return ppc_requests.erase(handle) ? 0 : ENOENT; }
  int peek_user(pid_t tid, unsigned offset, std::uint64_t& value) override {
    value = user_area[{tid, offset}];
    return 0;
  }
  int poke_user(pid_t tid, unsigned offset, std::uint64_t value) override {
    user_area[{tid, offset}] = value;
    log.push_back("poke " + std::to_string(tid) + " " + std::to_string(offset) + " " + std::to_string(value));
    return 0;
  }
  int get_siginfo(pid_t tid, std::vector<std::uint8_t>& raw) override {
    raw.assign(128, 0);
    std::memcpy(raw.data(), &traps[tid].signo, sizeof(int));
    std::memcpy(raw.data() + 8, &traps[tid].code, sizeof(int));  // si_code
    return 0;
  }
  int get_event_message(pid_t tid, unsigned long& message) override {
    message = event_messages[tid];
    return 0;
  }
  int get_trap_info(pid_t tid, TrapInfo& info) override {
    info = traps[tid];
    return 0;
  }
  long read_memory(pid_t, std::uint64_t address, std::span<std::uint8_t> out) override {
    for (std::size_t i = 0; i < out.size(); ++i) {
      auto it = memory.find(address + i);
      if (it == memory.end()) return i == 0 ? -EIO : static_cast<long>(i);
      out[i] = it->second;
    }
    return static_cast<long>(out.size());
  }
  // Whose memory was written where (`memory` itself is one for all).
  std::vector<std::pair<pid_t, std::uint64_t>> writes;
  long write_memory(pid_t pid, std::uint64_t address, std::span<const std::uint8_t> in) override {
    writes.emplace_back(pid, address);
    for (std::size_t i = 0; i < in.size(); ++i) memory[address + i] = in[i];
    return static_cast<long>(in.size());
  }
  std::optional<WaitResult> wait(pid_t, bool) override {
    if (pending.empty()) return std::nullopt;
    WaitResult w = pending.front();
    pending.pop_front();
    return w;
  }
};

}  // namespace ustub::testing
