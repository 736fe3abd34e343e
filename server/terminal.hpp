#pragma once
// The launched program gets ustub's terminal, as under gdbserver: it becomes
// the terminal's foreground process group, so what a user (or gdb's testsuite)
// types on ustub's terminal reaches the program, and Ctrl-C there stops it.
#include <sys/types.h>

namespace ustub {

class TerminalHandover {
 public:
  TerminalHandover() = default;
  TerminalHandover(const TerminalHandover&) = delete;
  TerminalHandover& operator=(const TerminalHandover&) = delete;
  ~TerminalHandover() { restore(); }

  // Makes `pgid` the foreground group of the terminal on stderr, if it is one.
  void give_to(pid_t pgid);
  // Puts back the group that had the terminal before the first give_to.
  void restore();

 private:
  int fd_ = -1;
  pid_t original_ = -1;
};

}  // namespace ustub
