#pragma once
// Stop replies: "T05thread:p1.1;06:…;swbreak:;", "W00;process:1", "X0b;process:1",
// and a thread's exit "w0;p1.2".
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace rsp {

struct StopReply {
  enum class Kind { Signal, Exited, Terminated, ThreadExited };
  Kind kind = Kind::Signal;
  int value = 0;  // gdb signal number (Signal, Terminated) or exit code (Exited, ThreadExited)
  std::int64_t pid = 0;
  std::int64_t tid = 0;
  // Expedited registers: remote register number and the value as target-order hex.
  std::vector<std::pair<unsigned, std::string>> registers;
  // "swbreak", "hwbreak", "watch", "rwatch", "awatch", "create", "syscall_entry",
  // "syscall_return", or empty
  std::string reason;
  std::string reason_value;  // a watchpoint's data address or the syscall number, in hex
  // gdbserver's --disable-packet testing switches: no "thread:" (Tthread), or
  // a bare "Sxx" instead of a T packet (T).
  bool with_thread = true;
  bool bare_signal = false;
};

std::string build_stop_reply(const StopReply& stop, bool multiprocess);

}  // namespace rsp
