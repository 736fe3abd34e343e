#include "server/terminal.hpp"

#include <signal.h>
#include <unistd.h>

namespace ustub {

void TerminalHandover::give_to(pid_t pgid) {
  if (fd_ < 0) {
    if (!::isatty(STDERR_FILENO)) return;
    pid_t current = ::tcgetpgrp(STDERR_FILENO);
    if (current < 0) return;  // not our controlling terminal
    fd_ = STDERR_FILENO;
    original_ = current;
    // From the background, writing to the terminal or changing its group
    // would stop ustub itself.
    ::signal(SIGTTOU, SIG_IGN);
    ::signal(SIGTTIN, SIG_IGN);
  }
  ::tcsetpgrp(fd_, pgid);
}

void TerminalHandover::restore() {
  if (fd_ < 0) return;
  ::tcsetpgrp(fd_, original_);
  fd_ = -1;
}

}  // namespace ustub
