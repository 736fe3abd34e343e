#include "server/crash_report.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <initializer_list>

namespace ustub {

namespace {

int crash_log_fd = -1;

// Only async-signal-safe calls from here on.
void append_number(char*& p, long n) {
  char digits[24];
  int len = 0;
  do {
    digits[len++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n > 0);
  while (len > 0) *p++ = digits[--len];
}

void on_fatal_signal(int signo) {
  char line[96];
  char* p = line;
  const char head[] = "ustub pid ";
  std::memcpy(p, head, sizeof head - 1);
  p += sizeof head - 1;
  append_number(p, ::getpid());
  const char mid[] = " died of signal ";
  std::memcpy(p, mid, sizeof mid - 1);
  p += sizeof mid - 1;
  append_number(p, signo);
  *p++ = '\n';
  [[maybe_unused]] auto n = ::write(crash_log_fd, line, static_cast<std::size_t>(p - line));
  ::raise(signo);  // SA_RESETHAND: dies of it now, core and all
}

}  // namespace

void install_crash_report() {
  const char* path = std::getenv("USTUB_CRASH_LOG");
  if (!path || !*path) return;
  crash_log_fd = ::open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  // Not the programs' business: they are started with our environment.
  ::unsetenv("USTUB_CRASH_LOG");
  if (crash_log_fd < 0) return;
  struct sigaction action {};
  action.sa_handler = on_fatal_signal;
  action.sa_flags = SA_RESETHAND | SA_NODEFER;
  sigemptyset(&action.sa_mask);
  for (int signo : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, SIGTRAP})
    ::sigaction(signo, &action, nullptr);
}

}  // namespace ustub
