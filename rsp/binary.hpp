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

// qXfer replies: 'm' when more may follow, 'l' for the last piece.
std::string xfer_chunk(std::string_view object, std::uint64_t offset, std::uint64_t length);

}  // namespace rsp
