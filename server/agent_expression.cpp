#include "server/agent_expression.hpp"

#include <vector>

namespace ustub {

namespace {

// Opcodes, as numbered in gdb's common/ax.def.
enum Op : std::uint8_t {
  kFloat = 0x01, kAdd = 0x02, kSub = 0x03, kMul = 0x04, kDivSigned = 0x05, kDivUnsigned = 0x06,
  kRemSigned = 0x07, kRemUnsigned = 0x08, kLsh = 0x09, kRshSigned = 0x0a, kRshUnsigned = 0x0b,
  kTrace = 0x0c, kTraceQuick = 0x0d, kLogNot = 0x0e, kBitAnd = 0x0f, kBitOr = 0x10, kBitXor = 0x11,
  kBitNot = 0x12, kEqual = 0x13, kLessSigned = 0x14, kLessUnsigned = 0x15, kExt = 0x16, kRef8 = 0x17,
  kRef16 = 0x18, kRef32 = 0x19, kRef64 = 0x1a, kIfGoto = 0x20, kGoto = 0x21, kConst8 = 0x22,
  kConst16 = 0x23, kConst32 = 0x24, kConst64 = 0x25, kReg = 0x26, kEnd = 0x27, kDup = 0x28, kPop = 0x29,
  kZeroExt = 0x2a, kSwap = 0x2b, kTracev = 0x2e, kTracenz = 0x2f, kTrace16 = 0x30, kPick = 0x32, kRot = 0x33, kPrintf = 0x34,
};

constexpr std::size_t kMaxStack = 1024;
constexpr std::size_t kMaxSteps = 100000;  // a loop in the bytecode must not hang the stub

std::int64_t sign_extend(std::uint64_t v, unsigned bits) {
  if (bits == 0 || bits >= 64) return static_cast<std::int64_t>(v);
  std::uint64_t sign = std::uint64_t{1} << (bits - 1);
  v &= (sign << 1) - 1;
  return static_cast<std::int64_t>((v ^ sign) - sign);
}

std::uint64_t zero_extend(std::uint64_t v, unsigned bits) {
  return bits >= 64 ? v : v & ((std::uint64_t{1} << bits) - 1);
}

}  // namespace

AgentResult evaluate_agent_expression(std::span<const std::uint8_t> code, const AgentContext& context) {
  std::vector<std::uint64_t> stack;
  std::size_t pc = 0;
  auto fail = [](std::string why) { return AgentResult{std::nullopt, std::move(why)}; };
  // Immediate operands are big-endian.
  auto immediate = [&](unsigned bytes) -> std::optional<std::uint64_t> {
    if (pc + bytes > code.size()) return std::nullopt;
    std::uint64_t v = 0;
    for (unsigned i = 0; i < bytes; ++i) v = v << 8 | code[pc + i];
    pc += bytes;
    return v;
  };
  for (std::size_t steps = 0; steps < kMaxSteps; ++steps) {
    if (pc >= code.size()) return fail("ran off the end of the bytecode");
    std::uint8_t op = code[pc++];
    // Operands each opcode pops: checked once, here.
    unsigned pops = 0;
    switch (op) {
      case kAdd: case kSub: case kMul: case kDivSigned: case kDivUnsigned: case kRemSigned: case kRemUnsigned:
      case kLsh: case kRshSigned: case kRshUnsigned: case kBitAnd: case kBitOr: case kBitXor: case kEqual:
      case kLessSigned: case kLessUnsigned: case kSwap: case kTrace: case kTracenz:
        pops = 2; break;
      case kLogNot: case kBitNot: case kExt: case kZeroExt: case kRef8: case kRef16: case kRef32: case kRef64:
      case kIfGoto: case kDup: case kPop: case kTraceQuick: case kTrace16:
        pops = 1; break;
      case kRot:
        pops = 3; break;
      default:
        break;
    }
    if (stack.size() < pops) return fail("stack underflow");
    auto pop = [&] {
      std::uint64_t v = stack.back();
      stack.pop_back();
      return v;
    };
    switch (op) {
      case kAdd: case kSub: case kMul: case kDivSigned: case kDivUnsigned: case kRemSigned: case kRemUnsigned:
      case kLsh: case kRshSigned: case kRshUnsigned: case kBitAnd: case kBitOr: case kBitXor: case kEqual:
      case kLessSigned: case kLessUnsigned: {
        std::uint64_t b = pop(), a = pop();
        auto sa = static_cast<std::int64_t>(a), sb = static_cast<std::int64_t>(b);
        std::uint64_t r = 0;
        switch (op) {
          case kAdd: r = a + b; break;
          case kSub: r = a - b; break;
          case kMul: r = a * b; break;
          case kDivSigned:
          case kRemSigned:
            if (sb == 0) return fail("division by zero");
            if (sa == INT64_MIN && sb == -1) r = op == kDivSigned ? a : 0;
            else r = static_cast<std::uint64_t>(op == kDivSigned ? sa / sb : sa % sb);
            break;
          case kDivUnsigned:
          case kRemUnsigned:
            if (b == 0) return fail("division by zero");
            r = op == kDivUnsigned ? a / b : a % b;
            break;
          case kLsh: r = b >= 64 ? 0 : a << b; break;
          case kRshSigned: r = static_cast<std::uint64_t>(b >= 64 ? (sa < 0 ? -1 : 0) : sa >> b); break;
          case kRshUnsigned: r = b >= 64 ? 0 : a >> b; break;
          case kBitAnd: r = a & b; break;
          case kBitOr: r = a | b; break;
          case kBitXor: r = a ^ b; break;
          case kEqual: r = a == b; break;
          case kLessSigned: r = sa < sb; break;
          case kLessUnsigned: r = a < b; break;
        }
        stack.push_back(r);
        break;
      }
      case kLogNot: stack.back() = stack.back() == 0; break;
      case kBitNot: stack.back() = ~stack.back(); break;
      case kExt:
      case kZeroExt: {
        auto bits = immediate(1);
        if (!bits) return fail("truncated ext");
        stack.back() = op == kExt ? static_cast<std::uint64_t>(sign_extend(stack.back(), static_cast<unsigned>(*bits)))
                                  : zero_extend(stack.back(), static_cast<unsigned>(*bits));
        break;
      }
      case kRef8: case kRef16: case kRef32: case kRef64: {
        unsigned size = op == kRef8 ? 1 : op == kRef16 ? 2 : op == kRef32 ? 4 : 8;
        auto v = context.read_memory(stack.back(), size);
        if (!v) return fail("cannot read memory");
        stack.back() = *v;
        break;
      }
      case kIfGoto:
      case kGoto: {
        auto target = immediate(2);
        if (!target || *target >= code.size()) return fail("jump out of the bytecode");
        if (op == kGoto || pop() != 0) pc = static_cast<std::size_t>(*target);
        break;
      }
      case kConst8: case kConst16: case kConst32: case kConst64: {
        unsigned bytes = op == kConst8 ? 1 : op == kConst16 ? 2 : op == kConst32 ? 4 : 8;
        auto v = immediate(bytes);
        if (!v) return fail("truncated constant");
        stack.push_back(*v);
        break;
      }
      case kReg: {
        auto regnum = immediate(2);
        if (!regnum) return fail("truncated reg");
        auto v = context.read_register(static_cast<unsigned>(*regnum));
        if (!v) return fail("cannot read register " + std::to_string(*regnum));
        stack.push_back(*v);
        break;
      }
      case kEnd:
        if (stack.empty()) return {std::nullopt, "empty stack at end", true};
        return {static_cast<std::int64_t>(stack.back()), {}, true};
      case kDup: stack.push_back(stack.back()); break;
      case kPop: stack.pop_back(); break;
      case kSwap: std::swap(stack[stack.size() - 1], stack[stack.size() - 2]); break;
      case kPick: {
        auto n = immediate(1);
        if (!n || *n >= stack.size()) return fail("pick out of the stack");
        stack.push_back(stack[stack.size() - 1 - static_cast<std::size_t>(*n)]);
        break;
      }
      case kRot: {  // a b c => c a b
        std::uint64_t c = pop(), b = pop(), a = pop();
        stack.push_back(c);
        stack.push_back(a);
        stack.push_back(b);
        break;
      }
      // Collecting for tracepoints means nothing in a condition: the operands go.
      case kTrace: case kTracenz: stack.pop_back(); stack.pop_back(); break;
      case kTraceQuick:
        if (!immediate(1)) return fail("truncated trace_quick");
        break;
      case kTrace16:
        if (!immediate(2)) return fail("truncated trace16");
        break;
      case kTracev:
        if (!immediate(2)) return fail("truncated tracev");
        break;
      case kPrintf: {
        // gdb pushes the arguments last first, then the channel and the
        // function (both unused: the stub prints, as gdbserver does).
        auto nargs = immediate(1);
        auto length = immediate(2);
        if (!nargs || !length || *length == 0 || pc + *length > code.size()) return fail("truncated printf");
        std::string_view format(reinterpret_cast<const char*>(code.data() + pc), static_cast<std::size_t>(*length));
        pc += static_cast<std::size_t>(*length);
        if (format.back() != '\0') return fail("unterminated format string in printf");
        format.remove_suffix(1);
        if (stack.size() < 2 + *nargs) return fail("stack underflow");
        stack.pop_back();
        stack.pop_back();
        std::vector<std::uint64_t> args(stack.rbegin(), stack.rbegin() + static_cast<std::ptrdiff_t>(*nargs));
        stack.resize(stack.size() - static_cast<std::size_t>(*nargs));
        if (!context.printf) return fail("printf is not allowed here");
        if (std::string why = context.printf(format, args); !why.empty()) return fail(why);
        break;
      }
      default:
        return fail("unsupported opcode " + std::to_string(op));
    }
    if (stack.size() > kMaxStack) return fail("stack overflow");
  }
  return fail("too many steps");
}

}  // namespace ustub
