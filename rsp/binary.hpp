#pragma once
// Binary data inside packets (qXfer, vFile, X): '#', '$', '}' and '*' are sent as
// '}' followed by the byte XOR 0x20. Inbound packets are already unescaped by the
// decoder; this is the outbound half.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace rsp {

void append_escaped_binary(std::string& out, std::span<const std::uint8_t> bytes);
std::string escape_binary(std::string_view bytes);
// Escapes bytes from the front while `out` stays within `limit` characters;
// returns how many bytes went in (a reply that may be short, like 'x').
std::size_t append_escaped_binary_within(std::string& out, std::span<const std::uint8_t> bytes, std::size_t limit);

// qXfer replies: 'm' when more may follow, 'l' for the last piece.
std::string xfer_chunk(std::string_view object, std::uint64_t offset, std::uint64_t length);

}  // namespace rsp
