#include <doctest/doctest.h>

#include <sys/stat.h>

#include "server/cli.hpp"
#include "server/listener.hpp"

using namespace ustub;

TEST_CASE("a bare :PORT listens on loopback only") {
  auto r = parse_command_line({":2345", "./prog", "a", "b"});
  REQUIRE(r.command);
  auto tcp = std::get<TcpEndpoint>(r.command->endpoint);
  CHECK(tcp.host == "127.0.0.1");
  CHECK(tcp.port == 2345);
  CHECK(r.command->program == std::vector<std::string>{"./prog", "a", "b"});
}

TEST_CASE("HOST:PORT, unix:, stdio and device paths") {
  CHECK(std::get<TcpEndpoint>(parse_command_line({"0.0.0.0:1", "p"}).command->endpoint).host == "0.0.0.0");
  CHECK(std::get<TcpEndpoint>(parse_command_line({"tcp:localhost:9", "p"}).command->endpoint).host == "localhost");
  CHECK(std::get<UnixEndpoint>(parse_command_line({"unix:/tmp/s", "p"}).command->endpoint).path == "/tmp/s");
  CHECK(std::holds_alternative<StdioEndpoint>(parse_command_line({"-", "p"}).command->endpoint));
  CHECK(std::holds_alternative<StdioEndpoint>(parse_command_line({"stdio", "p"}).command->endpoint));
  CHECK(std::get<SerialEndpoint>(parse_command_line({"/dev/hvc1", "p"}).command->endpoint).path == "/dev/hvc1");
}

TEST_CASE("--attach and --once") {
  auto r = parse_command_line({"--once", "--attach", ":2345", "1234"});
  REQUIRE(r.command);
  CHECK(r.command->once);
  CHECK(r.command->attach_pid == 1234);
  CHECK(r.command->program.empty());
}

TEST_CASE("--attach after COMM, where gdbserver still takes it") {
  auto r = parse_command_line({"--once", "localhost:2348", "--attach", "26412"});
  REQUIRE(r.command);
  CHECK(r.command->attach_pid == 26412);
  CHECK(parse_command_line({":1", "--attach"}).error.find("needs a PID") != std::string::npos);
}

TEST_CASE("bad command lines say what is wrong") {
  CHECK(parse_command_line({}).error.find("missing COMM") != std::string::npos);
  CHECK(parse_command_line({":2345"}).error.find("missing PROG") != std::string::npos);
  CHECK(parse_command_line({":99999", "p"}).error.find("bad port") != std::string::npos);
  CHECK(parse_command_line({":x", "p"}).error.find("bad port") != std::string::npos);
  CHECK(parse_command_line({"--attach", ":1", "12x"}).error.find("bad PID") != std::string::npos);
  CHECK(parse_command_line({"--attach", ":1"}).error.find("needs a PID") != std::string::npos);
  CHECK(parse_command_line({"--bogus", ":1", "p"}).error.find("unknown option --bogus") != std::string::npos);
  CHECK(parse_command_line({"unix:", "p"}).error.find("socket path") != std::string::npos);
}

TEST_CASE("--multi needs no program; --attach does not go with it") {
  auto r = parse_command_line({"--once", "--multi", "localhost:2346"});
  REQUIRE(r.command);
  CHECK(r.command->multi);
  CHECK(r.command->once);
  CHECK(r.command->program.empty());
  CHECK(std::get<TcpEndpoint>(r.command->endpoint).host == "localhost");
  CHECK(parse_command_line({"--multi", ":1", "./p", "x"}).command->program == std::vector<std::string>{"./p", "x"});
  CHECK(parse_command_line({"--multi", "--attach", ":1", "12"}).error.find("do not go together") != std::string::npos);
}

TEST_CASE("gdbserver's debug and start-up options") {
  auto r = parse_command_line({"--debug", "--remote-debug", "--debug-file=/tmp/d.log", "--no-startup-with-shell",
                               "--no-disable-randomization", ":1", "p"});
  REQUIRE(r.command);
  CHECK(r.command->debug);
  CHECK(r.command->remote_debug);
  CHECK(r.command->debug_file == "/tmp/d.log");
  CHECK_FALSE(r.command->startup_with_shell);
  CHECK_FALSE(r.command->disable_randomization);
  auto defaults = parse_command_line({":1", "p"});
  CHECK(defaults.command->startup_with_shell);       // as gdbserver
  CHECK(defaults.command->disable_randomization);    // as gdbserver
  CHECK(parse_command_line({"--debug-file=", ":1", "p"}).error.find("needs a file name") != std::string::npos);
}

TEST_CASE("--wrapper takes everything up to --") {
  auto r = parse_command_line({"--wrapper", "env", "A=1", "--", "--once", ":1", "p"});
  REQUIRE(r.command);
  CHECK(r.command->wrapper == std::vector<std::string>{"env", "A=1"});
  CHECK(r.command->once);
  CHECK(r.command->program == std::vector<std::string>{"p"});
  CHECK(parse_command_line({"--wrapper", "env", ":1", "p"}).error.find("closing --") != std::string::npos);
  CHECK(parse_command_line({"--wrapper", "--", ":1", "p"}).error.find("closing --") != std::string::npos);
}

TEST_CASE("--disable-packet= takes gdbserver's names") {
  auto r = parse_command_line({"--disable-packet=T,qC", ":1", "p"});
  REQUIRE(r.command);
  CHECK(r.command->disabled.t_stop_reply);
  CHECK(r.command->disabled.qc);
  CHECK_FALSE(r.command->disabled.vcont);
  auto all = parse_command_line({"--disable-packet=threads", ":1", "p"}).command->disabled;
  CHECK((all.vcont && all.t_thread && all.qc && all.qf_thread_info && !all.t_stop_reply));
  CHECK(parse_command_line({"--disable-packet=Z0", ":1", "p"}).error.find("don't know how to disable \"Z0\"") !=
        std::string::npos);
}

TEST_CASE("gdb's connection prefixes: the family counts, the transport stays TCP") {
  auto v6 = std::get<TcpEndpoint>(parse_command_line({"tcp6:[::1]:2345", "p"}).command->endpoint);
  CHECK(v6.host == "::1");
  CHECK(v6.family == 6);
  CHECK(v6.spec == "tcp6:[::1]:2345");
  auto bare6 = std::get<TcpEndpoint>(parse_command_line({"tcp6:::1:2345", "p"}).command->endpoint);
  CHECK(bare6.host == "::1");
  CHECK(bare6.port == 2345);
  auto v4 = std::get<TcpEndpoint>(parse_command_line({"udp4:127.0.0.1:9", "p"}).command->endpoint);
  CHECK(v4.host == "127.0.0.1");
  CHECK(v4.family == 4);
  // An unknown prefix is part of the host name, which then does not resolve (as in gdbserver).
  CHECK(std::get<TcpEndpoint>(parse_command_line({"tcp8:123:9", "p"}).command->endpoint).host == "tcp8:123");
}

TEST_CASE("a Unix socket is refused in a directory others can write or that belongs to someone else") {
  constexpr uid_t me = 1001;
  CHECK(ustub::unsafe_socket_directory(S_IFDIR | 0700, me, me).empty());
  CHECK(ustub::unsafe_socket_directory(S_IFDIR | 0755, me, me).empty());
  CHECK(ustub::unsafe_socket_directory(S_IFDIR | 0755, 0, me).empty());  // root's, and only root writes it
  CHECK(ustub::unsafe_socket_directory(S_IFDIR | 01777, 0, me) == "other users can write");  // /tmp
  CHECK(ustub::unsafe_socket_directory(S_IFDIR | 0775, me, me) == "its group can write");
  CHECK(ustub::unsafe_socket_directory(S_IFDIR | 0700, 1002, me) == "belongs to uid 1002");
}

TEST_CASE("--busy-poll= takes microseconds: 200 unless told, 0 sleeps at once as gdbserver does") {
  CHECK(parse_command_line({":1", "p"}).command->busy_poll_us == 200);
  CHECK(parse_command_line({"--busy-poll=0", ":1", "p"}).command->busy_poll_us == 0);
  CHECK(parse_command_line({"--busy-poll=1000", ":1", "p"}).command->busy_poll_us == 1000);
  for (const char* bad : {"--busy-poll=", "--busy-poll=-1", "--busy-poll=2ms", "--busy-poll=1000001"})
    CHECK(parse_command_line({bad, ":1", "p"}).error.find("--busy-poll= needs microseconds") != std::string::npos);
}

TEST_CASE("breakpoint conditions are evaluated in ustub unless --no-target-conditions") {
  CHECK_FALSE(parse_command_line({":1", "p"}).command->disabled.conditional_breakpoints);
  CHECK_FALSE(parse_command_line({"--target-conditions", ":1", "p"}).command->disabled.conditional_breakpoints);
  CHECK(parse_command_line({"--no-target-conditions", ":1", "p"}).command->disabled.conditional_breakpoints);
}
