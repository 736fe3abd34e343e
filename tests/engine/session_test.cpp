#include <algorithm>
#include <doctest/doctest.h>

#include <utility>

#include "arch/arch.hpp"
#include "rsp/framing.hpp"
#include "rsp/hex.hpp"
#include "server/engine.hpp"
#include "server/session.hpp"
#include "tests/engine/scripted_ops.hpp"

using namespace ustub;
using namespace ustub::testing;

namespace {

// A session on a scripted process, with everything it sends collected.
struct Harness {
  static constexpr pid_t kPid = 0x100;
  ScriptedOps ops;
  Engine engine{arch::arch_by_name("x86_64"), ops};
  std::vector<std::string> sent;
  Session session{engine, [this](std::string_view bytes) { sent.emplace_back(bytes); }};

  Harness() {
    ops.set_pc(kPid, 0x1000);
    for (std::uint64_t a = 0x1000; a < 0x1000 + 0x10000; ++a) ops.memory[a] = static_cast<std::uint8_t>(a);
    engine.adopt(kPid, {kPid}, true, {EngineStop::Kind::Signal, kPid, SIGTRAP});
    engine.set_stop_handler([this](const EngineStop& s) { session.on_engine_stop(s); });
  }
  void packet(std::string_view payload) { session.on_bytes(rsp::frame(payload, false)); }
  // The payload of the last packet sent.
  std::string reply() {
    for (auto it = sent.rbegin(); it != sent.rend(); ++it)
      if (!it->empty() && (*it)[0] == '$') {
        std::string out;
        REQUIRE(rsp::expand_payload(it->substr(1, it->size() - 4), 1 << 20, out));
        return out;
      }
    FAIL("no packet was sent");
    return {};
  }
  std::string request(std::string_view payload) {
    packet(payload);
    return reply();
  }
};

}  // namespace

TEST_CASE("ack mode: '+' before every reply, until no-ack is agreed (its OK still acked)") {
  Harness h;
  h.packet("qSupported:multiprocess+;swbreak+");
  REQUIRE(h.sent.size() == 2);
  CHECK(h.sent[0] == "+");
  h.packet("QStartNoAckMode");
  REQUIRE(h.sent.size() == 4);
  CHECK(h.sent[2] == "+");
  CHECK(h.reply() == "OK");
  h.packet("?");
  CHECK(h.sent.size() == 5);  // just the reply
}

TEST_CASE("'-' makes the last reply go out again") {
  Harness h;
  h.packet("qC");
  std::string first = h.sent.back();
  h.session.on_bytes("-");
  CHECK(h.sent.back() == first);
}

TEST_CASE("a resume is answered only when the stop arrives, with expedited registers") {
  Harness h;
  h.request("qSupported:multiprocess+;swbreak+");
  std::size_t before = h.sent.size();
  h.packet("vCont;c");
  CHECK(h.sent.size() == before + 1);  // the '+', no reply yet
  CHECK(h.ops.log.back() == "cont 256 sig 0");
  h.session.on_bytes("\x03");
  CHECK(h.ops.log.back() == "interrupt 256");
  h.ops.set_pc(Harness::kPid, 0x1234);
  h.engine.handle_wait({Harness::kPid, stopped_status(SIGTRAP, PTRACE_EVENT_STOP)});
  CHECK(h.reply() == "T02" "6:0000000000000000;7:0000000000000000;10:3412000000000000;thread:p100.100;");
}

TEST_CASE("0x03 between two resumes is not lost: the next resume stops at once with SIGINT") {
  // gdb single-steps (a software watchpoint) and the user hits Ctrl-C between
  // two steps; gdbserver queues a real SIGINT for that case.
  Harness h;
  h.session.on_bytes("\x03");
  CHECK(h.ops.log.empty());
  CHECK(h.sent.empty());
  CHECK(h.request("vCont;s:100").rfind("T02", 0) == 0);
  CHECK(h.ops.log.empty());  // nothing was resumed
  h.packet("vCont;s:100");   // and the one after that runs normally
  CHECK(h.ops.log.back() == "step 256 sig 0");
}

TEST_CASE("a held Ctrl-C is told as the stepped thread's own process's, not the first inferior's") {
  // Two inferiors: gdb steps a thread of the second over a breakpoint, and the
  // SIGINT kept from a Ctrl-C stops that step. Naming the first inferior's pid
  // made gdb take the thread for a new one and fail an internal assertion.
  Harness h;
  h.request("qSupported:multiprocess+;swbreak+");
  constexpr pid_t kOther = 0x200, kOtherThread = 0x205;
  h.ops.set_pc(kOther, 0x1000);
  h.ops.set_pc(kOtherThread, 0x1000);
  h.engine.add_inferior(kOther, {kOther, kOtherThread}, false, {EngineStop::Kind::Signal, kOther, SIGTRAP});
  h.session.on_bytes("\x03");
  std::string reply = h.request("vCont;s:p200.205");
  CHECK(reply.rfind("T02", 0) == 0);
  CHECK(reply.find("thread:p200.205;") != std::string::npos);
}

TEST_CASE("memory replies are capped at half a packet, and gdb gets the rest by asking again") {
  Harness h;
  std::string reply = h.request("m1000,8000");
  CHECK(reply.size() == 2 * 0x8000);  // all of it: hex, two characters a byte
  for (std::uint64_t a = 0x1000; a < 0x31000; ++a) h.ops.memory[a] = static_cast<std::uint8_t>(a);
  reply = h.request("m1000,30000");
  CHECK(reply.size() == 2 * Session::kMemoryReplyBytes);
  CHECK(reply.size() <= Session::kPacketSize);
  CHECK(reply.substr(0, 8) == "00010203");
  CHECK(h.request("m0,4") == "E01");
}

namespace {
// The last packet as it went on the wire, escapes and runs included.
std::string raw_payload(const Harness& h) {
  const std::string& last = h.sent.back();
  return last.substr(1, last.size() - 4);
}
std::string bytes_from(std::uint64_t address, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<char>(address + i));
  return out;
}
}  // namespace

TEST_CASE("'x' reads memory as binary: after a 'b' for gdb 16 and binary-upload, bare for lldb once it asked x0,0") {
  Harness h;
  CHECK(h.request("qSupported:multiprocess+").find(";binary-upload+") != std::string::npos);
  // 0x1023..0x1024 hold '#' and '$', 0x107d '}' and 0x102a '*': escaped.
  std::string reply = h.request("x1000,100");
  REQUIRE(reply.rfind("b", 0) == 0);
  CHECK(reply.substr(1) == bytes_from(0x1000, 0x100));
  CHECK(raw_payload(h).size() == 1 + 0x100 + 4);
  CHECK(h.request("x0,4") == "E01");
  CHECK(h.request("x1000") == "E.bad 'x' packet");

  CHECK(h.request("x0,0") == "OK");  // lldb's question
  CHECK(h.request("x1000,100") == bytes_from(0x1000, 0x100));
  CHECK(h.request("x0,4") == "E01");
}

TEST_CASE("a bare 'x' reply never reads as lldb's OK or Exx: the first byte goes alone") {
  Harness h;
  h.request("x0,0");
  h.ops.memory[0x2000] = 'O';
  h.ops.memory[0x2001] = 'K';
  CHECK(h.request("x2000,2") == "O");
  CHECK(h.request("x2001,1") == "K");
  for (std::uint64_t a = 0; a < 4; ++a) h.ops.memory[0x3000 + a] = static_cast<std::uint8_t>("E1f;"[a]);
  CHECK(h.request("x3000,3") == "E");
  CHECK(h.request("x3000,4") == "E");
  CHECK(h.request("x3000,2") == "E1");
}

TEST_CASE("a binary reply stops short where its escapes would overflow the packet; gdb asks for the rest") {
  Harness h;
  for (std::uint64_t a = 0x1000; a < 0x1000 + Session::kPacketSize; ++a) h.ops.memory[a] = '$';
  std::string reply = h.request("x1000," + rsp::number_to_hex(Session::kPacketSize));
  CHECK(raw_payload(h).size() <= Session::kPacketSize - 1);
  CHECK(reply.substr(1) == std::string((Session::kPacketSize - 2) / 2, '$'));
}

TEST_CASE("a large read in consecutive pieces reads ahead, yet a write or a resume between pieces is seen") {
  Harness h;
  for (std::uint64_t a = 0x1000; a < 0x1000 + 0x20000; ++a) h.ops.memory[a] = static_cast<std::uint8_t>(a * 7);
  auto memory_text = [&](std::uint64_t from, std::size_t n) {
    std::string s;
    for (std::uint64_t a = from; a < from + n; ++a) s += static_cast<char>(h.ops.memory[a]);
    return s;
  };
  CHECK(h.request("x1000,8000") == "b" + memory_text(0x1000, 0x8000));
  // The next piece was read ahead; the program's memory is then written through the session.
  CHECK(h.request("M9000,2:abcd") == "OK");
  std::string piece = h.request("x9000,8000");
  CHECK(piece.substr(0, 3) == "b\xab\xcd");
  // Hex pieces, each what the memory holds, whichever way they were made.
  for (std::uint64_t a = 0x1000; a < 0x19000; a += 0x4000) {
    std::string expected = memory_text(a, 0x4000);
    CHECK(h.request("m" + rsp::number_to_hex(a) + ",4000") ==
          rsp::to_hex(std::span(reinterpret_cast<const std::uint8_t*>(expected.data()), expected.size())));
  }
  // A piece of another length, or after a resume and stop, is read anew.
  h.request("m1000,4000");
  h.ops.memory[0x5000] = 0xee;
  CHECK(h.request("m5000,2").substr(0, 2) == "ee");
  h.request("m1000,4000");
  h.ops.memory[0x5000] = 0xdd;
  h.packet("vCont;c");
  h.ops.set_pc(Harness::kPid, 0x1234);
  h.engine.handle_wait({Harness::kPid, stopped_status(SIGSTOP)});
  CHECK(h.request("m5000,4000").substr(0, 2) == "dd");
}

TEST_CASE("lldb's qHostInfo turns on lldb-server's breakpoint stops: the pc at the breakpoint without swbreak+") {
  Harness h;
  h.request("qSupported:xmlRegisters=i386,arm,mips,arc;multiprocess+");
  CHECK(h.request("qHostInfo").empty());
  CHECK(h.request("Z0,1010,1") == "OK");
  h.packet("vCont;c");
  h.ops.set_pc(Harness::kPid, 0x1011);  // just past the int3
  h.ops.traps[Harness::kPid] = {SIGTRAP, 0x80 /* SI_KERNEL */};
  h.engine.handle_wait({Harness::kPid, stopped_status(SIGTRAP)});
  CHECK(h.reply().find(";10:1010000000000000;") != std::string::npos);
}

TEST_CASE("... while gdb without swbreak+ gets the pc past the breakpoint, as from gdbserver, and moves it back itself") {
  Harness h;
  h.request("qSupported:multiprocess+");
  CHECK(h.request("Z0,1010,1") == "OK");
  h.packet("vCont;c");
  h.ops.set_pc(Harness::kPid, 0x1011);
  h.ops.traps[Harness::kPid] = {SIGTRAP, 0x80 /* SI_KERNEL */};
  h.engine.handle_wait({Harness::kPid, stopped_status(SIGTRAP)});
  CHECK(h.reply().find(";10:1110000000000000;") != std::string::npos);
}

TEST_CASE("target.xml arrives in pieces that add up to the derived document") {
  Harness h;
  std::string whole;
  while (true) {
    std::string piece = h.request("qXfer:features:read:target.xml:" + rsp::number_to_hex(whole.size()) + ",400");
    REQUIRE(!piece.empty());
    whole += piece.substr(1);
    if (piece[0] == 'l') break;
    REQUIRE(piece[0] == 'm');
  }
  CHECK(whole == h.engine.layout().target_xml());
  CHECK(h.request("g").size() == h.engine.layout().g_packet_bytes() * 2);
}

TEST_CASE("the thread list read in pieces is one document, made at offset 0: a thread born meanwhile waits for the next read") {
  Harness h;
  bool born = false;
  auto read_all = [&h, &born] {
    std::string whole;
    while (true) {
      std::string piece = h.request("qXfer:threads:read::" + rsp::number_to_hex(whole.size()) + ",20");
      REQUIRE(!piece.empty());
      whole += piece.substr(1);
      if (piece[0] == 'l') return whole;
      REQUIRE(piece[0] == 'm');
      if (!std::exchange(born, true)) {  // after the first piece, another process (and thread) arrives
        h.ops.set_pc(0x200, 0x1000);
        h.engine.add_inferior(0x200, {0x200}, true, {EngineStop::Kind::Signal, 0x200, SIGTRAP});
      }
    }
  };
  auto count_threads = [](const std::string& xml) {
    std::size_t n = 0;
    for (std::size_t at = xml.find("<thread "); at != std::string::npos; at = xml.find("<thread ", at + 1)) ++n;
    return n;
  };
  std::string first = read_all();
  CHECK(first.ends_with("</threads>\n"));
  CHECK(count_threads(first) == 1);
  CHECK(count_threads(read_all()) == 2);
}

TEST_CASE("bad packets get errors and the session carries on") {
  Harness h;
  CHECK(h.request("Mzz").rfind("E", 0) == 0);
  CHECK(h.request("Z0,zz,1").rfind("E", 0) == 0);
  CHECK(h.request("qUnheardOf") == "");
  CHECK(h.request("p9999") == "E.no such register");
  CHECK(h.request("Hg7777") == "E.no such thread");
  CHECK(h.request("qC") == "QC100");  // still answering
}

TEST_CASE("monitor commands answer with console output, as gdbserver's do") {
  Harness h;
  h.packet("qRcmd," + rsp::to_hex(std::string_view("help")));
  CHECK(h.reply() == "OK");
  std::string help = h.sent[h.sent.size() - 2];  // the O packet, then OK
  CHECK(help.rfind("$O", 0) == 0);
  std::string text;
  REQUIRE(rsp::expand_payload(help.substr(2, help.size() - 5), 1 << 20, text));
  auto bytes = rsp::from_hex(text);
  REQUIRE(bytes);
  CHECK(std::string(bytes->begin(), bytes->end()).find("exit") != std::string::npos);
  CHECK(h.request("qRcmd," + rsp::to_hex(std::string_view("frob"))) == "E01");
  // gdbserver's libthread_db setting is taken (scripts set it) and said to change nothing.
  CHECK(h.request("qRcmd," + rsp::to_hex(std::string_view("set libthread-db-search-path /nowhere"))) == "OK");
  CHECK(h.session.outcome() == Session::Outcome::Open);
  CHECK(h.request("qRcmd," + rsp::to_hex(std::string_view("exit"))) == "OK");
  CHECK(h.session.outcome() == Session::Outcome::ExitRequested);
}

TEST_CASE("plain remote: kill ends the connection; extended: it stays for the next run") {
  {
    Harness h;
    h.packet("k");
    CHECK(h.session.outcome() == Session::Outcome::Killed);
  }
  Harness h;
  CHECK(h.request("!") == "OK");
  CHECK(h.request("vKill;100") == "OK");
  CHECK_FALSE(h.engine.has_process());
  CHECK(h.session.outcome() == Session::Outcome::Open);
}

TEST_CASE("vRun starts a process through the server and answers with its first stop") {
  constexpr pid_t kNewPid = 0x200;
  ScriptedOps ops;
  Engine engine{arch::arch_by_name("x86_64"), ops};
  std::vector<std::string> sent;
  std::vector<std::string> started;
  InferiorSettings started_with;
  SessionHooks hooks;
  hooks.run = [&](const std::vector<std::string>& argv, const InferiorSettings& settings) -> std::string {
    if (argv[0] == "/nope") return "cannot run /nope: No such file or directory";
    started = argv;
    started_with = settings;
    ops.set_pc(kNewPid, 0x1000);
    engine.adopt(kNewPid, {kNewPid}, true, {EngineStop::Kind::Signal, kNewPid, SIGTRAP});
    return "";
  };
  Session session{engine, [&](std::string_view bytes) { sent.emplace_back(bytes); }, hooks};
  auto request = [&](std::string_view payload) {
    session.on_bytes(rsp::frame(payload, false));
    std::string out;
    REQUIRE(rsp::expand_payload(sent.back().substr(1, sent.back().size() - 4), 1 << 20, out));
    return out;
  };
  request("qSupported:multiprocess+");
  request("!");
  CHECK(request("vRun;" + rsp::to_hex(std::string_view("/nope"))).rfind("E.cannot run /nope", 0) == 0);
  CHECK_FALSE(engine.has_process());
  std::string reply = request("vRun;" + rsp::to_hex(std::string_view("/bin/true")) + ";" + rsp::to_hex(std::string_view("x")));
  CHECK(started == std::vector<std::string>{"/bin/true", "x"});
  CHECK(reply.rfind("T05", 0) == 0);
  CHECK(reply.find("thread:p200.200;") != std::string::npos);
  CHECK_FALSE(started_with.changes_environment());
  // What gdb sends before its next run reaches the launch.
  CHECK(request("QEnvironmentReset") == "OK");
  CHECK(request("QEnvironmentHexEncoded:" + rsp::to_hex(std::string_view("GREETING=hello world"))) == "OK");
  CHECK(request("QEnvironmentUnset:" + rsp::to_hex(std::string_view("HOME"))) == "OK");
  CHECK(request("QEnvironmentUnset:" + rsp::to_hex(std::string_view("=bad"))).rfind("E", 0) == 0);
  CHECK(request("QSetWorkingDir:" + rsp::to_hex(std::string_view("/tmp"))) == "OK");
  CHECK(request("QStartupWithShell:0") == "OK");
  CHECK(request("QDisableRandomization:1") == "OK");
  CHECK(request("QStartupWithShell:2").rfind("E", 0) == 0);
  request("vRun;");
  CHECK(started_with.set_variables.at("GREETING") == "hello world");
  CHECK(started_with.unset_variables.count("HOME") == 1);
  CHECK(started_with.working_directory == "/tmp");
  CHECK(started_with.startup_with_shell == false);
  CHECK(started_with.disable_randomization == true);
}

TEST_CASE("the environment a program starts with: ustub's own, with gdb's sets and unsets, the last one winning") {
  InferiorSettings s;
  s.set_variable("A=1");
  s.unset_variable("B");
  s.set_variable("B=2");  // set after unset: set
  s.set_variable("C=3");
  s.unset_variable("C");  // unset after set: unset
  s.set_variable("EMPTY");
  auto env = s.environment({"A=0", "B=0", "C=0", "KEEP=yes"});
  std::sort(env.begin(), env.end());
  CHECK(env == std::vector<std::string>{"A=1", "B=2", "EMPTY=", "KEEP=yes"});
  s.reset_environment();
  CHECK(s.environment({"A=0"}) == std::vector<std::string>{"A=0"});
  CHECK(expand_home("~/work", "/home/u") == "/home/u/work");
  CHECK(expand_home("~", "/home/u") == "/home/u");
  CHECK(expand_home("/abs/~x", "/home/u") == "/abs/~x");
}

TEST_CASE("a Ctrl-C that loses the race to a step's end is reported on the next resume") {
  Harness h;
  h.packet("vCont;s:100");
  h.session.on_bytes("\x03");  // PTRACE_INTERRUPT goes out, but the step ends first
  CHECK(h.ops.log.back() == "interrupt 256");
  h.ops.traps[Harness::kPid] = {SIGTRAP, 2};  // TRAP_TRACE
  h.engine.handle_wait({Harness::kPid, ustub::testing::stopped_status(SIGTRAP)});
  CHECK(h.reply().rfind("T05", 0) == 0);
  CHECK(h.request("vCont;s:100").rfind("T02", 0) == 0);  // the Ctrl-C, not another step
  h.packet("vCont;c");  // answered once: the program runs again
  CHECK(h.ops.log.back() == "cont 256 sig 0");
}

TEST_CASE("a process killed while gdb has it stopped is reported at gdb's next resume, not dropped") {
  Harness h;
  h.request("qSupported:multiprocess+;swbreak+");
  std::size_t before = h.sent.size();
  h.ops.pending.push_back({Harness::kPid, killed_status(SIGKILL)});
  h.engine.drain_events();
  CHECK(h.sent.size() == before);  // gdb asked nothing: nothing is sent
  CHECK(h.session.outcome() == Session::Outcome::Open);
  CHECK(h.request("m1000,4").rfind("E", 0) == 0);  // the memory is gone
  CHECK(h.request("vCont;c") == "X09;process:100");
  CHECK(h.session.outcome() == Session::Outcome::ProcessExited);
}

TEST_CASE("... or at its next '?', once") {
  Harness h;
  h.request("qSupported:multiprocess+;swbreak+");
  h.ops.pending.push_back({Harness::kPid, exited_status(3)});
  h.engine.drain_events();
  CHECK(h.request("?") == "W03;process:100");
  CHECK(h.session.outcome() == Session::Outcome::ProcessExited);
}

TEST_CASE("non-stop: stops go out as %Stop notifications, one at a time, the rest through vStopped") {
  Harness h;
  constexpr pid_t kOther = Harness::kPid + 1;
  h.ops.set_pc(kOther, 0x1000);
  h.engine.adopt(Harness::kPid, {Harness::kPid, kOther}, true, {EngineStop::Kind::Signal, Harness::kPid, SIGTRAP});
  CHECK(h.request("qSupported:multiprocess+").find("QNonStop+") != std::string::npos);
  CHECK(h.request("QNonStop:1") == "OK");
  CHECK(h.request("vCont;c") == "OK");  // at once: the stops come later, on their own
  std::size_t before = h.sent.size();
  h.engine.handle_wait({Harness::kPid, stopped_status(SIGUSR1)});
  h.engine.handle_wait({kOther, stopped_status(SIGUSR2)});
  REQUIRE(h.sent.size() == before + 1);  // only the first goes out unasked
  CHECK(h.sent.back().starts_with("%Stop:T1e"));
  CHECK(h.request("vStopped").starts_with("T1f"));
  CHECK(h.request("vStopped") == "OK");
  // '?' names one stopped thread (the last to report), as gdbserver does;
  // gdb hears of the other when it stops it.
  CHECK(h.request("?").find("thread:p100.101;") != std::string::npos);
  CHECK(h.request("vStopped") == "OK");
  before = h.sent.size();
  CHECK(h.request("vCont;t:p100.100") == "OK");
  CHECK(std::count_if(h.sent.begin() + static_cast<long>(before), h.sent.end(),
                      [](const std::string& m) { return m.starts_with("%Stop:T00"); }) == 1);
  CHECK(h.request("vStopped") == "OK");
  CHECK(h.request("QNonStop:2").starts_with("E"));
}

// Non-stop, with a second thread, both resumed.
struct TwoThreadsRunningNonStop : Harness {
  static constexpr pid_t kOther = kPid + 1;
  TwoThreadsRunningNonStop() {
    ops.set_pc(kOther, 0x1000);
    engine.adopt(kPid, {kPid, kOther}, true, {EngineStop::Kind::Signal, kPid, SIGTRAP});
    REQUIRE(request("QNonStop:1") == "OK");
    REQUIRE(request("vCont;c") == "OK");
  }
};

TEST_CASE("non-stop: a bare vCont;t stops every thread, as gdb's stop of all sends it; a bare 's' only the chosen one") {
  TwoThreadsRunningNonStop h;
  constexpr pid_t kOther = TwoThreadsRunningNonStop::kOther;
  h.ops.log.clear();
  CHECK(h.request("vCont;t") == "OK");
  CHECK(std::count(h.ops.log.begin(), h.ops.log.end(), "interrupt 256") == 1);
  CHECK(std::count(h.ops.log.begin(), h.ops.log.end(), "interrupt 257") == 1);
  h.engine.handle_wait({Harness::kPid, stopped_status(SIGTRAP, PTRACE_EVENT_STOP)});
  h.engine.handle_wait({kOther, stopped_status(SIGTRAP, PTRACE_EVENT_STOP)});
  CHECK(h.request("vStopped").starts_with("T00"));
  CHECK(h.request("vStopped") == "OK");
  CHECK(h.request("Hcp100.101") == "OK");
  h.ops.log.clear();
  CHECK(h.request("vCont;s") == "OK");
  CHECK(h.ops.log == std::vector<std::string>{"step 257 sig 0"});
}

TEST_CASE("non-stop: a queued stop of a thread that has gone since is dropped, as gdbserver drops it") {
  TwoThreadsRunningNonStop h;
  constexpr pid_t kOther = TwoThreadsRunningNonStop::kOther;
  h.engine.handle_wait({Harness::kPid, stopped_status(SIGUSR1)});
  h.engine.handle_wait({kOther, stopped_status(SIGUSR2)});  // queued behind the first
  h.engine.handle_wait({kOther, exited_status(0)});         // and gone before gdb took it
  CHECK(h.request("vStopped") == "OK");
}

TEST_CASE("threads and then the whole process ending while gdb holds a stop are each told, one per resume") {
  // The last thread exits (and with it the process) while gdb still holds a
  // thread's exit: the process is gone from the engine, yet gdb must hear the
  // other thread's end and then the process's, not "no process".
  Harness h;
  constexpr pid_t kSecond = Harness::kPid + 1, kThird = Harness::kPid + 2;
  for (pid_t t : {kSecond, kThird}) h.ops.set_pc(t, 0x1000);
  h.engine.adopt(Harness::kPid, {Harness::kPid, kSecond, kThird}, true,
                 {EngineStop::Kind::Signal, Harness::kPid, SIGTRAP});
  h.request("qSupported:multiprocess+;swbreak+");
  CHECK(h.request("QThreadEvents:1") == "OK");
  h.packet("vCont;c");
  h.engine.handle_wait({kSecond, exited_status(0)});
  for (pid_t t : {Harness::kPid, kThird}) h.engine.handle_wait({t, stopped_status(SIGTRAP, PTRACE_EVENT_STOP)});
  CHECK(h.reply() == "w0;p100.101");
  // gdb holds that stop; the others end meanwhile (a SIGKILL from outside).
  h.engine.handle_wait({kThird, exited_status(0)});
  h.engine.handle_wait({Harness::kPid, exited_status(0)});
  CHECK(h.request("vCont;c") == "w0;p100.102");
  CHECK(h.request("vCont;c") == "W00;process:100");
  CHECK(h.session.outcome() == Session::Outcome::ProcessExited);
}
