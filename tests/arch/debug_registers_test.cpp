#include <doctest/doctest.h>

#include <cerrno>

#include "arch/x86_64/debug_registers.hpp"

using namespace arch;

TEST_CASE("watched ranges split into aligned 1/2/4/8-byte pieces") {
  using P = std::vector<std::pair<std::uint64_t, std::uint64_t>>;
  CHECK(x86_watch_pieces(0x1000, 4) == P{{0x1000, 4}});
  CHECK(x86_watch_pieces(0x1000, 8) == P{{0x1000, 8}});
  CHECK(x86_watch_pieces(0x1001, 4) == P{{0x1001, 1}, {0x1002, 2}, {0x1004, 1}});
  CHECK(x86_watch_pieces(0x1000, 16) == P{{0x1000, 8}, {0x1008, 8}});
}

TEST_CASE("DR7 enables each used slot with its access type and length") {
  X86DebugRegisters dr;
  REQUIRE(dr.insert(WatchKind::Write, 0x1000, 4) == 0);     // slot 0: RW=01 LEN=11
  REQUIRE(dr.insert(WatchKind::Access, 0x2000, 8) == 0);    // slot 1: RW=11 LEN=10
  REQUIRE(dr.insert(WatchKind::Execute, 0x3000, 1) == 0);   // slot 2: RW=00 LEN=00
  REQUIRE(dr.insert(WatchKind::Read, 0x4000, 2) == 0);      // slot 3: RW=11 (no read-only on x86) LEN=01
  std::uint64_t expected = 0b01010101;                       // L0..L3
  expected |= 0b1101ull << 16;                               // slot 0
  expected |= 0b1011ull << 20;                               // slot 1
  expected |= 0b0000ull << 24;                               // slot 2
  expected |= 0b0111ull << 28;                               // slot 3
  CHECK(dr.dr7() == expected);
  auto words = dr.thread_words();
  REQUIRE(words.size() == 6);
  CHECK(words.front() == std::pair<unsigned, std::uint64_t>{848 + 56, 0});  // DR7 off first
  CHECK(words[1] == std::pair<unsigned, std::uint64_t>{848, 0x1000});
  CHECK(words.back() == std::pair<unsigned, std::uint64_t>{848 + 56, expected});
}

TEST_CASE("running out of slots is ENOSPC and changes nothing") {
  X86DebugRegisters dr;
  REQUIRE(dr.insert(WatchKind::Write, 0x1000, 8) == 0);
  REQUIRE(dr.insert(WatchKind::Write, 0x2000, 8) == 0);
  std::uint64_t before = dr.dr7();
  CHECK(dr.insert(WatchKind::Write, 0x3001, 7) == ENOSPC);  // needs 3 pieces, 2 slots left
  CHECK(dr.dr7() == before);
  CHECK(dr.insert(WatchKind::Write, 0x3000, 16) == 0);  // 2 pieces fit
  CHECK(dr.insert(WatchKind::Write, 0x4000, 1) == ENOSPC);
}

TEST_CASE("the same watchpoint asked twice shares its slot until removed twice") {
  X86DebugRegisters dr;
  REQUIRE(dr.insert(WatchKind::Write, 0x1000, 4) == 0);
  REQUIRE(dr.insert(WatchKind::Write, 0x1000, 4) == 0);
  dr.remove(WatchKind::Write, 0x1000, 4);
  CHECK_FALSE(dr.empty());
  dr.remove(WatchKind::Write, 0x1000, 4);
  CHECK(dr.empty());
  CHECK(dr.dr7() == 0);
}

TEST_CASE("DR6 names the slot that fired") {
  X86DebugRegisters dr;
  REQUIRE(dr.insert(WatchKind::Write, 0x1000, 4) == 0);
  REQUIRE(dr.insert(WatchKind::Access, 0x2000, 4) == 0);
  auto hit = dr.decode_status(0xffff0ff2);  // B1, with the bits that always read as one
  REQUIRE(hit);
  CHECK(hit->kind == WatchKind::Access);
  CHECK(hit->address == 0x2000);
  CHECK_FALSE(dr.decode_status(0xffff4ff0));  // BS alone: a single-step, no slot
}

TEST_CASE("a write that fires a read watchpoint's slot and a write watchpoint's is told as the write") {
  X86DebugRegisters dr;
  REQUIRE(dr.insert(WatchKind::Read, 0x1000, 4) == 0);   // slot 0, fires on writes too
  REQUIRE(dr.insert(WatchKind::Write, 0x1000, 4) == 0);  // slot 1
  auto hit = dr.decode_status(0xffff0ff3);               // B0 and B1
  REQUIRE(hit);
  CHECK(hit->kind == WatchKind::Write);
  hit = dr.decode_status(0xffff0ff1);  // B0 alone: a read
  REQUIRE(hit);
  CHECK(hit->kind == WatchKind::Read);
}
