// libFuzzer target over the protocol layer: arbitrary bytes through the
// decoder, every packet through the parser and back out through the framer.
// Any crash, hang, sanitizer report or unbounded allocation is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "rsp/framing.hpp"
#include "rsp/request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rsp::Decoder decoder(4096);
  std::vector<rsp::InboundEvent> events;
  decoder.feed(std::string_view(reinterpret_cast<const char*>(data), size), events);
  for (const auto& event : events) {
    if (event.kind != rsp::InboundEvent::Kind::Packet) continue;
    (void)rsp::parse(event.payload);
    // What we frame, we must decode back unchanged.
    std::string framed = rsp::frame(event.payload);
    rsp::Decoder again(8192);
    std::vector<rsp::InboundEvent> back;
    again.feed(framed, back);
    if (event.payload.find_first_of("}$#*") == std::string::npos &&
        (back.size() != 1 || back[0].payload != event.payload))
      __builtin_trap();
  }
  (void)rsp::parse(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
