// The powerpc64 rules, on scripted register images (they run on any host).
#include <doctest/doctest.h>
#include <signal.h>

#include <cstring>

#include "arch/arch.hpp"
#include "server/engine.hpp"
#include "tests/engine/scripted_ops.hpp"

using namespace ustub;
using namespace ustub::testing;

namespace {

constexpr pid_t kPid = 300;
constexpr unsigned kNipOffset = 32 * 8, kTrapOffset = 40 * 8;  // struct pt_regs slots

struct Ppc64Process {
  ScriptedOps ops;
  Engine engine{arch::arch_by_name("ppc64"), ops};

  Ppc64Process() {
    ops.general[kPid].assign(48 * 8, 0);
    set(kNipOffset, 0x10000b44);
    set(kTrapOffset, 0xc00);  // stopped in a syscall, which the kernel would restart
    engine.adopt(kPid, {kPid}, true, {EngineStop::Kind::Signal, kPid, SIGTRAP});
  }
  void set(unsigned offset, std::uint64_t value) { std::memcpy(ops.general[kPid].data() + offset, &value, 8); }
  std::uint64_t get(unsigned offset) {
    std::uint64_t value;
    std::memcpy(&value, ops.general[kPid].data() + offset, 8);
    return value;
  }
  unsigned regnum(std::string_view name) { return engine.layout().find_by_name(name)->regnum; }
  bool write(std::string_view name, std::uint64_t value) {
    std::uint8_t bytes[8];
    std::memcpy(bytes, &value, 8);  // the tests run little-endian, as ppc64le
    return engine.write_register(kPid, regnum(name), bytes);
  }
};

}  // namespace

TEST_CASE("ppc64: moving the pc sets trap to -1, so the kernel does not restart a syscall behind gdb") {
  Ppc64Process p;
  REQUIRE(p.write("pc", 0x10000b60));
  p.engine.resume({{kPid, {}}});  // registers go back to the thread before it runs
  CHECK(p.get(kNipOffset) == 0x10000b60);
  CHECK(p.get(kTrapOffset) == ~std::uint64_t{0});
}

TEST_CASE("ppc64: writing the pc it already has leaves trap alone") {
  Ppc64Process p;
  REQUIRE(p.write("pc", 0x10000b44));
  REQUIRE(p.write("r3", 42));
  p.engine.resume({{kPid, {}}});
  CHECK(p.get(kTrapOffset) == 0xc00);
  CHECK(p.get(3 * 8) == 42);
}

TEST_CASE("ppc64: trap and the syscall number are not expedited; pc and r1 are") {
  Ppc64Process p;
  std::vector<std::string_view> names;
  for (const auto* e : p.engine.layout().expedited()) names.push_back(e->info->name);
  CHECK(names == std::vector<std::string_view>{"r1", "pc"});
}

namespace {

constexpr unsigned kCcrOffset = 38 * 8, kR3Offset = 3 * 8;
constexpr std::uint64_t kSummaryOverflow = 0x10000000;

// Stopped at the exit of a syscall made with `trap_value`'s instruction, which
// the kernel failed with ENOSYS (the syscall was skipped at its entry).
void at_skipped_syscall_exit(Ppc64Process& p, std::uint64_t trap_value) {
  p.engine.set_catch_syscalls(true);
  p.engine.resume({{kPid, {}}});
  p.ops.syscall_entry[kPid] = false;
  p.set(kTrapOffset, trap_value);
  bool sc = (trap_value & ~0xfull) == 0xc00;
  p.set(kR3Offset, sc ? 38 : static_cast<std::uint64_t>(-38));
  p.set(kCcrOffset, sc ? kSummaryOverflow | 0x2 : 0x2);
  p.engine.handle_wait({kPid, (((SIGTRAP | 0x80) << 8) | 0x7f)});
}

}  // namespace

TEST_CASE("ppc64: a result gdb writes at an `sc` syscall's exit is what the program sees, CR0.SO included") {
  Ppc64Process p;
  at_skipped_syscall_exit(p, 0xc01);
  REQUIRE(p.write("r3", 4242));
  p.engine.resume({{kPid, {}}});
  CHECK(p.get(kR3Offset) == 4242);
  CHECK(p.get(kCcrOffset) == 0x2);  // success: SO cleared, the other fields kept
}

TEST_CASE("ppc64: an error gdb writes at an `sc` exit (-errno, as on x86) becomes +errno with CR0.SO set") {
  Ppc64Process p;
  at_skipped_syscall_exit(p, 0xc00);
  REQUIRE(p.write("r3", static_cast<std::uint64_t>(-1)));  // -EPERM
  p.engine.resume({{kPid, {}}});
  CHECK(p.get(kR3Offset) == 1);
  CHECK(p.get(kCcrOffset) == (kSummaryOverflow | 0x2));
}

TEST_CASE("ppc64: at an `scv` exit, and outside syscall stops, r3 is only r3") {
  Ppc64Process p;
  at_skipped_syscall_exit(p, 0x3000);
  REQUIRE(p.write("r3", 4242));
  p.engine.resume({{kPid, {}}});
  CHECK(p.get(kR3Offset) == 4242);
  CHECK(p.get(kCcrOffset) == 0x2);

  Ppc64Process q;  // at a breakpoint, say: nothing is a syscall's result
  q.set(kCcrOffset, kSummaryOverflow);
  REQUIRE(q.write("r3", 4242));
  q.engine.resume({{kPid, {}}});
  CHECK(q.get(kCcrOffset) == kSummaryOverflow);
}
