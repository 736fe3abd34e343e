#include "server/app.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "arch/arch.hpp"
#include "server/engine.hpp"
#include "server/inferior_settings.hpp"
#include "server/launcher.hpp"
#include "server/linux_ptrace_ops.hpp"
#include "server/listener.hpp"
#include "server/session.hpp"
#include "server/signal_watch.hpp"
#include "server/terminal.hpp"
#include "server/transport.hpp"

namespace ustub {

namespace {

void say(const std::string& line) {
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

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

class Server {
 public:
  Server(const CommandLine& command)
      : command_(command),
        engine_(arch::native_arch(), ops_),
        remote_debug_(command.remote_debug),
        debug_(command.debug) {}

  ~Server() {
    if (debug_out_ && debug_out_ != stderr) std::fclose(debug_out_);
  }

  int run() {
    if (!command_.debug_file.empty()) {
      debug_out_ = std::fopen(command_.debug_file.c_str(), "a");
      if (!debug_out_) {
        say("ustub: cannot open debug file " + command_.debug_file + ": " + std::strerror(errno));
        return 1;
      }
    }
    stdio_ = std::holds_alternative<StdioEndpoint>(command_.endpoint);
    bool stdio = stdio_;
    // gdb's terminal sends Ctrl-C to its whole process group, us included, when
    // we are its pipe; gdb forwards it as 0x03 itself, so we must not die of it.
    if (stdio) ::signal(SIGINT, SIG_IGN);
    ::signal(SIGPIPE, SIG_IGN);
    std::initializer_list<int> watched_with_int = {SIGCHLD, SIGTERM, SIGHUP, SIGINT};
    std::initializer_list<int> watched_without_int = {SIGCHLD, SIGTERM, SIGHUP};
    signals_ = std::make_unique<SignalWatch>(io_, stdio ? watched_without_int : watched_with_int,
                                             [this](int signo) { on_signal(signo); });

    // Refused before anything starts: a bad endpoint changes nothing.
    if (auto* unix_endpoint = std::get_if<UnixEndpoint>(&command_.endpoint)) {
      if (std::string problem = socket_directory_problem(unix_endpoint->path); !problem.empty()) {
        say(problem);
        return 1;
      }
    }
    if (!start_inferior()) return 1;
    engine_.set_stop_handler([this](const EngineStop& stop) { on_stop(stop); });
    log_engine_events();

    try {
      open_endpoint();
    } catch (const ListenError& e) {
      say(e.what());
      release_inferior();
      return 1;
    } catch (const std::system_error& e) {
      say(std::string("ustub: cannot open ") + e.what());
      release_inferior();
      return 1;
    }
    try {
      io_.run();
    } catch (const std::exception& e) {
      // A bug of ours must still not leave a tracee behind.
      say(std::string("ustub: internal error: ") + e.what());
      exit_status_ = 1;
    }
    release_inferior();
    if (detached_child_) reap_detached_child();
    return exit_status_;
  }

 private:
  // The process named on the command line, if any. With --multi there may be
  // none: gdb asks for one with vRun or vAttach.
  bool start_inferior() {
    std::string why;
    if (command_.attach_pid) why = attach(*command_.attach_pid);
    else if (!command_.program.empty()) why = launch(command_.program);
    else return true;
    if (why.empty()) return true;
    say("ustub: " + why);
    return false;
  }

  std::string launch(std::vector<std::string> argv, const InferiorSettings& settings = {}) {
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
    Launched launched = launch_program(options);
    if (!launched.error.empty()) return launched.error;
    // Another process is held only when gdb runs a second inferior (the session decides).
    engine_.add_inferior(launched.pid, {launched.pid}, true, {EngineStop::Kind::Signal, launched.pid, SIGTRAP});
    inferior_pid_ = launched.pid;
    last_program_ = argv;
    if (!stdio_) terminal_.give_to(launched.pid);
    say("Process " + argv.front() + " created; pid = " + std::to_string(launched.pid));
    return "";
  }

  std::string attach(pid_t pid) {
    Attached attached = attach_process(pid);
    if (!attached.error.empty()) return attached.error;
    EngineStop initial{EngineStop::Kind::Signal, pid, SIGTRAP};
    if (auto it = attached.pending_signals.find(pid); it != attached.pending_signals.end())
      initial.host_signal = it->second;  // gdb says "received signal …" and passes it on
    engine_.add_inferior(pid, attached.threads, false, initial);
    for (auto [tid, signal] : attached.pending_signals)
      if (tid != pid) engine_.keep_signal_stop(tid, signal);
    inferior_pid_ = pid;
    say("Attached; pid = " + std::to_string(pid));
    return "";
  }

  void debug_line(const std::string& line) {
    std::FILE* out = debug_out_ ? debug_out_ : stderr;
    std::fprintf(out, "%s\n", line.c_str());
    std::fflush(out);
  }

  void open_endpoint() {
    std::visit(
        [this](const auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, TcpEndpoint>) {
            listener_ = listen_tcp(io_, e);
          } else if constexpr (std::is_same_v<T, UnixEndpoint>) {
            listener_ = listen_unix(io_, e.path);
          } else if constexpr (std::is_same_v<T, StdioEndpoint>) {
            say("Remote debugging using stdio");
            begin_session(make_stdio_transport(io_));
          } else {
            begin_session(make_serial_transport(io_, e.path));
            say("Remote debugging using " + e.path);
          }
        },
        command_.endpoint);
    if (listener_) {
      if (auto warning = listener_->exposure_warning(); !warning.empty()) say(warning);
      say(listener_->listening_message());
      accept();
    }
  }

  void accept() {
    listener_->async_accept([this](std::unique_ptr<Transport> transport, std::string peer) {
      if (!transport) return;  // the listener was closed
      say("Remote debugging from " + peer);
      if (command_.once) listener_->close();
      begin_session(std::move(transport));
    });
  }

  void begin_session(std::unique_ptr<Transport> transport) {
    transport_ = std::move(transport);
    ++connection_id_;
    SessionHooks hooks;
    hooks.run = [this](const std::vector<std::string>& argv, const InferiorSettings& settings) {
      // gdb shows only that the run failed: the why is on ustub's console, as gdbserver's is.
      std::string why = launch(argv, settings);
      if (!why.empty()) say("ustub: " + why);
      return why;
    };
    hooks.attach = [this](pid_t pid) { return attach(pid); };
    hooks.detached = [this](pid_t pid, bool launched) {
      say("Detaching from process " + std::to_string(pid));
      last_detached_launched_ = launched ? pid : 0;
    };
    hooks.set_debug = [this](bool remote, bool on) {
      (remote ? remote_debug_ : debug_) = on;
      log_engine_events();
    };
    session_ = std::make_unique<Session>(
        engine_,
        [this](std::string_view bytes) {
          if (remote_debug_) debug_line("-> " + printable(bytes));
          if (transport_) transport_->send(bytes);
        },
        std::move(hooks), command_.disabled);
    transport_->on_write_failure([this](const std::string& why) {
      say("ustub: gdb connection: " + why + "; dropping it");
      end_connection();
    });
    read_more();
  }

  void read_more() {
    unsigned connection = connection_id_;
    transport_->async_read_some(asio::buffer(buffer_), [this, connection](const std::error_code& ec, std::size_t n) {
      if (connection != connection_id_) return;  // a read of a connection already ended
      if (ec || n == 0) {
        connection_lost();
        return;
      }
      std::string_view bytes(buffer_.data(), n);
      if (remote_debug_) debug_line("<- " + printable(bytes));
      session_->on_bytes(bytes);
      if (!after_session_step()) read_more();
    });
  }

  // Acts on how the session stands; true when the connection is finished.
  bool after_session_step() {
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
        finish();
        return true;
      case Session::Outcome::ExitRequested:
        release_inferior();
        finish();
        return true;
    }
    return false;
  }

  void log_engine_events() {
    if (debug_)
      engine_.set_event_log([this](const std::string& line) { debug_line(line); });
    else
      engine_.set_event_log(nullptr);
  }

  void on_stop(const EngineStop& stop) {
    if (debug_)
      debug_line("stop: tid " + std::to_string(stop.tid) + " kind " + std::to_string(static_cast<int>(stop.kind)) +
                 " signal " + std::to_string(stop.host_signal) + " status " + std::to_string(stop.exit_code));
    if (stop.kind == EngineStop::Kind::Exited)
      say("\nChild exited with status " + std::to_string(stop.exit_code));
    else if (stop.kind == EngineStop::Kind::Terminated)
      say("\nChild terminated with signal = " + std::to_string(stop.host_signal) + " (" +
          sigabbrev_or_number(stop.host_signal) + ")");
    if (session_) {
      session_->on_engine_stop(stop);
      // The exit reply is out; the transport's next read completes with EOF
      // once gdb hangs up, or we close first.
      if (stop.process_ended()) after_session_step();
    } else if (stop.process_ended() && !engine_.has_process() && !command_.multi) {
      finish();
    }
  }

  static std::string sigabbrev_or_number(int signo) {
    const char* abbrev = sigabbrev_np(signo);
    return abbrev ? std::string("SIG") + abbrev : std::to_string(signo);
  }

  // Ends this connection without ending the server (--multi). True: the
  // session is gone, stop reading.
  // Deferred: we may be inside the session's own call chain here.
  bool end_connection() {
    ++connection_id_;
    asio::post(io_, [this] { connection_lost(); });
    return true;
  }

  void connection_lost() {
    ++connection_id_;
    if (transport_) transport_->close();
    transport_.reset();
    session_.reset();
    if (command_.once || !listener_) {
      release_inferior();
      return finish();
    }
    if (!engine_.has_process() && !command_.multi) return finish();
    // gdbserver's behaviour: keep the process for the next gdb. It stays
    // stopped, so the next gdb finds it where this one left it.
    if (engine_.has_process() && engine_.running()) engine_.interrupt();
    say("Remote side has terminated connection.  ustub will reopen the connection.");
    say(listener_->listening_message());
    accept();
  }

  void on_signal(int signo) {
    if (signo == SIGCHLD) {
      engine_.drain_events();
      return;
    }
    say("ustub: got " + sigabbrev_or_number(signo) + ", exiting");
    release_inferior();
    exit_status_ = 128 + signo;
    finish();
  }

  // A program we started and then let go is still our child: wait for it, as
  // gdbserver does, so it does not end as a zombie where nothing reaps orphans.
  // Signals are unblocked first so that ustub stays killable meanwhile.
  void reap_detached_child() {
    signals_.reset();
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, nullptr);
    int status;
    while (::waitpid(detached_child_, &status, 0) < 0 && errno == EINTR) {
    }
  }

  // Never leave a tracee behind: a process we started dies with us, one we
  // attached to goes on running as before.
  void release_inferior() {
    for (pid_t pid : engine_.process_ids()) {
      if (engine_.launched(pid))
        engine_.kill(pid);
      else
        engine_.detach(pid);
    }
  }

  void finish() {
    if (transport_) transport_->close();
    if (listener_) listener_->close();
    io_.stop();
  }

  const CommandLine& command_;
  asio::io_context io_;
  LinuxPtraceOps ops_;
  Engine engine_;
  std::unique_ptr<SignalWatch> signals_;
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<Session> session_;
  TerminalHandover terminal_;
  std::vector<std::string> last_program_;
  std::FILE* debug_out_ = nullptr;
  bool stdio_ = false;
  bool remote_debug_ = false;
  bool debug_ = false;
  std::array<char, 65536> buffer_{};
  pid_t inferior_pid_ = 0;
  pid_t detached_child_ = 0;
  pid_t last_detached_launched_ = 0;
  unsigned connection_id_ = 0;
  int exit_status_ = 0;
};

}  // namespace

int run_server(const CommandLine& command) {
  Server server(command);
  return server.run();
}

}  // namespace ustub
