#pragma once
// The agent's printf (gdb's `printf` bytecode, which `dprintf` sends with
// `set dprintf-style agent`): the format string gdb gave, with its arguments
// as the 64-bit values the bytecode computed. gdbserver formats them with
// the C library's printf; so does this, one conversion at a time, after
// checking each conversion is one that cannot read beyond its argument.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace ustub {

// The NUL-terminated string at an address in the program (for %s); nullopt
// when unreadable.
using ProgramStringReader = std::function<std::optional<std::string>(std::uint64_t address)>;

struct AgentPrintfError {
  std::string why;
};

// The formatted text, or why the format cannot be used (an unknown or unsafe
// conversion — %n, '*' widths, positional arguments — floating point, wide
// strings, too few arguments).
std::variant<std::string, AgentPrintfError> agent_printf(std::string_view format,
                                                         std::span<const std::uint64_t> args,
                                                         const ProgramStringReader& read_string);

}  // namespace ustub
