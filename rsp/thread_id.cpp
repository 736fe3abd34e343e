#include "rsp/thread_id.hpp"

#include "rsp/hex.hpp"

namespace rsp {

std::optional<ThreadId> parse_thread_id(std::string_view text) {
  ThreadId id;
  if (!text.empty() && text.front() == 'p') {
    text.remove_prefix(1);
    auto dot = text.find('.');
    auto pid = parse_signed_hex_number(text.substr(0, dot));
    if (!pid || *pid < -1) return std::nullopt;
    id.pid = *pid;
    if (dot == std::string_view::npos) {
      id.tid = ThreadId::kAll;
      return id;
    }
    text.remove_prefix(dot + 1);
  }
  auto tid = parse_signed_hex_number(text);
  if (!tid || *tid < -1) return std::nullopt;
  id.tid = *tid;
  return id;
}

std::string format_thread_id(std::int64_t pid, std::int64_t tid) {
  return "p" + number_to_hex(static_cast<std::uint64_t>(pid)) + "." +
         number_to_hex(static_cast<std::uint64_t>(tid));
}

}  // namespace rsp
