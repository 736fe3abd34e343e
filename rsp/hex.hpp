#pragma once
// Hex text <-> bytes and numbers, as used throughout the remote protocol.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rsp {

std::string to_hex(std::span<const std::uint8_t> bytes);
std::string to_hex(std::string_view text);
void append_hex(std::string& out, std::span<const std::uint8_t> bytes);
// Lower-case hex of a number without leading zeros ("0" for zero).
std::string number_to_hex(std::uint64_t value);

std::optional<std::vector<std::uint8_t>> from_hex(std::string_view hex);
std::optional<std::string> hex_to_text(std::string_view hex);
// A whole-string hex number; empty, overlong or non-hex text is rejected.
std::optional<std::uint64_t> parse_hex_number(std::string_view hex);
// Signed variant: accepts a leading '-' (thread ids use "-1").
std::optional<std::int64_t> parse_signed_hex_number(std::string_view hex);

int hex_digit_value(char c);

}  // namespace rsp
