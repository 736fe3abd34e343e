#pragma once
// One gdb connection and every process it debugs. Each client runs on a
// thread of its own: the kernel binds a tracee to the thread that attached
// it, and waitpid(__WNOTHREAD) on that thread sees only its own tracees. So
// one client's processes — and a wait that blocks on them — never reach
// another's, and several gdbs share one `ustub --multi`.
#include <sys/types.h>

#include <array>
#include <asio.hpp>
#include <atomic>
#include <cstdio>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server/cli.hpp"
#include "server/engine.hpp"
#include "server/inferior_settings.hpp"
#include "server/linux_ptrace_ops.hpp"
#include "server/session.hpp"
#include "server/signal_watch.hpp"
#include "server/terminal.hpp"
#include "server/transport.hpp"
#include "server/unattended.hpp"

namespace ustub {

class Client;

// What a client needs from the server around it. Called on the client's
// thread; the server hands the work to its own.
class ClientHost {
 public:
  virtual ~ClientHost() = default;
  // The connection is over; the client's processes, if any, wait for the next gdb.
  virtual void connection_ended(Client& client) = 0;
  // ustub as a whole is done: `monitor exit`, or a plain-remote session that is over.
  virtual void exit_server() = 0;
  virtual void say(const std::string& line) = 0;
  virtual void debug_line(const std::string& line) = 0;
};

class Client {
 public:
  // `reconnectable`: a listener takes the next gdb once this one hangs up
  // (not so on stdio or a serial line). `on_callers_thread`: no thread of its
  // own; the thread that makes it runs it (run_here), so that its tracees see
  // ustub's own pid as their TracerPid, as under gdbserver (programs and gdb's
  // testsuite check TracerPid against getppid()).
  Client(const CommandLine& command, ClientHost& host, bool reconnectable, bool on_callers_thread = false);
  ~Client();  // shut_down() first
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  asio::io_context& io() { return io_; }
  // A client on its caller's thread: serve until end_run_here().
  void run_here();
  void end_run_here();  // from any thread
  // The program or pid on the command line, started on this client's thread;
  // "" when it worked (or there is none), else why not.
  std::string start_inferior();
  // Serves gdb on `transport` (made for io()), from this client's thread.
  void serve(std::unique_ptr<Transport> transport);
  // A SIGCHLD reached ustub: collect whatever this client's tracees have to say.
  void child_changed();
  // SIGCHLD is read on this client's own loop from now on: its tracees' events
  // are collected at once, without a hop through another thread (a step costs
  // two thread switches less). `tell_others` passes the news to other clients.
  // On the caller's thread, before any other thread exists: SIGCHLD is blocked
  // there and every thread made later inherits that.
  void take_child_signals(std::function<void()> tell_others);
  // Kills what it started, detaches from what it attached to, ends its thread.
  void shut_down();

  bool connected() const { return connected_; }
  bool has_processes() const { return has_processes_; }
  // A program started and then detached in plain remote mode, still our child
  // (gdbserver waits for it before exiting); 0 if none.
  pid_t detached_child() const { return detached_child_; }

 private:
  // Runs `work` on this client's thread and waits for it: ptrace calls for a
  // tracee are refused from any other thread.
  template <class Work>
  auto on_own_thread(Work work) -> decltype(work());

  std::string launch(std::vector<std::string> argv, const InferiorSettings& settings = {});
  std::string attach(pid_t pid);
  // gdb detaches from a process with persistent dprintfs: true when it runs on.
  bool keep_running_unattended(pid_t pid);
  // gdb starts or attaches to another process: the one held for its dprintfs goes.
  void release_unattended();
  void begin_session();
  void read_more();
  void take_bytes(std::size_t n);
  bool poll_while_busy();
  bool after_session_step();
  void on_stop(const EngineStop& stop);
  bool end_connection();
  void connection_lost();
  void release_inferior();
  void close_and_exit_server();
  void log_engine_events();
  void note_processes() { has_processes_ = engine_.has_process(); }
  // The engine's events, a bounded batch per turn of the loop (the rest on
  // the next turn): threads that stop again as fast as they are resumed
  // (breakpoint hits whose conditions are judged here) must not keep gdb's
  // packets, a Ctrl-C among them, from being read.
  void collect_events();
  static constexpr std::size_t kEventsPerTurn = 64;
  bool collect_posted_ = false;

  const CommandLine& command_;
  ClientHost& host_;
  const bool reconnectable_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> keep_running_;
  std::unique_ptr<SignalWatch> child_signals_;
  LinuxPtraceOps ops_;
  Engine engine_;
  UnattendedProcess unattended_{engine_};
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<Session> session_;
  TerminalHandover terminal_;
  std::vector<std::string> last_program_;
  bool stdio_ = false;
  bool remote_debug_ = false;
  bool debug_ = false;
  std::array<char, 65536> buffer_{};
  std::atomic<bool> connected_ = false;
  std::atomic<bool> has_processes_ = false;
  std::atomic<pid_t> detached_child_ = 0;
  pid_t last_detached_launched_ = 0;
  unsigned connection_id_ = 0;
  std::chrono::microseconds busy_poll_;
  void run_loop();
  bool shut_ = false;
  std::thread::id owner_;  // the thread that runs io_ and makes every ptrace call
  std::thread thread_;  // last: it runs io_ over everything above (none: on the caller's)
};

}  // namespace ustub
