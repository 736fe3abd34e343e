#include "server/client.hpp"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "arch/arch.hpp"
#include "server/launcher.hpp"

namespace ustub {

namespace {

std::string printable(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    // A backslash is escaped too, so the log can be turned back into bytes.
    if (c >= 0x20 && c < 0x7f && c != '\\') out.push_back(static_cast<char>(c));
    else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

std::string sigabbrev_or_number(int signo) {
  const char* abbrev = sigabbrev_np(signo);
  return abbrev ? std::string("SIG") + abbrev : std::to_string(signo);
}

}  // namespace

Client::Client(const CommandLine& command, ClientHost& host, bool reconnectable, bool on_callers_thread)
    : command_(command),
      host_(host),
      reconnectable_(reconnectable),
      keep_running_(asio::make_work_guard(io_)),
      engine_(arch::native_arch(), ops_),
      stdio_(std::holds_alternative<StdioEndpoint>(command.endpoint)),
      remote_debug_(command.remote_debug),
      debug_(command.debug),
      busy_poll_(command.busy_poll_us) {
  engine_.set_stop_handler([this](const EngineStop& stop) { on_stop(stop); });
  // A dprintf's agent printf goes where gdbserver's goes, its stdout, unless
  // stdout carries the protocol.
  engine_.set_agent_output([this](const std::string& text) {
    std::FILE* out = stdio_ ? stderr : stdout;
    std::fwrite(text.data(), 1, text.size(), out);
    std::fflush(out);
  });
  log_engine_events();
  if (on_callers_thread) {
    owner_ = std::this_thread::get_id();
    return;
  }
  thread_ = std::thread([this] { run_loop(); });
  owner_ = thread_.get_id();
}

// Runs until shut down: the server's requests still need this thread.
void Client::run_loop() {
  while (true) {
    try {
      io_.run();
      return;
    } catch (const std::exception& e) {
      // A bug of ours must still not leave a tracee behind.
      host_.say(std::string("ustub: internal error: ") + e.what());
      release_inferior();
      host_.exit_server();
    }
  }
}

void Client::run_here() { run_loop(); }

void Client::end_run_here() { io_.stop(); }

Client::~Client() { shut_down(); }

template <class Work>
auto Client::on_own_thread(Work work) -> decltype(work()) {
  if (std::this_thread::get_id() == owner_) return work();
  std::packaged_task<decltype(work())()> task(std::move(work));
  auto result = task.get_future();
  asio::post(io_, [&task] { task(); });
  return result.get();
}

std::string Client::start_inferior() {
  return on_own_thread([this]() -> std::string {
    std::string why;
    if (command_.attach_pid) why = attach(*command_.attach_pid);
    else if (!command_.program.empty()) why = launch(command_.program);
    note_processes();
    return why;
  });
}

void Client::serve(std::unique_ptr<Transport> transport) {
  connected_ = true;
  // A shared_ptr: asio's handlers must be copyable.
  auto handed = std::make_shared<std::unique_ptr<Transport>>(std::move(transport));
  asio::post(io_, [this, handed] {
    transport_ = std::move(*handed);
    begin_session();
  });
}

void Client::child_changed() {
  asio::post(io_, [this] { collect_events(); });
}

void Client::collect_events() {
  bool more = engine_.drain_events(kEventsPerTurn);
  note_processes();
  if (more && !std::exchange(collect_posted_, true))
    asio::post(io_, [this] {
      collect_posted_ = false;
      collect_events();
    });
}

void Client::take_child_signals(std::function<void()> tell_others) {
  child_signals_ = std::make_unique<SignalWatch>(io_, std::initializer_list<int>{SIGCHLD},
                                                 [this, tell_others = std::move(tell_others)](int) {
                                                   collect_events();
                                                   tell_others();
                                                 });
}

void Client::shut_down() {
  if (std::exchange(shut_, true)) return;
  // On the caller's thread, after run_here() returned: on_own_thread runs
  // the work directly, as the loop no longer does.
  on_own_thread([this] {
    ++connection_id_;
    if (transport_) transport_->close();
    transport_.reset();
    session_.reset();
    release_inferior();
    child_signals_.reset();
    return 0;
  });
  keep_running_.reset();
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

std::string Client::launch(std::vector<std::string> argv, const InferiorSettings& settings) {
  if (argv.empty() || argv.front().empty()) {
    if (last_program_.empty()) return "no program to run: give one (gdb: set remote exec-file PROG)";
    if (argv.empty()) argv = last_program_;
    else argv.front() = last_program_.front();
  }
  argv.front() = program_path(argv.front());
  LaunchOptions options;
  options.argv = argv;
  options.inferior_output_to_stderr = stdio_;
  options.startup_with_shell = settings.startup_with_shell.value_or(command_.startup_with_shell);
  options.disable_randomization = settings.disable_randomization.value_or(command_.disable_randomization);
  if (settings.changes_environment()) {
    std::vector<std::string> own;
    for (char** e = environ; *e; ++e) own.emplace_back(*e);
    options.environment = settings.environment(own);
  }
  if (!settings.working_directory.empty()) {
    const char* home = std::getenv("HOME");
    options.working_directory = expand_home(settings.working_directory, home ? home : "/");
  }
  options.wrapper = command_.wrapper;
  release_unattended();
  Launched launched = launch_program(options);
  if (!launched.error.empty()) return launched.error;
  // Another process is held only when gdb runs a second inferior (the session decides).
  engine_.add_inferior(launched.pid, {launched.pid}, true, {EngineStop::Kind::Signal, launched.pid, SIGTRAP});
  last_program_ = argv;
  if (!stdio_) terminal_.give_to(launched.pid);
  host_.say("Process " + argv.front() + " created; pid = " + std::to_string(launched.pid));
  return "";
}

std::string Client::attach(pid_t pid) {
  if (unattended_.holds(pid)) {
    if (!unattended_.take_back()) return "process " + std::to_string(pid) + " ended";
    host_.say("Attached; pid = " + std::to_string(pid));
    return "";
  }
  release_unattended();
  Attached attached = attach_process(pid);
  if (!attached.error.empty()) return attached.error;
  EngineStop initial{EngineStop::Kind::Signal, pid, SIGTRAP};
  if (auto it = attached.pending_signals.find(pid); it != attached.pending_signals.end())
    initial.host_signal = it->second;  // gdb says "received signal …" and passes it on
  engine_.add_inferior(pid, attached.threads, false, initial);
  for (auto [tid, signal] : attached.pending_signals)
    if (tid != pid) engine_.keep_signal_stop(tid, signal);
  host_.say("Attached; pid = " + std::to_string(pid));
  return "";
}

// gdbserver's wording (its "leaving gdbserver attached").
bool Client::keep_running_unattended(pid_t pid) {
  if (!engine_.has_persistent_commands(pid)) return false;
  // In plain remote mode with --once (or over stdio) ustub ends with this
  // connection: the detach is made now, as gdbserver's exit would.
  if ((command_.once || !reconnectable_) && !command_.multi) {
    host_.say("ustub: persistent commands end with the detach: ustub ends with this connection");
    return false;
  }
  if (!unattended_.keep_running(pid)) {
    host_.say("ustub: persistent commands end with the detach: other processes are held");
    return false;
  }
  host_.say("Persistent commands are present, leaving ustub attached to the process");
  note_processes();
  return true;
}

void Client::release_unattended() {
  if (!unattended_.holds_any()) return;
  host_.say("ustub: letting process " + std::to_string(unattended_.pid()) + " go: its persistent commands end here");
  unattended_.release();
  note_processes();
}

void Client::begin_session() {
  ++connection_id_;
  // gdbserver's behaviour: the next gdb takes the process over. With
  // --multi it is that gdb's only once it attaches to it.
  if (unattended_.holds_any() && !command_.multi) {
    unattended_.take_back();
    note_processes();
  }
  SessionHooks hooks;
  hooks.run = [this](const std::vector<std::string>& argv, const InferiorSettings& settings) {
    // gdb shows only that the run failed: the why is on ustub's console, as gdbserver's is.
    std::string why = launch(argv, settings);
    if (!why.empty()) host_.say("ustub: " + why);
    return why;
  };
  hooks.attach = [this](pid_t pid) { return attach(pid); };
  hooks.detached = [this](pid_t pid, bool launched) {
    host_.say("Detaching from process " + std::to_string(pid));
    last_detached_launched_ = launched ? pid : 0;
  };
  hooks.keep_running = [this](pid_t pid) { return keep_running_unattended(pid); };
  hooks.holds_unattended = [this] { return unattended_.holds_any(); };
  hooks.set_debug = [this](bool remote, bool on) {
    (remote ? remote_debug_ : debug_) = on;
    log_engine_events();
  };
  session_ = std::make_unique<Session>(
      engine_,
      [this](std::string_view bytes) {
        if (remote_debug_) host_.debug_line("-> " + printable(bytes));
        if (transport_) transport_->send(bytes);
      },
      std::move(hooks), command_.disabled);
  transport_->on_write_failure([this](const std::string& why) {
    host_.say("ustub: gdb connection: " + why + "; dropping it");
    end_connection();
  });
  read_more();
}

void Client::read_more() {
  unsigned connection = connection_id_;
  transport_->async_read_some(asio::buffer(buffer_), [this, connection](const std::error_code& ec, std::size_t n) {
    if (connection != connection_id_) return;  // a read of a connection already ended
    if (ec || n == 0) {
      connection_lost();
      return;
    }
    take_bytes(n);
    if (after_session_step() || poll_while_busy()) return;
    read_more();
  });
}

// What gdb sent, the first n bytes of buffer_, to the session.
void Client::take_bytes(std::size_t n) {
  std::string_view bytes(buffer_.data(), n);
  if (remote_debug_) host_.debug_line("<- " + printable(bytes));
  session_->on_bytes(bytes);
}

// A step ends, or gdb answers a reply, within tens of microseconds; sleeping
// until then costs more than that (the wake-up, and on a VM the idle vCPU's
// exit). So for a while after each packet ustub looks for both itself: the
// stop with waitpid, gdb's next packet with a read that does not wait. Only
// in all-stop, where gdb waits on each reply; each round is bounded, and
// the loop goes back to asio at least every 20 ms for its signals, timers and
// queued writes.
// True when the connection is finished.
bool Client::poll_while_busy() {
  using clock = std::chrono::steady_clock;
  constexpr auto kLongestRound = std::chrono::milliseconds(20);
  if (busy_poll_.count() == 0) return false;
  auto start = clock::now();
  auto last_news = start;
  while (session_ && !session_->non_stop()) {
    // A reply still queued goes out only from asio's loop; gdb waits for it.
    if (transport_->unsent() > 0) return false;
    bool news = false;
    if (session_->awaiting_stop()) {
      collect_events();
      news = !session_ || !session_->awaiting_stop();
      if (after_session_step()) return true;
    }
    std::error_code ec;
    std::size_t n = transport_->read_ready(asio::buffer(buffer_), ec);
    if (ec && ec != asio::error::would_block) return false;  // the asynchronous read meets it too
    if (n > 0) {
      take_bytes(n);
      if (after_session_step()) return true;
      news = true;
    }
    auto now = clock::now();
    if (now - start > kLongestRound) return false;
    if (news) last_news = now;
    else if (now - last_news > busy_poll_) return false;
    else sched_yield();
  }
  return false;
}

// Acts on how the session stands; true when the connection is finished.
bool Client::after_session_step() {
  if (!session_) return true;
  switch (session_->outcome()) {
    case Session::Outcome::Open:
      return false;
    case Session::Outcome::Detached:
      // Plain remote only (gdbserver's join_inferior): the program we
      // started is waited for before we exit. In extended mode gdb may
      // detach from long-running programs; ustub does not wait for them.
      detached_child_ = last_detached_launched_;
      [[fallthrough]];
    case Session::Outcome::Killed:
    case Session::Outcome::ProcessExited:
      // Plain remote: the connection is about that process alone.
      if (command_.multi) return end_connection();
      close_and_exit_server();
      return true;
    case Session::Outcome::ExitRequested:
      release_inferior();
      close_and_exit_server();
      return true;
  }
  return false;
}

void Client::close_and_exit_server() {
  ++connection_id_;
  if (transport_) transport_->close();
  note_processes();
  host_.exit_server();
}

void Client::log_engine_events() {
  if (debug_)
    engine_.set_event_log([this](const std::string& line) { host_.debug_line(line); });
  else
    engine_.set_event_log(nullptr);
}

void Client::on_stop(const EngineStop& stop) {
  if (debug_)
    host_.debug_line("stop: tid " + std::to_string(stop.tid) + " kind " +
                     std::to_string(static_cast<int>(stop.kind)) + " signal " + std::to_string(stop.host_signal) +
                     " status " + std::to_string(stop.exit_code));
  bool unattended = unattended_.holds_any();
  if (stop.kind == EngineStop::Kind::Exited)
    host_.say("\nChild exited with status " + std::to_string(stop.exit_code));
  else if (stop.kind == EngineStop::Kind::Terminated)
    host_.say("\nChild terminated with signal = " + std::to_string(stop.host_signal) + " (" +
              sigabbrev_or_number(stop.host_signal) + ")");
  if (unattended && unattended_.on_stop(stop)) {
    note_processes();
    // Plain remote: ustub's work ends with the process, once no gdb is connected.
    if (stop.process_ended() && !session_ && !engine_.has_process() && !command_.multi) close_and_exit_server();
    return;
  }
  if (session_) {
    session_->on_engine_stop(stop);
    // The exit reply is out; the transport's next read completes with EOF
    // once gdb hangs up, or we close first.
    if (stop.process_ended()) after_session_step();
  } else if (stop.process_ended() && !engine_.has_process() && !command_.multi) {
    close_and_exit_server();
  }
}

// Ends this connection without ending the server (--multi). True: the
// session is gone, stop reading.
// Deferred: we may be inside the session's own call chain here.
bool Client::end_connection() {
  ++connection_id_;
  asio::post(io_, [this] { connection_lost(); });
  return true;
}

void Client::connection_lost() {
  ++connection_id_;
  if (transport_) transport_->close();
  transport_.reset();
  session_.reset();
  if (command_.once || !reconnectable_) {
    release_inferior();
    return close_and_exit_server();
  }
  if (!engine_.has_process() && !command_.multi) return close_and_exit_server();
  // gdbserver's behaviour: keep the process for the next gdb. It stays
  // stopped, so the next gdb finds it where this one left it.
  if (engine_.has_process() && engine_.running() && !unattended_.holds_any()) engine_.interrupt();
  note_processes();
  connected_ = false;
  host_.connection_ended(*this);
}

// Never leave a tracee behind: a process we started dies with us, one we
// attached to goes on running as before.
void Client::release_inferior() {
  // gdb detached from it: it runs on, even if ustub started it.
  release_unattended();
  for (pid_t pid : engine_.process_ids()) {
    if (engine_.launched(pid))
      engine_.kill(pid);
    else
      engine_.detach(pid);
  }
  note_processes();
}

}  // namespace ustub
