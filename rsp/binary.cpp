#include "rsp/binary.hpp"

#include <algorithm>

namespace rsp {

namespace {
bool needs_escape(std::uint8_t b) { return b == '#' || b == '$' || b == '}' || b == '*'; }
}  // namespace

void append_escaped_binary(std::string& out, std::span<const std::uint8_t> bytes) {
  append_escaped_binary_within(out, bytes, std::string::npos);
}

std::size_t append_escaped_binary_within(std::string& out, std::span<const std::uint8_t> bytes, std::size_t limit) {
  out.reserve(out.size() + std::min(bytes.size(), limit - std::min(limit, out.size())));
  std::size_t taken = 0;
  for (std::uint8_t b : bytes) {
    bool escaped = needs_escape(b);
    if (out.size() + (escaped ? 2 : 1) > limit) break;
    if (escaped) {
      out.push_back('}');
      out.push_back(static_cast<char>(b ^ 0x20));
    } else {
      out.push_back(static_cast<char>(b));
    }
    ++taken;
  }
  return taken;
}

std::string escape_binary(std::string_view bytes) {
  std::string out;
  append_escaped_binary(out, std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  return out;
}

std::string xfer_chunk(std::string_view object, std::uint64_t offset, std::uint64_t length) {
  if (offset >= object.size()) return "l";
  std::string_view piece = object.substr(offset, length);
  bool last = offset + piece.size() >= object.size();
  std::string out(1, last ? 'l' : 'm');
  out += escape_binary(piece);
  return out;
}

}  // namespace rsp
