#pragma once
// gdbserver's command line: ustub [OPTIONS] COMM PROG [ARGS…] | --attach COMM PID.
#include <sys/types.h>

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace ustub {

struct TcpEndpoint {
  std::string host;  // a bare ":PORT" means 127.0.0.1: we never listen on every interface unasked
  unsigned short port;
  int family = 0;    // 4 or 6 from a tcp4:/tcp6:/udp4:/udp6: prefix; 0: either
  std::string spec;  // as given, for messages
};
struct UnixEndpoint { std::string path; };
struct StdioEndpoint {};
struct SerialEndpoint { std::string path; };
using Endpoint = std::variant<TcpEndpoint, UnixEndpoint, StdioEndpoint, SerialEndpoint>;

// gdbserver's --disable-packet=: switches gdb's testsuite uses to test gdb
// against stubs that lack these packets.
struct DisabledPackets {
  bool vcont = false;
  bool t_thread = false;        // "thread:" in stop replies
  bool t_stop_reply = false;    // T stop replies at all: S instead
  bool qc = false;
  bool qf_thread_info = false;
  // ConditionalBreakpoints, as gdbserver has it; --no-target-conditions
  // leaves every condition to gdb.
  bool conditional_breakpoints = false;
};

struct CommandLine {
  Endpoint endpoint;
  bool once = false;
  bool multi = false;          // extended-remote server: may start with no process, stays up
  bool remote_debug = false;   // every packet, both ways
  bool debug = false;          // engine events
  std::string debug_file;      // where debug output goes (empty: stderr)
  bool startup_with_shell = true;       // gdbserver's default: $SHELL -c "exec PROG ARGS"
  bool disable_randomization = true;    // gdbserver's default too
  std::vector<std::string> wrapper;     // --wrapper WRAPPER… --: runs PROG through it
  DisabledPackets disabled;
  // How long ustub looks for the next event itself, without sleeping, after
  // each packet (0: never; gdbserver always sleeps).
  unsigned busy_poll_us = 200;
  std::optional<pid_t> attach_pid;
  std::vector<std::string> program;  // argv of the program to launch (may be empty with --multi)
};

struct CliResult {
  std::optional<CommandLine> command;
  std::string error;     // one line, without the "ustub: " prefix
  bool help = false;     // --help: print usage, exit 0
  bool version = false;  // --version
  bool selftest = false; // --selftest: ustub has none built in (its unit tests are build/unit-tests)
};

CliResult parse_command_line(const std::vector<std::string>& args);
std::optional<Endpoint> parse_endpoint(const std::string& comm, std::string& error);
std::string usage();

}  // namespace ustub
