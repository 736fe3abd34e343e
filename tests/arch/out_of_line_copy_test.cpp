// x86-64 instructions copied to run elsewhere (Capstone decodes them).
#include <doctest/doctest.h>

#include <vector>

#include "arch/arch.hpp"

using Bytes = std::vector<std::uint8_t>;

namespace {

const arch::Arch& x86() { return arch::arch_by_name("x86_64"); }

Bytes little_endian(std::uint64_t v, unsigned n) {
  Bytes out;
  for (unsigned i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  return out;
}

}  // namespace

TEST_CASE("x86-64: an instruction copied elsewhere is followed by a jump back to the one after it") {
  const Bytes mov = {0x8b, 0x45, 0xfc, 0x48, 0x63};  // mov -0x4(%rbp),%eax; then the next instruction
  auto copy = x86().out_of_line_copy(0x4012a5, mov, 0x3f0000);
  REQUIRE(copy);
  CHECK(copy->length == 3);
  Bytes expected = {0x8b, 0x45, 0xfc, 0xe9};
  for (auto b : little_endian(static_cast<std::uint32_t>(0x4012a8 - (0x3f0000 + 3 + 5)), 4)) expected.push_back(b);
  CHECK(copy->bytes == expected);
  // Beyond 2 GiB: an absolute jump through the word after it.
  copy = x86().out_of_line_copy(0x4012a5, mov, 0x7fff00000000);
  REQUIRE(copy);
  expected = {0x8b, 0x45, 0xfc, 0xff, 0x25, 0, 0, 0, 0};
  for (auto b : little_endian(0x4012a8, 8)) expected.push_back(b);
  CHECK(copy->bytes == expected);
}

TEST_CASE("x86-64: a rip-relative operand is moved to reach the same memory from the copy, or refused") {
  const Bytes load = {0x48, 0x8b, 0x05, 0xfe, 0x2d, 0x00, 0x00};  // mov 0x2dfe(%rip),%rax  (0x4040b0)
  auto copy = x86().out_of_line_copy(0x4012ab, load, 0x3f0000);
  REQUIRE(copy);
  REQUIRE(copy->length == 7);
  std::int32_t displacement = 0;
  for (int i = 0; i < 4; ++i) displacement |= static_cast<std::int32_t>(copy->bytes[3 + i]) << (8 * i);
  CHECK(0x3f0000 + 7 + static_cast<std::int64_t>(displacement) == 0x4040b0);
  CHECK(copy->bytes[7] == 0xe9);
  CHECK_FALSE(x86().out_of_line_copy(0x4012ab, load, 0x7fff00000000));  // out of reach
}

TEST_CASE("x86-64: what moves the pc or enters the kernel is not copied") {
  for (const Bytes& code : {Bytes{0xe8, 0, 0, 0, 0},  // call
                            Bytes{0xc3},              // ret
                            Bytes{0x74, 0x05},        // je
                            Bytes{0xff, 0xe0},        // jmp *%rax
                            Bytes{0x0f, 0x05},        // syscall
                            Bytes{0xcc},              // int3
                            Bytes{0xe2, 0xfe}})       // loop
    CHECK_FALSE(x86().out_of_line_copy(0x1000, code, 0x2000));
  CHECK_FALSE(arch::arch_by_name("ppc64").out_of_line_copy(0x1000, Bytes{0x60, 0, 0, 0}, 0x2000));
}
