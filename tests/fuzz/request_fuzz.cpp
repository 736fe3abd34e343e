// libFuzzer target: the request parser on any payload, and every parsed
// packet framed and decoded back unchanged. Any crash, hang, sanitizer report
// or unbounded allocation is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "rsp/framing.hpp"
#include "rsp/request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view payload(reinterpret_cast<const char*>(data), size);
  rsp::Request request = rsp::parse(payload);
  if (auto* m = std::get_if<rsp::req::Malformed>(&request); m && m->why.empty()) __builtin_trap();  // says why
  // What we frame, the decoder gives back unchanged.
  std::string framed = rsp::frame(payload);
  rsp::Decoder decoder(size + 16);
  std::vector<rsp::InboundEvent> back;
  decoder.feed(framed, back);
  if (payload.find_first_of("}$#*") == std::string_view::npos &&
      (back.size() != 1 || back[0].kind != rsp::InboundEvent::Kind::Packet || back[0].payload != payload))
    __builtin_trap();
  return 0;
}
