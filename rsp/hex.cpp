#include "rsp/hex.hpp"

#include <array>
#include <cstring>

namespace rsp {
namespace {
constexpr char kDigits[] = "0123456789abcdef";
// Each byte's two digits: memory reads are hex-encoded a byte at a time, and
// a 128 KiB `m` reply is on the path of every round trip of a large read.
constexpr std::array<char, 512> kByteDigits = [] {
  std::array<char, 512> table{};
  for (unsigned b = 0; b < 256; ++b) {
    table[2 * b] = kDigits[b >> 4];
    table[2 * b + 1] = kDigits[b & 0xf];
  }
  return table;
}();
}

int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_hex(std::string& out, std::span<const std::uint8_t> bytes) {
  std::size_t at = out.size();
  out.resize(at + bytes.size() * 2);
  char* o = out.data() + at;
  for (std::uint8_t b : bytes) {
    std::memcpy(o, &kByteDigits[2 * b], 2);
    o += 2;
  }
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  std::string out;
  append_hex(out, bytes);
  return out;
}

std::string to_hex(std::string_view text) {
  return to_hex(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

std::string number_to_hex(std::uint64_t value) {
  if (value == 0) return "0";
  std::string out;
  while (value != 0) {
    out.insert(out.begin(), kDigits[value & 0xf]);
    value >>= 4;
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::vector<std::uint8_t> out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = hex_digit_value(hex[2 * i]);
    int lo = hex_digit_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::optional<std::string> hex_to_text(std::string_view hex) {
  auto bytes = from_hex(hex);
  if (!bytes) return std::nullopt;
  return std::string(bytes->begin(), bytes->end());
}

std::optional<std::uint64_t> parse_hex_number(std::string_view hex) {
  if (hex.empty()) return std::nullopt;
  // Allow leading zeros, but never more than 64 significant bits.
  std::size_t first = hex.find_first_not_of('0');
  if (first != std::string_view::npos && hex.size() - first > 16) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : hex) {
    int d = hex_digit_value(c);
    if (d < 0) return std::nullopt;
    value = value << 4 | static_cast<std::uint64_t>(d);
  }
  return value;
}

std::optional<std::int64_t> parse_signed_hex_number(std::string_view hex) {
  bool negative = !hex.empty() && hex.front() == '-';
  auto magnitude = parse_hex_number(negative ? hex.substr(1) : hex);
  if (!magnitude || *magnitude > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
  auto v = static_cast<std::int64_t>(*magnitude);
  return negative ? -v : v;
}

}  // namespace rsp
