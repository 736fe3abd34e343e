#include <doctest/doctest.h>

#include "rsp/request.hpp"

using namespace rsp;

template <class T>
const T& as(const Request& r) {
  REQUIRE(std::holds_alternative<T>(r));
  return std::get<T>(r);
}

TEST_CASE("memory packets") {
  auto m = as<req::ReadMemory>(parse("m7fff0000,40"));
  CHECK(m.address == 0x7fff0000);
  CHECK(m.length == 0x40);
  CHECK_FALSE(m.binary);
  auto binary = as<req::ReadMemory>(parse("x7fff0000,40"));
  CHECK((binary.address == 0x7fff0000 && binary.length == 0x40 && binary.binary));
  as<req::Malformed>(parse("x7fff0000"));
  as<req::HostInfo>(parse("qHostInfo"));
  auto w = as<req::WriteMemory>(parse("M1000,2:abcd"));
  CHECK(w.bytes == std::vector<std::uint8_t>{0xab, 0xcd});
  auto x = as<req::WriteMemory>(parse(std::string("X1000,3:a,:")));
  CHECK(x.bytes == std::vector<std::uint8_t>{'a', ',', ':'});
  as<req::Malformed>(parse("M1000,3:abcd"));  // length mismatch
  as<req::Malformed>(parse("mzz,1"));
  as<req::Malformed>(parse("m1000"));
}

TEST_CASE("register packets") {
  CHECK(as<req::ReadRegister>(parse("p10")).regnum == 0x10);
  auto p = as<req::WriteRegister>(parse("P10=0102"));
  CHECK(p.regnum == 0x10);
  CHECK(p.bytes.size() == 2);
  as<req::ReadRegisters>(parse("g"));
  as<req::Malformed>(parse("P10"));
  as<req::Malformed>(parse("G0"));
}

TEST_CASE("resume packets all become actions") {
  auto c = as<req::Resume>(parse("c"));
  REQUIRE(c.actions.size() == 1);
  CHECK(c.actions[0].kind == req::ResumeAction::Kind::Continue);
  auto s = as<req::Resume>(parse("S0b"));
  CHECK(s.actions[0].kind == req::ResumeAction::Kind::Step);
  CHECK(s.actions[0].signal == 11);
  auto v = as<req::Resume>(parse("vCont;s:p1.2;C05:p1.-1;c"));
  REQUIRE(v.actions.size() == 3);
  CHECK(v.actions[0].thread->tid == 2);
  CHECK(v.actions[1].signal == 5);
  CHECK_FALSE(v.actions[2].thread.has_value());
  as<req::VContQuery>(parse("vCont?"));
  as<req::Malformed>(parse("vCont;x"));
  as<req::Malformed>(parse("vCont;"));
  as<req::Malformed>(parse("c1234"));  // resuming at an address
}

TEST_CASE("breakpoints, threads, xfer") {
  auto z = as<req::Breakpoint>(parse("Z0,401000,1"));
  CHECK(z.insert);
  CHECK(z.address == 0x401000);
  auto removal = as<req::Breakpoint>(parse("z0,401000,1"));
  CHECK_FALSE(removal.insert);
  as<req::Malformed>(parse("Z9,1,1"));
  auto h = as<req::SetThread>(parse("Hgp1.2"));
  CHECK(h.operation == 'g');
  CHECK(h.thread.tid == 2);
  auto x = as<req::XferRead>(parse("qXfer:features:read:target.xml:0,ffb"));
  CHECK(x.object == "features");
  CHECK(x.annex == "target.xml");
  CHECK(x.length == 0xffb);
  as<req::Unknown>(parse("qXfer:features:write:target.xml:0,ffb"));
}

TEST_CASE("queries and process control") {
  auto q = as<req::QuerySupported>(parse("qSupported:multiprocess+;swbreak+;xmlRegisters=i386"));
  CHECK(q.gdb_features.size() == 3);
  as<req::StartNoAckMode>(parse("QStartNoAckMode"));
  CHECK(as<req::Attached>(parse("qAttached:1a")).pid == 0x1a);
  CHECK_FALSE(as<req::Detach>(parse("D")).pid.has_value());
  CHECK(as<req::Detach>(parse("D;1a")).pid == 0x1a);
  CHECK(as<req::Kill>(parse("vKill;1a")).pid == 0x1a);
  as<req::CtrlC>(parse("vCtrlC"));
  as<req::Unknown>(parse("vMustReplyEmpty"));
  as<req::Unknown>(parse("qTStatus"));
  as<req::Unknown>(parse(""));
}

TEST_CASE("extended-remote packets: '!', vRun, vAttach, qRcmd") {
  as<req::ExtendedMode>(parse("!"));
  // vRun;hex(program);hex(arg)…, an empty program meaning "the last one".
  auto run = as<req::Run>(parse("vRun;2f62696e2f6c73;2d6c;"));
  CHECK(run.argv == std::vector<std::string>{"/bin/ls", "-l", ""});
  CHECK(as<req::Run>(parse("vRun;")).argv == std::vector<std::string>{""});
  CHECK(as<req::AttachTo>(parse("vAttach;4d2")).pid == 1234);
  CHECK(as<req::MonitorCommand>(parse("qRcmd,65786974")).command == "exit");
  CHECK(as<req::MonitorCommand>(parse("qRcmd,")).command.empty());
  as<req::Malformed>(parse("vRun;zz"));
  as<req::Malformed>(parse("vAttach;0"));
  as<req::Malformed>(parse("vAttach;"));
  as<req::Malformed>(parse("qRcmd,6"));
}

TEST_CASE("host I/O") {
  auto open = as<req::FileOpen>(parse("vFile:open:2f6574632f706173737764,0,1a4"));
  CHECK(open.path == "/etc/passwd");
  CHECK(open.mode == 0644);
  auto pread = as<req::FilePread>(parse("vFile:pread:5,1000,20"));
  CHECK(pread.fd == 5);
  CHECK(pread.count == 0x1000);
  CHECK(pread.offset == 0x20);
  auto pwrite = as<req::FilePwrite>(parse("vFile:pwrite:5,0,a,b"));
  CHECK(pwrite.data == std::vector<std::uint8_t>{'a', ',', 'b'});
  as<req::Malformed>(parse("vFile:open:zz,0,0"));
  as<req::Malformed>(parse("vFile:pread:5"));
  as<req::Unknown>(parse("vFile:frobnicate:1"));
}

TEST_CASE("hostile inputs never crash the parser") {
  const char* inputs[] = {"m", "M", "X", "Z", "z", "H", "T", "P=", "p", "qXfer:", "vFile:",
                          "vCont;C", "vCont;S:", "vKill;", "D;", "qAttached:", "Hg", "Z0,,",
                          "mffffffffffffffffff,1", "qSupported:",
                          "vCont;:2", "vCont;;", "vFile:pwrite:", "qXfer:a:read:b:,", "X1,0:"};
  for (const char* input : inputs) {
    CAPTURE(input);
    Request r = parse(input);
    CHECK_FALSE(std::holds_alternative<req::Resume>(r));
  }
}

TEST_CASE("QPassSignals and QProgramSignals: gdb's hex numbers, its trailing ';' and an empty list") {
  auto pass = std::get<rsp::req::SignalSet>(rsp::parse("QPassSignals:e;10;1e;"));
  CHECK(pass.pass);
  CHECK(pass.gdb_signals == std::vector<int>{14, 16, 30});
  auto none = std::get<rsp::req::SignalSet>(rsp::parse("QPassSignals:"));
  CHECK(none.gdb_signals.empty());
  CHECK_FALSE(std::get<rsp::req::SignalSet>(rsp::parse("QProgramSignals:2")).pass);
  CHECK(std::holds_alternative<rsp::req::Malformed>(rsp::parse("QPassSignals:zz")));
}

TEST_CASE("qXfer writes keep ':' inside their binary data") {
  auto w = std::get<rsp::req::XferWrite>(rsp::parse(std::string_view("qXfer:siginfo:write::8:a:b\0c", 28)));
  CHECK(w.object == "siginfo");
  CHECK(w.offset == 8);
  CHECK(w.data == std::vector<std::uint8_t>{'a', ':', 'b', 0, 'c'});
  CHECK(std::holds_alternative<rsp::req::Malformed>(rsp::parse("qXfer:siginfo:write::zz:1")));
}

TEST_CASE("QThreadEvents and QCatchSyscalls: on/off, a list of hex syscall numbers, anything else an error") {
  CHECK(std::get<rsp::req::ThreadEvents>(rsp::parse("QThreadEvents:1")).enable);
  CHECK_FALSE(std::get<rsp::req::ThreadEvents>(rsp::parse("QThreadEvents:0")).enable);
  CHECK(std::holds_alternative<rsp::req::Malformed>(rsp::parse("QThreadEvents:2")));
  auto all = std::get<rsp::req::CatchSyscalls>(rsp::parse("QCatchSyscalls:1"));
  CHECK(all.enable);
  CHECK(all.numbers.empty());
  auto some = std::get<rsp::req::CatchSyscalls>(rsp::parse("QCatchSyscalls:1;27;6e"));
  CHECK(some.numbers == std::vector<int>{0x27, 0x6e});
  CHECK_FALSE(std::get<rsp::req::CatchSyscalls>(rsp::parse("QCatchSyscalls:0")).enable);
  CHECK(std::holds_alternative<rsp::req::Malformed>(rsp::parse("QCatchSyscalls:0;27")));
  CHECK(std::holds_alternative<rsp::req::Malformed>(rsp::parse("QCatchSyscalls:1;zz")));
  CHECK(std::holds_alternative<rsp::req::Malformed>(rsp::parse("QCatchSyscalls:")));
}

TEST_CASE("qGetTLSAddr: a thread as gdb writes it (p-form too), then hex offset and link_map") {
  auto q = std::get<rsp::req::TlsAddress>(rsp::parse("qGetTLSAddr:p4b2e.4b31,1c,7ffff7fc1160"));
  CHECK(q.thread == rsp::ThreadId{0x4b2e, 0x4b31});
  CHECK(q.offset == 0x1c);
  CHECK(q.link_map == 0x7ffff7fc1160);
  CHECK(std::get<rsp::req::TlsAddress>(rsp::parse("qGetTLSAddr:4b31,0,0")).thread.tid == 0x4b31);
  CHECK(std::holds_alternative<rsp::req::Malformed>(rsp::parse("qGetTLSAddr:4b31,1c")));
  CHECK(std::holds_alternative<rsp::req::Malformed>(rsp::parse("qGetTLSAddr:-1,1c,0")));
  CHECK(std::holds_alternative<rsp::req::Malformed>(rsp::parse("qGetTLSAddr:4b31,zz,0")));
}

TEST_CASE("vCont;r carries its range; a range that does not parse is malformed") {
  auto r = as<req::Resume>(parse("vCont;r401000,401010:p1.2;c:p1.-1"));
  REQUIRE(r.actions.size() == 2);
  CHECK(r.actions[0].kind == req::ResumeAction::Kind::RangeStep);
  CHECK(r.actions[0].range_start == 0x401000);
  CHECK(r.actions[0].range_end == 0x401010);
  CHECK(r.actions[0].thread->tid == 2);
  CHECK(r.actions[1].kind == req::ResumeAction::Kind::Continue);
  as<req::Malformed>(parse("vCont;r401000"));
  as<req::Malformed>(parse("vCont;r,401010:1"));
  as<req::Malformed>(parse("vCont;rzz,1"));
}

TEST_CASE("Z0 with target-side conditions: each ;X len,bytecode is kept, and so are the commands") {
  auto z = as<req::Breakpoint>(parse("Z0,4012a5,1;X3,220127;X2,2227;cmds:0,X3,220027"));
  CHECK(z.address == 0x4012a5);
  CHECK(z.kind == 1);
  REQUIRE(z.conditions.size() == 2);
  CHECK(z.conditions[0] == std::vector<std::uint8_t>{0x22, 0x01, 0x27});
  CHECK(z.conditions[1] == std::vector<std::uint8_t>{0x22, 0x27});
  // The length must match the bytes; a condition must be X.
  as<req::Malformed>(parse("Z0,4012a5,1;X2,aa"));
  as<req::Malformed>(parse("Z0,4012a5,1;Y3,220127"));
  as<req::Malformed>(parse("Z0,4012a5,1;X3"));
  as<req::Malformed>(parse("Z0,4012a5,1,2"));
}

TEST_CASE("Z0 with target-side commands: cmds:persist, then X len,bytecode after X len,bytecode with no separator") {
  auto z = as<req::Breakpoint>(parse("Z0,4012a5,1;X3,220127;cmds:1,X3,220027X2,2727"));
  REQUIRE(z.conditions.size() == 1);
  CHECK(z.persist);
  REQUIRE(z.commands.size() == 2);
  CHECK(z.commands[0] == std::vector<std::uint8_t>{0x22, 0x00, 0x27});
  CHECK(z.commands[1] == std::vector<std::uint8_t>{0x27, 0x27});
  z = as<req::Breakpoint>(parse("Z0,4012a5,1;cmds:0,X1,27"));
  CHECK(z.conditions.empty());
  CHECK(!z.persist);
  CHECK(z.commands.size() == 1);
  as<req::Malformed>(parse("Z0,4012a5,1;cmds:0,X3,2200"));   // shorter than its length
  as<req::Malformed>(parse("Z0,4012a5,1;cmds:0,X1,27;"));    // not an expression
  as<req::Malformed>(parse("Z0,4012a5,1;cmds:X1,27"));       // no persist flag
}
