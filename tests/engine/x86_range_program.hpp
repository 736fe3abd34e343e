#pragma once
// A little x86-64 program for engine tests that run a thread through code:
// a range with every kind of exit, and a single traced thread (or two) at its
// start, on the scripted kernel.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/ptrace.h>

#include <vector>

#include "arch/arch.hpp"
#include "server/engine.hpp"
#include "tests/engine/scripted_ops.hpp"

namespace ustub::testing {

inline constexpr std::uint64_t kStart = 0x1000;

// 0x1000 add $1,%rax        48 83 c0 01
// 0x1004 cmp $9,%rax        48 83 f8 09
// 0x1008 jne 0x1000         75 f6          back into the range
// 0x100a je  0x2000         0f 84 f0 0f 00 00   out of it
// 0x1010 call 0x3000        e8 eb 1f 00 00
// 0x1015 call *%rax         ff d0
// 0x1017 syscall            0f 05
// 0x1019 ret                c3
// end 0x101a
inline const std::vector<std::uint8_t> kRange = {0x48, 0x83, 0xc0, 0x01, 0x48, 0x83, 0xf8, 0x09, 0x75, 0xf6,
                                                 0x0f, 0x84, 0xf0, 0x0f, 0x00, 0x00, 0xe8, 0xeb, 0x1f, 0x00,
                                                 0x00, 0xff, 0xd0, 0x0f, 0x05, 0xc3};
inline constexpr std::uint64_t kEnd = kStart + 0x1a;

struct InRange {
  ScriptedOps ops;
  Engine engine{arch::arch_by_name("x86_64"), ops};
  std::vector<EngineStop> stops;
  static constexpr pid_t kPid = 100;
  static constexpr pid_t kOther = 101;

  explicit InRange(bool two_threads = false) {
    for (std::size_t i = 0; i < kRange.size(); ++i) ops.memory[kStart + i] = kRange[i];
    for (std::uint64_t a : {kEnd, std::uint64_t{0x2000}, std::uint64_t{0x3000}}) ops.memory[a] = 0x90;
    ops.set_pc(kPid, kStart);
    std::vector<pid_t> tids = {kPid};
    if (two_threads) {
      ops.set_pc(kOther, 0x2000);
      tids.push_back(kOther);
    }
    engine.adopt(kPid, tids, true, {EngineStop::Kind::Signal, kPid, SIGTRAP});
    engine.set_stop_handler([this](const EngineStop& s) { stops.push_back(s); });
  }
  ThreadResume range_step(pid_t tid = kPid) {
    return {tid, {.step = true, .host_signal = 0, .range_start = kStart, .range_end = kEnd}};
  }
  // The thread ran into the int3 at `address`: x86 reports the pc after it.
  void trap_at_breakpoint(std::uint64_t address, pid_t tid = kPid) {
    ops.set_pc(tid, address + 1);
    ops.traps[tid] = {SIGTRAP, 0x80 /* SI_KERNEL */};
    engine.handle_wait({tid, stopped_status(SIGTRAP)});
  }
  void single_step_to(std::uint64_t address) {
    ops.set_pc(kPid, address);
    ops.traps[kPid] = {SIGTRAP, 2 /* TRAP_TRACE */};
    engine.handle_wait({kPid, stopped_status(SIGTRAP)});
  }
};

}  // namespace ustub::testing
