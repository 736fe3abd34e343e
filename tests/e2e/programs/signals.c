/* Raises SIGUSR1 at itself: gdb must stop with SIGUSR1 and, when it continues,
   the signal must reach the handler (exit 7) — not be lost or renumbered. */
#include <signal.h>
#include <stdio.h>

static volatile sig_atomic_t handled;

static void on_usr1(int signo) {
  handled = signo;
}

int main(void) {
  signal(SIGUSR1, on_usr1);
  raise(SIGUSR1);
  printf("handled=%d\n", (int)handled);
  return handled == SIGUSR1 ? 7 : 1;
}
