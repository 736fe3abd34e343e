#include "rsp/stop_reply.hpp"

#include <cstdio>

#include "rsp/hex.hpp"
#include "rsp/thread_id.hpp"

namespace rsp {

namespace {
std::string two_hex(int value) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02x", value & 0xff);
  return buf;
}
}  // namespace

std::string build_stop_reply(const StopReply& stop, bool multiprocess) {
  std::string out;
  switch (stop.kind) {
    case StopReply::Kind::Exited:
    case StopReply::Kind::Terminated:
      out = (stop.kind == StopReply::Kind::Exited ? "W" : "X") + two_hex(stop.value);
      if (multiprocess) out += ";process:" + number_to_hex(static_cast<std::uint64_t>(stop.pid));
      return out;
    case StopReply::Kind::ThreadExited:
      out = "w" + number_to_hex(static_cast<std::uint64_t>(stop.value)) + ";";
      out += multiprocess ? format_thread_id(stop.pid, stop.tid) : number_to_hex(static_cast<std::uint64_t>(stop.tid));
      return out;
    case StopReply::Kind::Signal:
      break;
  }
  if (stop.bare_signal) return "S" + two_hex(stop.value);
  out = "T" + two_hex(stop.value);
  for (const auto& [regnum, value] : stop.registers) {
    out += number_to_hex(regnum);
    out += ':';
    out += value;
    out += ';';
  }
  if (stop.with_thread) {
    out += "thread:";
    out += multiprocess ? format_thread_id(stop.pid, stop.tid)
                        : number_to_hex(static_cast<std::uint64_t>(stop.tid));
    out += ';';
  }
  if (!stop.reason.empty()) {
    out += stop.reason;
    out += ':';
    out += stop.reason_value;
    out += ';';
  }
  return out;
}

}  // namespace rsp
