#include "rsp/binary.hpp"

namespace rsp {

void append_escaped_binary(std::string& out, std::span<const std::uint8_t> bytes) {
  out.reserve(out.size() + bytes.size());
  for (std::uint8_t b : bytes) {
    if (b == '#' || b == '$' || b == '}' || b == '*') {
      out.push_back('}');
      out.push_back(static_cast<char>(b ^ 0x20));
    } else {
      out.push_back(static_cast<char>(b));
    }
  }
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
