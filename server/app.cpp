#include "server/app.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "arch/arch.hpp"
#include "server/client.hpp"
#include "server/launcher.hpp"
#include "server/listener.hpp"
#include "server/signal_watch.hpp"
#include "server/transport.hpp"

namespace ustub {

namespace {

void say_line(const std::string& line) {
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

std::string sigabbrev_or_number(int signo) {
  const char* abbrev = sigabbrev_np(signo);
  return abbrev ? std::string("SIG") + abbrev : std::to_string(signo);
}

// The listener, the signals, and the clients. One client per gdb connection
// at a time; with --multi, as many at once as gdbs connect, each with its own
// processes on its own thread.
class Server final : public ClientHost {
 public:
  explicit Server(const CommandLine& command) : command_(command) {}

  ~Server() override {
    clients_.clear();
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
    bool stdio = std::holds_alternative<StdioEndpoint>(command_.endpoint);
    // gdb's terminal sends Ctrl-C to its whole process group, us included, when
    // we are its pipe; gdb forwards it as 0x03 itself, so we must not die of it.
    if (stdio) ::signal(SIGINT, SIG_IGN);
    ::signal(SIGPIPE, SIG_IGN);
    // Blocked here, before any client thread exists, so that every thread
    // inherits the mask and the signals arrive only through the watch.
    std::initializer_list<int> watched_with_int = {SIGTERM, SIGHUP, SIGINT};
    std::initializer_list<int> watched_without_int = {SIGTERM, SIGHUP};
    signals_ = std::make_unique<SignalWatch>(io_, stdio ? watched_without_int : watched_with_int,
                                             [this](int signo) { on_signal(signo); });

    // Refused before anything starts: a bad endpoint changes nothing.
    if (auto* unix_endpoint = std::get_if<UnixEndpoint>(&command_.endpoint)) {
      if (std::string problem = socket_directory_problem(unix_endpoint->path); !problem.empty()) {
        say(problem);
        return 1;
      }
    }
    bool reconnectable = std::holds_alternative<TcpEndpoint>(command_.endpoint) ||
                         std::holds_alternative<UnixEndpoint>(command_.endpoint);
    // The first client traces from this, the main thread (TracerPid = our
    // pid, as with gdbserver), and reads SIGCHLD itself; the listener and the
    // other signals move to another.
    Client& first = add_client(reconnectable, true);
    first.take_child_signals([this, &first] {
      if (clients_count_ > 1)
        asio::post(io_, [this, &first] {
          for (auto& c : clients_)
            if (c.get() != &first) c->child_changed();
        });
    });
    if (std::string why = first.start_inferior(); !why.empty()) {
      say(is_startup_exit_report(why) ? why : "ustub: " + why);
      say("Exiting");  // gdbserver's last words after a failed start
      return 1;
    }

    try {
      open_endpoint(first);
    } catch (const ListenError& e) {
      say(e.what());
      shut_down_clients();
      return 1;
    } catch (const std::system_error& e) {
      say(std::string("ustub: cannot open ") + e.what());
      shut_down_clients();
      return 1;
    }
    std::thread server_thread([this, &first] {
      io_.run();
      first.end_run_here();
    });
    first.run_here();
    server_thread.join();
    shut_down_clients();
    for (const auto& client : detached_children_) reap_detached_child(client);
    return exit_status_;
  }

  // ClientHost: called on client threads; the work is done on ours.
  void connection_ended(Client& client) override {
    asio::post(io_, [this, &client] { after_connection(client); });
  }
  void exit_server() override {
    asio::post(io_, [this] { finish(); });
  }
  void say(const std::string& line) override { say_line(line); }
  void debug_line(const std::string& line) override {
    std::FILE* out = debug_out_ ? debug_out_ : stderr;
    std::fprintf(out, "%s\n", line.c_str());
    std::fflush(out);
  }

 private:
  Client& add_client(bool reconnectable, bool on_this_thread = false) {
    clients_.push_back(std::make_unique<Client>(command_, *this, reconnectable, on_this_thread));
    clients_count_ = clients_.size();
    return *clients_.back();
  }

  void open_endpoint(Client& first) {
    std::visit(
        [this, &first](const auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, TcpEndpoint>) {
            listener_ = listen_tcp(io_, e);
          } else if constexpr (std::is_same_v<T, UnixEndpoint>) {
            listener_ = listen_unix(io_, e.path);
          } else if constexpr (std::is_same_v<T, StdioEndpoint>) {
            say("Remote debugging using stdio");
            first.serve(make_stdio_transport(first.io()));
          } else {
            first.serve(make_serial_transport(first.io(), e.path));
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
    listener_->async_accept([this](std::unique_ptr<Accepted> connection, std::string peer) {
      if (!connection) return;  // the listener was closed
      say("Remote debugging from " + peer);
      if (command_.once) listener_->close();
      Client& client = free_client();
      try {
        client.serve(connection->open(client.io()));
      } catch (const std::system_error& e) {
        say(std::string("ustub: gdb connection: ") + e.what() + "; dropping it");
      }
      // gdbserver serves one gdb at a time; --multi serves each that comes.
      if (command_.multi && !command_.once) accept();
    });
  }

  // A client with no connection: the one whose processes wait for the next
  // gdb (gdbserver's behaviour), else any idle one, else a new one.
  Client& free_client() {
    for (auto& c : clients_)
      if (!c->connected() && c->has_processes()) return *c;
    for (auto& c : clients_)
      if (!c->connected()) return *c;
    return add_client(true);
  }

  void after_connection(Client& client) {
    if (!command_.multi && !client.has_processes()) return finish();
    say("Remote side has terminated connection.  ustub will reopen the connection.");
    // A spare client with nothing to keep ends with its connection; the first stays.
    if (command_.multi && !client.has_processes() && &client != clients_.front().get()) {
      client.shut_down();
      std::erase_if(clients_, [&client](const auto& c) { return c.get() == &client; });
      clients_count_ = clients_.size();
    }
    if (!listener_) return;
    say(listener_->listening_message());
    if (!command_.multi) accept();
  }

  void on_signal(int signo) {
    say("ustub: got " + sigabbrev_or_number(signo) + ", exiting");
    exit_status_ = 128 + signo;
    finish();
  }

  // A program we started and then let go is still our child: wait for it, as
  // gdbserver does, so it does not end as a zombie where nothing reaps orphans.
  // Signals are unblocked first so that ustub stays killable meanwhile.
  void reap_detached_child(pid_t child) {
    signals_.reset();
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, nullptr);
    int status;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
  }

  // Never leave a tracee behind: each client kills what it started and
  // detaches from what it attached to, on its own thread.
  void shut_down_clients() {
    for (auto& c : clients_) {
      c->shut_down();
      if (c->detached_child()) detached_children_.push_back(c->detached_child());
    }
  }

  void finish() {
    if (listener_) listener_->close();
    io_.stop();
  }

  const CommandLine& command_;
  asio::io_context io_;
  std::unique_ptr<SignalWatch> signals_;
  std::unique_ptr<Listener> listener_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::atomic<std::size_t> clients_count_ = 0;  // read on the first client's thread
  std::vector<pid_t> detached_children_;
  std::FILE* debug_out_ = nullptr;
  int exit_status_ = 0;
};

}  // namespace

int run_server(const CommandLine& command) {
  Server server(command);
  return server.run();
}

}  // namespace ustub
