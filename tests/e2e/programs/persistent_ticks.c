/* Calls tick(i) 100 times, 20 ms apart, and takes one SIGUSR1 halfway;
   exits 3 if the handler saw it, else 4. For dprintfs that go on printing
   after gdb has detached. */
#include <signal.h>
#include <time.h>

static volatile int usr1_seen;

static void on_usr1(int signo) { usr1_seen += signo == SIGUSR1; }

void tick(int i) { (void)i; }

int main(void) {
  signal(SIGUSR1, on_usr1);
  for (int i = 0; i < 100; i++) {
    tick(i);
    if (i == 50) raise(SIGUSR1);
    struct timespec ms = {0, 20 * 1000 * 1000};
    nanosleep(&ms, 0);
  }
  return usr1_seen == 1 ? 3 : 4;
}
