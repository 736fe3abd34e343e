#include "server/signals.hpp"

#include <csignal>
#include <iterator>

namespace ustub {
namespace {

struct Pair {
  int host, gdb;
};

// gdb/signals.def numbers, by name.
constexpr Pair kNamed[] = {
    {SIGHUP, 1},    {SIGINT, 2},   {SIGQUIT, 3},   {SIGILL, 4},    {SIGTRAP, 5},  {SIGABRT, 6},
    {SIGFPE, 8},    {SIGKILL, 9},  {SIGBUS, 10},   {SIGSEGV, 11},  {SIGSYS, 12},  {SIGPIPE, 13},
    {SIGALRM, 14},  {SIGTERM, 15}, {SIGURG, 16},   {SIGSTOP, 17},  {SIGTSTP, 18}, {SIGCONT, 19},
    {SIGCHLD, 20},  {SIGTTIN, 21}, {SIGTTOU, 22},  {SIGIO, 23},    {SIGXCPU, 24}, {SIGXFSZ, 25},
    {SIGVTALRM, 26}, {SIGPROF, 27}, {SIGWINCH, 28}, {SIGUSR1, 30}, {SIGUSR2, 31}, {SIGPWR, 32},
};
constexpr int kGdbRealtime32 = 77, kGdbRealtime33 = 45, kGdbRealtime63 = 75, kGdbRealtime64 = 78;
constexpr int kGdbUnknown = 143;  // GDB_SIGNAL_UNKNOWN

}  // namespace

int host_to_gdb_signal(int host) {
  if (host == 0) return 0;
  for (const Pair& p : kNamed)
    if (p.host == host) return p.gdb;
  if (host == 32) return kGdbRealtime32;
  if (host >= 33 && host <= 63) return kGdbRealtime33 + (host - 33);
  if (host == 64) return kGdbRealtime64;
  return kGdbUnknown;
}

int gdb_to_host_signal(int gdb) {
  if (gdb == 0) return 0;
  for (const Pair& p : kNamed)
    if (p.gdb == gdb) return p.host;
  if (gdb == kGdbRealtime32) return 32;
  if (gdb >= kGdbRealtime33 && gdb <= kGdbRealtime63) return 33 + (gdb - kGdbRealtime33);
  if (gdb == kGdbRealtime64) return 64;
  return 0;
}

}  // namespace ustub
