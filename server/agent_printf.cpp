#include "server/agent_printf.hpp"

#include <cstdio>

namespace ustub {

namespace {

enum class Length { Int, Char, Short, Long, LongLong, Size, IntMax, PtrDiff };

// printf of one conversion of one argument, the way C varargs would read it.
template <typename T>
std::string format_one(const std::string& spec, T value) {
  int n = std::snprintf(nullptr, 0, spec.c_str(), value);
  if (n < 0) return {};
  std::string out(static_cast<std::size_t>(n) + 1, '\0');
  std::snprintf(out.data(), out.size(), spec.c_str(), value);
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string format_integer(const std::string& spec, Length length, bool is_signed, std::uint64_t v) {
  switch (length) {
    case Length::Char:
    case Length::Short:
    case Length::Int:
      return is_signed ? format_one(spec, static_cast<int>(v)) : format_one(spec, static_cast<unsigned>(v));
    case Length::Long:
      return is_signed ? format_one(spec, static_cast<long>(v)) : format_one(spec, static_cast<unsigned long>(v));
    case Length::LongLong:
      return is_signed ? format_one(spec, static_cast<long long>(v))
                       : format_one(spec, static_cast<unsigned long long>(v));
    case Length::Size:
      return is_signed ? format_one(spec, static_cast<long>(v)) : format_one(spec, static_cast<std::size_t>(v));
    case Length::IntMax:
      return is_signed ? format_one(spec, static_cast<std::intmax_t>(v)) : format_one(spec, static_cast<std::uintmax_t>(v));
    case Length::PtrDiff:
      return format_one(spec, static_cast<std::ptrdiff_t>(v));
  }
  return {};
}

}  // namespace

std::variant<std::string, AgentPrintfError> agent_printf(std::string_view format,
                                                         std::span<const std::uint64_t> args,
                                                         const ProgramStringReader& read_string) {
  std::string out;
  std::size_t next_arg = 0;
  std::size_t i = 0;
  auto fail = [](std::string why) { return AgentPrintfError{std::move(why)}; };
  while (i < format.size()) {
    if (format[i] == '"') break;  // the end of the quoted format, for gdb as for gdbserver
    if (format[i] == '\\') {
      // gdb sends the format as typed: its escapes are read here, as gdbserver does.
      static constexpr std::string_view kEscaped = "\\abefnrtv\"", kMeant = "\\\a\b\x1b\f\n\r\t\v\"";
      auto which = i + 1 < format.size() ? kEscaped.find(format[i + 1]) : std::string_view::npos;
      if (which == std::string_view::npos)
        return fail("unrecognized escape \\" + std::string(format.substr(i + 1, 1)) + " in the format");
      out += kMeant[which];
      i += 2;
      continue;
    }
    if (format[i] != '%') {
      out += format[i++];
      continue;
    }
    std::size_t start = i++;
    if (i < format.size() && format[i] == '%') {
      out += '%';
      ++i;
      continue;
    }
    while (i < format.size() && std::string_view("-+ #0'").find(format[i]) != std::string_view::npos) ++i;
    while (i < format.size() && format[i] >= '0' && format[i] <= '9') ++i;
    if (i < format.size() && format[i] == '.') {
      ++i;
      while (i < format.size() && format[i] >= '0' && format[i] <= '9') ++i;
    }
    Length length = Length::Int;
    if (format.substr(i).starts_with("hh")) length = Length::Char, i += 2;
    else if (format.substr(i).starts_with("ll")) length = Length::LongLong, i += 2;
    else if (i < format.size()) {
      switch (format[i]) {
        case 'h': length = Length::Short, ++i; break;
        case 'l': length = Length::Long, ++i; break;
        case 'z': length = Length::Size, ++i; break;
        case 'j': length = Length::IntMax, ++i; break;
        case 't': length = Length::PtrDiff, ++i; break;
        default: break;
      }
    }
    if (i >= format.size()) return fail("the format ends inside a conversion");
    char conversion = format[i++];
    std::string spec(format.substr(start, i - start));
    if (std::string_view("diouxXcsp").find(conversion) == std::string_view::npos)
      return fail("%" + std::string(1, conversion) + " is not supported in an agent printf" +
                  (std::string_view("eEfFgGaA").find(conversion) != std::string_view::npos ? " (floating point)" : ""));
    if (next_arg >= args.size()) return fail("more conversions than arguments");
    std::uint64_t v = args[next_arg++];
    switch (conversion) {
      case 's': {
        if (length != Length::Int) return fail("wide strings are not supported in an agent printf");
        if (v == 0) {
          out += format_one(spec, "(null)");
          break;
        }
        auto text = read_string(v);
        if (!text) return fail("cannot read the string at 0x" + format_one(std::string("%llx"), static_cast<unsigned long long>(v)));
        out += format_one(spec, text->c_str());
        break;
      }
      case 'p':
        out += format_one(spec, reinterpret_cast<void*>(static_cast<std::uintptr_t>(v)));
        break;
      case 'c':
        if (length != Length::Int) return fail("wide characters are not supported in an agent printf");
        out += format_one(spec, static_cast<int>(v));
        break;
      default:
        out += format_integer(spec, length, conversion == 'd' || conversion == 'i', v);
        break;
    }
  }
  return out;
}

}  // namespace ustub
