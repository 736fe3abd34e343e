#include "server/app.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <array>
#include <cstdio>
#include <cstring>
#include <memory>

#include "arch/arch.hpp"
#include "server/engine.hpp"
#include "server/launcher.hpp"
#include "server/linux_ptrace_ops.hpp"
#include "server/listener.hpp"
#include "server/session.hpp"
#include "server/signal_watch.hpp"
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
    if (c >= 0x20 && c < 0x7f) out.push_back(static_cast<char>(c));
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
  Server(const CommandLine& command) : command_(command), engine_(arch::native_arch(), ops_) {}

  int run() {
    bool stdio = std::holds_alternative<StdioEndpoint>(command_.endpoint);
    // gdb's terminal sends Ctrl-C to its whole process group, us included, when
    // we are its pipe; gdb forwards it as 0x03 itself, so we must not die of it.
    if (stdio) ::signal(SIGINT, SIG_IGN);
    ::signal(SIGPIPE, SIG_IGN);
    std::initializer_list<int> watched_with_int = {SIGCHLD, SIGTERM, SIGHUP, SIGINT};
    std::initializer_list<int> watched_without_int = {SIGCHLD, SIGTERM, SIGHUP};
    signals_ = std::make_unique<SignalWatch>(io_, stdio ? watched_without_int : watched_with_int,
                                             [this](int signo) { on_signal(signo); });

    if (!start_inferior(stdio)) return 1;
    engine_.set_stop_handler([this](const EngineStop& stop) { on_stop(stop); });

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
  bool start_inferior(bool stdio) {
    if (command_.attach_pid) {
      Attached attached = attach_process(*command_.attach_pid);
      if (!attached.error.empty()) {
        say("ustub: " + attached.error);
        return false;
      }
      EngineStop initial{EngineStop::Kind::Signal, *command_.attach_pid, SIGTRAP};
      engine_.adopt(*command_.attach_pid, attached.threads, false, initial);
      inferior_pid_ = *command_.attach_pid;
      say("Attached; pid = " + std::to_string(*command_.attach_pid));
      return true;
    }
    Launched launched = launch_program({command_.program, stdio});
    if (!launched.error.empty()) {
      say("ustub: " + launched.error);
      return false;
    }
    engine_.adopt(launched.pid, {launched.pid}, true, {EngineStop::Kind::Signal, launched.pid, SIGTRAP});
    inferior_pid_ = launched.pid;
    say("Process " + command_.program.front() + " created; pid = " + std::to_string(launched.pid));
    return true;
  }

  void open_endpoint() {
    std::visit(
        [this](const auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, TcpEndpoint>) {
            listener_ = listen_tcp(io_, e.host, e.port);
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
    session_ = std::make_unique<Session>(engine_, [this](std::string_view bytes) {
      if (command_.remote_debug) say("-> " + printable(bytes));
      if (transport_) transport_->write_all(bytes);
    });
    read_more();
  }

  void read_more() {
    transport_->async_read_some(asio::buffer(buffer_), [this](const std::error_code& ec, std::size_t n) {
      if (ec || n == 0) {
        connection_lost();
        return;
      }
      std::string_view bytes(buffer_.data(), n);
      if (command_.remote_debug) say("<- " + printable(bytes));
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
        say("Detaching from process " + std::to_string(inferior_pid_));
        if (!command_.attach_pid) detached_child_ = inferior_pid_;
        finish();
        return true;
      case Session::Outcome::Killed:
      case Session::Outcome::ProcessExited:
        finish();
        return true;
    }
    return false;
  }

  void on_stop(const EngineStop& stop) {
    if (stop.kind == EngineStop::Kind::Exited)
      say("\nChild exited with status " + std::to_string(stop.exit_code));
    else if (stop.kind == EngineStop::Kind::Terminated)
      say("\nChild terminated with signal = " + std::to_string(stop.host_signal) + " (" +
          sigabbrev_or_number(stop.host_signal) + ")");
    if (session_) {
      session_->on_engine_stop(stop);
      // The exit reply is out; the transport's next read completes with EOF
      // once gdb hangs up, or we close first.
      if (stop.kind != EngineStop::Kind::Signal) after_session_step();
    } else if (stop.kind != EngineStop::Kind::Signal) {
      finish();
    }
  }

  static std::string sigabbrev_or_number(int signo) {
    const char* abbrev = sigabbrev_np(signo);
    return abbrev ? std::string("SIG") + abbrev : std::to_string(signo);
  }

  void connection_lost() {
    if (transport_) transport_->close();
    transport_.reset();
    session_.reset();
    if (!engine_.has_process()) return finish();
    if (command_.once || !listener_) {
      release_inferior();
      return finish();
    }
    // gdbserver's behaviour: keep the process for the next gdb. It stays
    // stopped, so the next gdb finds it where this one left it.
    if (engine_.running()) engine_.interrupt();
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
    if (!engine_.has_process()) return;
    if (engine_.launched()) {
      engine_.kill();
    } else {
      engine_.detach();
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
  std::array<char, 65536> buffer_{};
  pid_t inferior_pid_ = 0;
  pid_t detached_child_ = 0;
  int exit_status_ = 0;
};

}  // namespace

int run_server(const CommandLine& command) {
  Server server(command);
  return server.run();
}

}  // namespace ustub
