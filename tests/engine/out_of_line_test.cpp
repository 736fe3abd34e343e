// False breakpoint conditions run on out of line: the page ustub maps in the
// process, the copies in it, and where threads stopped in a copy are put back.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/ptrace.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "server/out_of_line.hpp"
#include "tests/engine/x86_range_program.hpp"

using namespace ustub;
using namespace ustub::testing;

namespace {

constexpr std::uint64_t kVdso = 0x7000;
constexpr std::uint64_t kSyscallInVdso = kVdso + 0x10;
constexpr std::uint64_t kPage = 0x10000000;
constexpr unsigned kRax = 10 * 8, kRdx = 12 * 8;  // in NT_PRSTATUS
// gdb's `$rax == 1` (reg 0, const8 1, equal, end).
const std::vector<std::uint8_t> kRaxIs1 = {0x26, 0x00, 0x00, 0x22, 0x01, 0x13, 0x27};

struct FalseConditionBesideAnotherThread : InRange {
  explicit FalseConditionBesideAnotherThread(bool non_stop = false) : InRange(true) {
    engine.set_non_stop(non_stop);
    ops.vdso = kVdso;
    for (std::uint64_t a = kVdso; a < kVdso + 0x20; ++a) ops.memory[a] = 0xc3;
    ops.memory[kSyscallInVdso] = 0x0f;
    ops.memory[kSyscallInVdso + 1] = 0x05;
    REQUIRE(engine.insert_breakpoint(kPid, 0x2000) == 0);  // over a nop
    engine.set_breakpoint_agent(kPid, 0x2000, {kRaxIs1}, {});
    engine.resume({{kPid, {}}, {kOther, {}}});
  }
  std::uint64_t reg(pid_t tid, unsigned offset) {
    std::uint64_t v;
    std::memcpy(&v, ops.general[tid].data() + offset, 8);
    return v;
  }
  void set_reg(pid_t tid, unsigned offset, std::uint64_t v) { std::memcpy(ops.general[tid].data() + offset, &v, 8); }
  // The thread made the mmap ustub set up: the kernel's answer in rax.
  void syscall_made(std::uint64_t result) {
    set_reg(kPid, kRax, result);
    single_step_to(kSyscallInVdso + 2);
  }
};

}  // namespace

TEST_CASE("a false hit beside a running thread maps a page, with a syscall the thread makes in the vDSO") {
  FalseConditionBesideAnotherThread f;
  f.trap_at_breakpoint(0x2000);
  CHECK(f.stops.empty());
  CHECK(f.ops.log.back() == "step 100 sig 0");
  CHECK(f.ops.pc_of(InRange::kPid) == kSyscallInVdso);
  CHECK(f.reg(InRange::kPid, kRax) == 9);  // mmap
  CHECK(f.reg(InRange::kPid, kRdx) == 5);  // PROT_READ | PROT_EXEC
  CHECK(f.ops.memory[0x2000] == 0xcc);     // the breakpoint never left
  f.syscall_made(kPage);
  CHECK(f.stops.empty());
  CHECK(f.ops.pc_of(InRange::kPid) == 0x2000);  // its registers back, at the breakpoint
  CHECK(f.reg(InRange::kPid, kRax) == 0);
  CHECK(f.ops.log.back() == "cont 100 sig 0");
}

TEST_CASE("then each false hit goes on in the copy, one stop a hit, the breakpoint in place") {
  FalseConditionBesideAnotherThread f;
  f.trap_at_breakpoint(0x2000);
  f.syscall_made(kPage);
  for (int hit = 0; hit < 2; ++hit) {
    f.ops.log.clear();
    f.trap_at_breakpoint(0x2000);
    CHECK(f.stops.empty());
    CHECK(f.ops.pc_of(InRange::kPid) == kPage);
    CHECK(f.ops.log.back() == "cont 100 sig 0");
    CHECK(f.ops.memory[0x2000] == 0xcc);
  }
  // nop, then jmp rel32 back to 0x2001.
  std::vector<std::uint8_t> copy;
  for (std::uint64_t a = kPage; a < kPage + 6; ++a) copy.push_back(f.ops.memory[a]);
  std::int32_t back = static_cast<std::int32_t>(0x2001 - (kPage + 6));
  std::vector<std::uint8_t> expected = {0x90, 0xe9};
  for (int i = 0; i < 4; ++i) expected.push_back(static_cast<std::uint8_t>(static_cast<std::uint32_t>(back) >> (8 * i)));
  CHECK(copy == expected);
}

TEST_CASE("a thread stopped in a copy is put back where it is in the program") {
  FalseConditionBesideAnotherThread f;
  f.trap_at_breakpoint(0x2000);
  f.syscall_made(kPage);
  f.trap_at_breakpoint(0x2000);
  // The other thread's signal stops everything; this one is past the nop.
  f.ops.set_pc(InRange::kPid, kPage + 1);
  f.engine.handle_wait({InRange::kOther, stopped_status(SIGUSR1)});
  f.engine.handle_wait({InRange::kPid, stopped_status(SIGTRAP, PTRACE_EVENT_STOP)});
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].tid == InRange::kOther);
  CHECK(*f.engine.pc(InRange::kPid) == 0x2001);
  // A fault in the copied instruction itself is told at the breakpoint.
  f.engine.resume({{InRange::kPid, {}}, {InRange::kOther, {}}});
  f.ops.set_pc(InRange::kPid, kPage);
  f.engine.handle_wait({InRange::kPid, stopped_status(SIGSEGV)});
  f.engine.handle_wait({InRange::kOther, stopped_status(SIGTRAP, PTRACE_EVENT_STOP)});
  REQUIRE(f.stops.size() == 2);
  CHECK(f.stops[1].host_signal == SIGSEGV);
  CHECK(*f.engine.pc(InRange::kPid) == 0x2000);
}

TEST_CASE("a refused mapping is not asked for again: the hits are told while another thread runs") {
  FalseConditionBesideAnotherThread f;
  f.trap_at_breakpoint(0x2000);
  f.syscall_made(static_cast<std::uint64_t>(-1));  // -EPERM: a seccomp filter, say
  f.ops.log.clear();
  f.trap_at_breakpoint(0x2000);
  CHECK(f.stops.size() == 0);  // the other thread is being stopped first
  CHECK(f.ops.log.back() == "interrupt 101");
}

TEST_CASE("the out-of-line page: copies by breakpoint and the instruction they copy, and where a pc in one is") {
  OutOfLineArea area;
  CHECK_FALSE(area.next_slot());
  area.mapped(kPage);
  const std::uint8_t mov[] = {0x8b, 0x45, 0xfc};
  area.add(0x4012a5, mov);
  const std::uint8_t now[] = {0x8b, 0x45, 0xfc, 0x48};
  CHECK(area.slot_for(0x4012a5, now) == kPage);
  const std::uint8_t other[] = {0x48, 0x63, 0xd0, 0x90};  // another library there now
  CHECK_FALSE(area.slot_for(0x4012a5, other));
  CHECK(area.program_pc(kPage) == 0x4012a5);      // before the instruction
  CHECK(area.program_pc(kPage + 3) == 0x4012a8);  // at the jump back
  CHECK_FALSE(area.program_pc(kPage + 1));
  CHECK_FALSE(area.program_pc(0x4012a5));
  for (int i = 1; i < 128; ++i) area.add(0x5000 + i, mov);
  CHECK_FALSE(area.next_slot());  // full: in-line steps from here on
}

TEST_CASE("in non-stop, false hits go on out of line as well, and the breakpoint is never taken out") {
  FalseConditionBesideAnotherThread f(true);
  f.trap_at_breakpoint(0x2000);
  CHECK(f.ops.pc_of(InRange::kPid) == kSyscallInVdso);
  f.syscall_made(kPage);
  f.trap_at_breakpoint(0x2000);
  CHECK(f.stops.empty());
  CHECK(f.ops.pc_of(InRange::kPid) == kPage);
  CHECK(f.ops.log.back() == "cont 100 sig 0");
  CHECK(f.ops.memory[0x2000] == 0xcc);
}

TEST_CASE("in non-stop, without a page the hit is told at once: no other thread is stopped, none stepped over in place") {
  FalseConditionBesideAnotherThread f(true);
  f.trap_at_breakpoint(0x2000);
  f.syscall_made(static_cast<std::uint64_t>(-1));
  f.ops.log.clear();
  f.trap_at_breakpoint(0x2000);
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].tid == InRange::kPid);
  CHECK(f.ops.memory[0x2000] == 0xcc);
  for (const auto& line : f.ops.log) CHECK(line.find("101") == std::string::npos);  // the other thread runs on
}

namespace {

bool resumed(const ScriptedOps& ops, pid_t tid) {
  std::string cont = "cont " + std::to_string(tid) + " ";
  return std::any_of(ops.log.begin(), ops.log.end(), [&](const std::string& line) { return line.starts_with(cont); });
}

}  // namespace

TEST_CASE("a false hit met while another thread maps the page waits there, untold, and goes on out of line after") {
  for (bool non_stop : {false, true}) {
    CAPTURE(non_stop);
    FalseConditionBesideAnotherThread f(non_stop);
    f.trap_at_breakpoint(0x2000);  // the first hit maps the page
    f.ops.log.clear();
    f.trap_at_breakpoint(0x2000, InRange::kOther);
    CHECK(f.stops.empty());
    CHECK_FALSE(resumed(f.ops, InRange::kOther));
    for (const auto& line : f.ops.log) CHECK(line.find("interrupt") == std::string::npos);  // nothing else stops
    f.syscall_made(kPage);
    CHECK(resumed(f.ops, InRange::kOther));
    CHECK(f.ops.pc_of(InRange::kOther) == 0x2000);  // at the breakpoint, to run into it again
    f.ops.log.clear();
    f.trap_at_breakpoint(0x2000, InRange::kOther);
    CHECK(f.stops.empty());
    CHECK(f.ops.pc_of(InRange::kOther) == kPage);
    CHECK(f.ops.log.back() == "cont 101 sig 0");
  }
}

TEST_CASE("in non-stop, a thread waiting for the page that gdb stops is gdb's: told, and left stopped when the page is made") {
  FalseConditionBesideAnotherThread f(true);
  f.trap_at_breakpoint(0x2000);
  f.trap_at_breakpoint(0x2000, InRange::kOther);
  f.engine.stop_threads({InRange::kOther});
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].tid == InRange::kOther);
  CHECK(f.stops[0].host_signal == 0);
  f.ops.log.clear();
  f.syscall_made(kPage);
  CHECK_FALSE(resumed(f.ops, InRange::kOther));
  CHECK(resumed(f.ops, InRange::kPid));
}

TEST_CASE("a page that cannot be made sends the waiting thread back to its breakpoint, and its hit is then told") {
  FalseConditionBesideAnotherThread f;
  f.trap_at_breakpoint(0x2000);
  f.trap_at_breakpoint(0x2000, InRange::kOther);
  f.syscall_made(static_cast<std::uint64_t>(-12));  // -ENOMEM
  CHECK(resumed(f.ops, InRange::kOther));
  CHECK(f.stops.empty());
  f.ops.log.clear();
  f.trap_at_breakpoint(0x2000, InRange::kOther);
  // kPid runs too: the hit is gdb's to judge, told once kPid has stopped.
  CHECK(f.ops.log == std::vector<std::string>{"interrupt 100"});
}

TEST_CASE("in non-stop, a thread gdb asked to stop does not wait for the page: its hit is told, so gdb hears of its stop") {
  FalseConditionBesideAnotherThread f(true);
  f.trap_at_breakpoint(0x2000);  // the first hit maps the page
  f.engine.stop_threads({InRange::kOther});
  REQUIRE(f.stops.empty());  // its interrupt is on the way
  f.trap_at_breakpoint(0x2000, InRange::kOther);  // the trap came first
  REQUIRE(f.stops.size() == 1);
  CHECK(f.stops[0].tid == InRange::kOther);
  CHECK(f.stops[0].software_breakpoint);
}
