#include <doctest/doctest.h>

#include <map>
#include <vector>

#include "server/agent_expression.hpp"
#include "server/agent_printf.hpp"

using namespace ustub;

namespace {

std::string printed(std::string_view format, std::vector<std::uint64_t> args,
                    std::map<std::uint64_t, std::string> strings = {}) {
  auto text = agent_printf(format, args, [&](std::uint64_t at) -> std::optional<std::string> {
    auto it = strings.find(at);
    if (it == strings.end()) return std::nullopt;
    return it->second;
  });
  if (auto* e = std::get_if<AgentPrintfError>(&text)) return "error: " + e->why;
  return std::get<std::string>(text);
}

}  // namespace

TEST_CASE("agent printf: integers by their length modifier, as C's printf reads them") {
  CHECK(printed("i=%d\n", {5}) == "i=5\n");
  CHECK(printed("%d %u", {0xffffffffull, 0xffffffffull}) == "-1 4294967295");  // int: 32 bits
  CHECK(printed("%ld", {static_cast<std::uint64_t>(-7)}) == "-7");
  CHECK(printed("%lld %llx", {1ull << 40, 255}) == "1099511627776 ff");
  CHECK(printed("%5d|%-4x|%#o|%c|100%%", {42, 10, 8, 'A'}) == "   42|a   |010|A|100%");
  CHECK(printed("%hhd %hu", {0x1ff, 0x10001}) == "-1 1");
  CHECK(printed("%zu %p", {3, 0x1000}) == "3 0x1000");
}

TEST_CASE("agent printf: gdb sends the format as typed, so its escapes are read here") {
  CHECK(printed(R"(visit %d\n)", {3}) == "visit 3\n");
  CHECK(printed(R"(a\tb\\c\"d)", {}) == "a\tb\\c\"d");
  CHECK(printed(R"(before"after)", {}) == "before");  // the closing quote ends it
  CHECK(printed(R"(\q)", {}) == "error: unrecognized escape \\q in the format");
}

TEST_CASE("agent printf: %s reads the program's string; a null pointer prints (null)") {
  CHECK(printed("name=%s.", {0x4000}, {{0x4000, "counter"}}) == "name=counter.");
  CHECK(printed("[%-6s]", {0}) == "[(null)]");
  CHECK(printed("%s", {0x5000}).starts_with("error: cannot read the string at 0x5000"));
}

TEST_CASE("agent printf: what it cannot do safely is an error, not a guess") {
  CHECK(printed("%n", {0}).starts_with("error: %n is not supported"));
  CHECK(printed("%*d", {3, 4}).starts_with("error:"));     // a width from the arguments
  CHECK(printed("%1$d", {3}).starts_with("error:"));       // positional
  CHECK(printed("%f", {0}).find("floating point") != std::string::npos);
  CHECK(printed("%ls", {0}).starts_with("error: wide strings"));
  CHECK(printed("%d %d", {1}) == "error: more conversions than arguments");
  CHECK(printed("50%", {}) == "error: the format ends inside a conversion");
}

TEST_CASE("the printf bytecode: arguments pushed last first, then channel and function; format with its NUL") {
  // What gdb's gen_printf makes of  dprintf loc,"%d-%d\n", 7, 9:
  // const8 9; const8 7; const8 0 (channel); const8 0 (function); printf 2 "%d-%d\n\0"; end
  std::vector<std::uint8_t> code = {0x22, 9, 0x22, 7, 0x22, 0, 0x22, 0, 0x34, 2, 0, 7, '%', 'd', '-', '%', 'd', '\n', 0, 0x27};
  std::string out;
  AgentContext context{[](unsigned) { return std::optional<std::uint64_t>(); },
                       [](std::uint64_t, unsigned) { return std::optional<std::uint64_t>(); },
                       [&](std::string_view format, std::span<const std::uint64_t> args) {
                         auto text = agent_printf(format, args, [](std::uint64_t) { return std::nullopt; });
                         out += std::get<std::string>(text);
                         return std::string();
                       }};
  AgentResult r = evaluate_agent_expression(code, context);
  CHECK(r.reached_end);
  CHECK(out == "7-9\n");
  // In a condition (no printf allowed) it is an error; so is a format without its NUL.
  CHECK(!evaluate_agent_expression(code, {context.read_register, context.read_memory}).reached_end);
  code[18] = 'x';
  CHECK(evaluate_agent_expression(code, context).error == "unterminated format string in printf");
}
