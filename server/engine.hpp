#pragma once
// The ptrace engine: traced threads with explicit states, stop decoding,
// resume plans, breakpoints and memory. It talks to the kernel only through
// PtraceOps and never blocks except in kill()/detach(), which must finish
// before they return.
#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "arch/register_layout.hpp"
#include "server/breakpoint_table.hpp"
#include "server/ptrace_ops.hpp"
#include "server/register_cache.hpp"
#include "server/thread_state.hpp"

namespace ustub {

struct EngineStop {
  enum class Kind { Signal, Exited, Terminated };
  Kind kind = Kind::Signal;
  pid_t tid = 0;
  int host_signal = 0;  // Signal, Terminated
  int exit_code = 0;    // Exited
  bool software_breakpoint = false;
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
  void set_stop_handler(StopHandler handler) { on_stop_ = std::move(handler); }
  // With gdb's "swbreak" feature the stub moves the pc back onto the breakpoint;
  // without it gdb does that itself and the pc must be left alone.
  void set_rewind_pc_at_breakpoints(bool rewind) { rewind_pc_at_breakpoints_ = rewind; }

  const arch::RegisterLayout& layout() const { return *layout_; }
  const arch::Arch& arch() const { return *arch_; }
  bool read_register(pid_t tid, unsigned regnum, std::vector<std::uint8_t>& value);
  bool write_register(pid_t tid, unsigned regnum, std::span<const std::uint8_t> value);
  std::optional<std::uint64_t> pc(pid_t tid);

  // Bytes transferred, or -errno. Reads show no breakpoint instructions.
  long read_memory(std::uint64_t address, std::span<std::uint8_t> out);
  long write_memory(std::uint64_t address, std::span<const std::uint8_t> in);
  int insert_breakpoint(std::uint64_t address);  // 0 or errno
  int remove_breakpoint(std::uint64_t address);

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
  };

  Thread* find(pid_t tid);
  Thread& add_thread(pid_t tid);
  void start(Thread& t, ResumeRequest request);
  void report(const EngineStop& stop);
  void process_gone(const EngineStop& stop);
  EngineStop decode_trap(Thread& t, const TrapInfo& trap);
  void remove_all_breakpoints();
  bool breakpoint_still_planted(std::uint64_t address);
  void reset();

  const arch::Arch* arch_;
  PtraceOps* ops_;
  pid_t pid_ = 0;
  bool launched_ = false;
  std::map<pid_t, Thread> threads_;
  std::unique_ptr<arch::RegisterLayout> layout_;
  BreakpointTable breakpoints_;
  EngineStop last_stop_;
  StopHandler on_stop_;
  bool rewind_pc_at_breakpoints_ = true;
};

}  // namespace ustub
