// libFuzzer target: the framing decoder fed an arbitrary byte stream in an
// arbitrary chunking. The first bytes choose the chunk sizes; however the
// stream is cut, the decoder must produce the same events as when it gets
// the stream whole, and never a payload over its limit.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "rsp/framing.hpp"

namespace {

bool same(const std::vector<rsp::InboundEvent>& a, const std::vector<rsp::InboundEvent>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].kind != b[i].kind || a[i].payload != b[i].payload) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t kLimit = 512;
  constexpr std::size_t kChunkBytes = 8;  // chunk sizes, 1..256 each, cycled
  if (size < kChunkBytes) return 0;
  std::string_view stream(reinterpret_cast<const char*>(data) + kChunkBytes, size - kChunkBytes);

  rsp::Decoder whole(kLimit);
  std::vector<rsp::InboundEvent> expected;
  whole.feed(stream, expected);

  rsp::Decoder pieces(kLimit);
  std::vector<rsp::InboundEvent> got;
  std::size_t at = 0;
  for (std::size_t i = 0; at < stream.size(); ++i) {
    std::size_t n = static_cast<std::size_t>(data[i % kChunkBytes]) + 1;
    pieces.feed(stream.substr(at, n), got);
    at += n;
  }
  if (!same(expected, got)) __builtin_trap();
  for (const auto& e : got)
    if (e.payload.size() > kLimit) __builtin_trap();
  return 0;
}
