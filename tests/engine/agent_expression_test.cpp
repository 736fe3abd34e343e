// gdb's agent-expression bytecode, as it arrives with breakpoint conditions.
#include <doctest/doctest.h>

#include <map>
#include <vector>

#include "server/agent_expression.hpp"

using namespace ustub;

namespace {

struct Machine {
  std::map<unsigned, std::uint64_t> registers;
  std::map<std::uint64_t, std::uint8_t> memory;  // little-endian bytes
  AgentContext context() {
    return {[this](unsigned regnum) -> std::optional<std::uint64_t> {
              auto it = registers.find(regnum);
              if (it == registers.end()) return std::nullopt;
              return it->second;
            },
            [this](std::uint64_t address, unsigned size) -> std::optional<std::uint64_t> {
              std::uint64_t v = 0;
              for (unsigned i = 0; i < size; ++i) {
                auto it = memory.find(address + i);
                if (it == memory.end()) return std::nullopt;
                v |= std::uint64_t{it->second} << (8 * i);
              }
              return v;
            }};
  }
  AgentResult run(std::vector<std::uint8_t> code) { return evaluate_agent_expression(code, context()); }
};

}  // namespace

TEST_CASE("agent expression: what gdb 13 sends for `value < 0` with value an int at CFA-20 (rbp+16-20)") {
  Machine m;
  m.registers[6] = 0x7fffffffe500;  // rbp
  std::uint32_t value = 19000;
  for (unsigned i = 0; i < 4; ++i) m.memory[0x7fffffffe4fc + i] = static_cast<std::uint8_t>(value >> (8 * i));
  std::vector<std::uint8_t> code = {0x26, 0x00, 0x06, 0x22, 0x10, 0x02, 0x22, 0xec, 0x16, 0x08, 0x02,
                                    0x19, 0x16, 0x20, 0x22, 0x00, 0x14, 0x27};
  CHECK(m.run(code).value == 0);
  value = static_cast<std::uint32_t>(-5);
  for (unsigned i = 0; i < 4; ++i) m.memory[0x7fffffffe4fc + i] = static_cast<std::uint8_t>(value >> (8 * i));
  CHECK(m.run(code).value == 1);
}

TEST_CASE("agent expression: arithmetic, comparisons and extensions follow gdb's definitions") {
  Machine m;
  // 7 - 9 = -2, signed less than 0 => 1
  CHECK(m.run({0x22, 0x07, 0x22, 0x09, 0x03, 0x22, 0x00, 0x14, 0x27}).value == 1);
  // unsigned: (-2 as u64) < 0 => 0
  CHECK(m.run({0x22, 0x07, 0x22, 0x09, 0x03, 0x22, 0x00, 0x15, 0x27}).value == 0);
  // 0xff sign-extended from 8 bits is -1; zero-extended stays 255
  CHECK(m.run({0x22, 0xff, 0x16, 0x08, 0x27}).value == -1);
  CHECK(m.run({0x23, 0x01, 0xff, 0x2a, 0x08, 0x27}).value == 0xff);
  // const16/32/64 are big-endian; 0x1234 * 2 == 0x2468
  CHECK(m.run({0x23, 0x12, 0x34, 0x22, 0x02, 0x04, 0x27}).value == 0x2468);
  CHECK(m.run({0x25, 0, 0, 0, 1, 0, 0, 0, 0, 0x24, 0, 0, 0, 1, 0x02, 0x27}).value == 0x100000001);
  // -7 / 2 == -3, -7 % 2 == -1 (C's rules), 7 >> 1 == 3, 1 << 4 == 16
  CHECK(m.run({0x22, 0xf9, 0x16, 0x08, 0x22, 0x02, 0x05, 0x27}).value == -3);
  CHECK(m.run({0x22, 0xf9, 0x16, 0x08, 0x22, 0x02, 0x07, 0x27}).value == -1);
  CHECK(m.run({0x22, 0x07, 0x22, 0x01, 0x0b, 0x27}).value == 3);
  CHECK(m.run({0x22, 0x01, 0x22, 0x04, 0x09, 0x27}).value == 16);
  // log_not, equal, bit ops, swap, dup, pick, rot
  CHECK(m.run({0x22, 0x00, 0x0e, 0x27}).value == 1);
  CHECK(m.run({0x22, 0x05, 0x22, 0x05, 0x13, 0x27}).value == 1);
  CHECK(m.run({0x22, 0x0c, 0x22, 0x0a, 0x0f, 0x22, 0x01, 0x10, 0x27}).value == 9);
  CHECK(m.run({0x22, 0x01, 0x22, 0x02, 0x2b, 0x03, 0x27}).value == 1);  // swap: 2 - 1
  CHECK(m.run({0x22, 0x03, 0x28, 0x04, 0x27}).value == 9);
  CHECK(m.run({0x22, 0x05, 0x22, 0x06, 0x32, 0x01, 0x27}).value == 5);
  CHECK(m.run({0x22, 0x01, 0x22, 0x02, 0x22, 0x03, 0x33, 0x29, 0x29, 0x27}).value == 3);  // rot: c a b
}

TEST_CASE("agent expression: if_goto and goto jump to absolute offsets") {
  Machine m;
  // 0: const8 1; 2: if_goto 8; 5: const8 7; 7: end; 8: const8 9; 10: end
  CHECK(m.run({0x22, 0x01, 0x20, 0x00, 0x08, 0x22, 0x07, 0x27, 0x22, 0x09, 0x27}).value == 9);
  CHECK(m.run({0x22, 0x00, 0x20, 0x00, 0x08, 0x22, 0x07, 0x27, 0x22, 0x09, 0x27}).value == 7);
}

TEST_CASE("agent expression: what cannot be done is an error, never a value") {
  Machine m;
  CHECK_FALSE(m.run({0x02, 0x27}).value);                    // stack underflow
  CHECK_FALSE(m.run({0x22, 0x01, 0x22, 0x00, 0x05, 0x27}).value);  // division by zero
  CHECK_FALSE(m.run({0x22, 0x10, 0x1a, 0x27}).value);        // unreadable memory
  CHECK_FALSE(m.run({0x26, 0x00, 0x63, 0x27}).value);        // unreadable register
  CHECK_FALSE(m.run({0x01, 0x27}).value);                    // floating point
  CHECK_FALSE(m.run({0x2c, 0x00, 0x01, 0x27}).value);        // trace state variables
  CHECK_FALSE(m.run({0x21, 0x00, 0x00}).value);              // a loop: stopped after too many steps
  CHECK_FALSE(m.run({0x21, 0x00, 0x40}).value);              // a jump out of the bytecode
  CHECK_FALSE(m.run({0x22}).value);                          // truncated
  CHECK_FALSE(m.run({0x22, 0x01}).value);                    // no end
  auto r = m.run({0x27});
  CHECK_FALSE(r.value);
  CHECK(r.error == "empty stack at end");
}
