#include "server/cli.hpp"

#include <charconv>

namespace ustub {

std::string usage() {
  return "Usage:\tustub [OPTIONS] COMM PROG [ARGS ...]\n"
         "\tustub [OPTIONS] --attach COMM PID\n"
         "\n"
         "COMM may be\n"
         "  [HOST]:PORT     listen on a TCP port (a bare :PORT listens on 127.0.0.1 only;\n"
         "                  0.0.0.0:PORT listens on every interface, as gdbserver does)\n"
         "  unix:PATH       listen on a Unix socket, created mode 0600\n"
         "  - or stdio      talk over stdin/stdout (target remote | ustub - PROG)\n"
         "  /dev/DEVICE     a serial line or tty, in raw mode\n"
         "\n"
         "       ustub [OPTIONS] --multi COMM [PROG [ARGS ...]]\n"
         "\n"
         "Options:\n"
         "  --attach        attach to the running process PID\n"
         "  --multi         serve target extended-remote: start with no process, run and\n"
         "                  attach on gdb's request, stay up until 'monitor exit'\n"
         "  --once          exit after the first connection closes\n"
         "  --wrapper WRAPPER... --\n"
         "                  start programs through WRAPPER (e.g. --wrapper env A=1 --)\n"
         "  --no-startup-with-shell  exec PROG directly instead of through $SHELL -c\n"
         "  --no-disable-randomization  keep address space randomization on\n"
         "  --no-target-conditions  leave every breakpoint condition to gdb (by default a\n"
         "                  false one is judged here, with no round trip: ConditionalBreakpoints),\n"
         "                  and agent-style dprintf too (BreakpointCommands)\n"
         "  --busy-poll=USEC  after each packet, look for the step's end or gdb's next\n"
         "                  packet without sleeping for up to USEC microseconds\n"
         "                  (default 200; 0 sleeps at once, as gdbserver does)\n"
         "  --remote-debug  print every packet\n"
         "  --debug         print engine events\n"
         "  --debug-file=FILE  write debug output to FILE instead of stderr\n"
         "  --disable-packet=OPT1[,OPT2,...]  as gdbserver, to test gdb against a lesser stub:\n"
         "                  vCont, T, Tthread, qC, qfThreadInfo, threads\n"
         "  --version, --help\n";
}

std::optional<Endpoint> parse_endpoint(const std::string& comm, std::string& error) {
  if (comm == "-" || comm == "stdio") return StdioEndpoint{};
  if (comm.rfind("unix:", 0) == 0) {
    std::string path = comm.substr(5);
    if (path.empty()) {
      error = "unix: needs a socket path, as in unix:/run/user/1000/ustub.sock";
      return std::nullopt;
    }
    return UnixEndpoint{path};
  }
  std::string spec = comm;
  // gdb's connection prefixes, as gdbserver takes them: the family counts, and
  // ustub listens on TCP whatever the prefix says (so does gdbserver).
  int family = 0;
  for (auto [prefix, f] : {std::pair{"tcp:", 0}, {"udp:", 0}, {"tcp4:", 4}, {"udp4:", 4}, {"tcp6:", 6}, {"udp6:", 6}}) {
    if (spec.rfind(prefix, 0) == 0) {
      spec = spec.substr(std::string_view(prefix).size());
      family = f;
      break;
    }
  }
  auto colon = spec.rfind(':');
  if (colon != std::string::npos) {
    std::string host = spec.substr(0, colon);
    std::string port_text = spec.substr(colon + 1);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
      error = "bad port in '" + comm + "': expected HOST:PORT with PORT from 0 to 65535";
      return std::nullopt;
    }
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) host = "127.0.0.1";
    return TcpEndpoint{host, static_cast<unsigned short>(port), family, comm};
  }
  if (comm.empty()) {
    error = "missing COMM";
    return std::nullopt;
  }
  return SerialEndpoint{comm};
}

CliResult parse_command_line(const std::vector<std::string>& args) {
  CliResult result;
  CommandLine cl;
  bool attach = false;
  std::size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() < 2 || a.rfind("--", 0) != 0) break;
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "--attach") attach = true;
    else if (a == "--once") cl.once = true;
    else if (a == "--multi") cl.multi = true;
    else if (a == "--remote-debug") cl.remote_debug = true;
    else if (a == "--debug") cl.debug = true;
    else if (a.rfind("--debug-file=", 0) == 0) {
      cl.debug_file = a.substr(13);
      if (cl.debug_file.empty()) {
        result.error = "--debug-file= needs a file name";
        return result;
      }
    }
    else if (a == "--startup-with-shell") cl.startup_with_shell = true;
    else if (a == "--no-startup-with-shell") cl.startup_with_shell = false;
    else if (a == "--disable-randomization") cl.disable_randomization = true;
    else if (a == "--no-disable-randomization") cl.disable_randomization = false;
    else if (a == "--target-conditions") cl.disabled.conditional_breakpoints = false;
    else if (a == "--no-target-conditions") cl.disabled.conditional_breakpoints = true;
    else if (a.rfind("--busy-poll=", 0) == 0) {
      std::string text = a.substr(12);
      unsigned us = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), us);
      if (text.empty() || ec != std::errc() || end != text.data() + text.size() || us > 1000000) {
        result.error = "--busy-poll= needs microseconds from 0 to 1000000, as in --busy-poll=200";
        return result;
      }
      cl.busy_poll_us = us;
    }
    else if (a.rfind("--disable-packet=", 0) == 0) {
      std::string list = a.substr(17);
      std::size_t start = 0;
      while (start <= list.size()) {
        std::size_t comma = list.find(',', start);
        std::string name = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        auto& d = cl.disabled;
        if (name == "vCont") d.vcont = true;
        else if (name == "Tthread") d.t_thread = true;
        else if (name == "T") d.t_stop_reply = true;
        else if (name == "qC") d.qc = true;
        else if (name == "qfThreadInfo") d.qf_thread_info = true;
        else if (name == "threads") d.vcont = d.t_thread = d.qc = d.qf_thread_info = true;
        else {
          result.error = "--disable-packet: don't know how to disable \"" + name +
                         "\" (vCont, T, Tthread, qC, qfThreadInfo, threads)";
          return result;
        }
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
    else if (a == "--wrapper") {
      std::size_t end = i + 1;
      while (end < args.size() && args[end] != "--") ++end;
      if (end == i + 1 || end == args.size()) {
        result.error = "--wrapper needs a program and a closing --, as in --wrapper env A=1 --";
        return result;
      }
      cl.wrapper.assign(args.begin() + static_cast<std::ptrdiff_t>(i + 1), args.begin() + static_cast<std::ptrdiff_t>(end));
      i = end;
    }
    else if (a == "--help") { result.help = true; return result; }
    else if (a == "--version") { result.version = true; return result; }
    else if (a == "--selftest") { result.selftest = true; return result; }
    else {
      result.error = "unknown option " + a + " (see ustub --help)";
      return result;
    }
  }
  if (i >= args.size()) {
    result.error = "missing COMM (try ustub :2345 ./prog, or ustub --help)";
    return result;
  }
  std::string endpoint_error;
  auto endpoint = parse_endpoint(args[i], endpoint_error);
  if (!endpoint) {
    result.error = endpoint_error;
    return result;
  }
  cl.endpoint = *endpoint;
  ++i;
  // "COMM --attach PID": where --attach used to go; gdbserver still takes it
  // there, and gdb's testsuite (attach-flag.exp) writes it so.
  if (!attach && i < args.size() && args[i] == "--attach") {
    attach = true;
    ++i;
  }
  if (attach && cl.multi) {
    result.error = "--attach and --multi do not go together: attach from gdb with 'attach PID'";
    return result;
  }
  if (attach) {
    if (i + 1 != args.size()) {
      result.error = i >= args.size() ? "--attach needs a PID" : "--attach takes exactly one PID";
      return result;
    }
    const std::string& text = args[i];
    long pid = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
    if (ec != std::errc() || end != text.data() + text.size() || pid <= 0 || pid > 0x3fffffff) {
      result.error = "bad PID '" + text + "'";
      return result;
    }
    cl.attach_pid = static_cast<pid_t>(pid);
  } else {
    if (i >= args.size() && !cl.multi) {
      result.error = "missing PROG: name a program to run, use --attach PID, or --multi";
      return result;
    }
    cl.program.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  }
  result.command = std::move(cl);
  return result;
}

}  // namespace ustub
