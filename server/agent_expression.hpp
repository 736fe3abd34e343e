#pragma once
// gdb's agent expressions (the "Agent Expressions" appendix of gdb's manual):
// the bytecode gdb sends with a breakpoint's condition (Z0 ...;X len,bytes)
// so the stub decides itself whether a hit is worth a stop. A stack of 64-bit
// values; registers and memory come from the stopped thread.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ustub {

struct AgentContext {
  // gdb's register number (the target description's order): the value, or
  // nullopt when it cannot be read.
  std::function<std::optional<std::uint64_t>(unsigned regnum)> read_register;
  // `size` bytes (1, 2, 4, 8) at `address` in the program's byte order,
  // as an unsigned value; nullopt when unreadable.
  std::function<std::optional<std::uint64_t>(std::uint64_t address, unsigned size)> read_memory;
  // The `printf` bytecode (a dprintf's command): its format string (without
  // the NUL) and arguments, first argument first. "" when printed, else why
  // not. Unset: printf is an error, as in a condition.
  std::function<std::string(std::string_view format, std::span<const std::uint64_t> args)> printf{};
};

struct AgentResult {
  std::optional<std::int64_t> value;  // the top of the stack at `end`
  std::string error;                  // why there is none
  bool reached_end = false;           // a command (printf) leaves no value, and ends well
};

// Runs `bytecode` to its `end`. Anything it cannot do (floating point, trace
// state variables, printf without a context.printf, a bad jump, a stack out of bounds, too many steps,
// unreadable memory) is an error, never a guess: the caller then stops and
// lets gdb decide.
AgentResult evaluate_agent_expression(std::span<const std::uint8_t> bytecode, const AgentContext& context);

}  // namespace ustub
