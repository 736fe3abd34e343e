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
  // Most bytes go as they are: copy the stretches between escapes whole (a
  // memory read is mostly such stretches, and this is its hot loop).
  const std::size_t n = bytes.size();
  out.reserve(out.size() + std::min(n + n / 32, limit - std::min(limit, out.size())));
  std::size_t i = 0;
  while (i < n) {
    std::size_t j = i;
    while (j < n && !needs_escape(bytes[j])) ++j;
    std::size_t room = limit - std::min(limit, out.size());
    if (j - i >= room) {
      out.append(reinterpret_cast<const char*>(bytes.data() + i), room);
      return i + room;
    }
    out.append(reinterpret_cast<const char*>(bytes.data() + i), j - i);
    i = j;
    if (i == n) break;
    if (out.size() + 2 > limit) break;
    out.push_back('}');
    out.push_back(static_cast<char>(bytes[i] ^ 0x20));
    ++i;
  }
  return i;
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
