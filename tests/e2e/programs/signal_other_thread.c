/* A worker stops at a breakpoint while main waits for it; gdb then sends
   SIGUSR1 to main (`thread 1`, `signal SIGUSR1`), which all-stop had
   stopped with an interrupt: the signal must reach main's handler. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

static volatile sig_atomic_t handled_in_main;
static pthread_t main_thread;

void handler(int sig) { handled_in_main = pthread_equal(pthread_self(), main_thread) && sig == SIGUSR1; }

void at_worker_breakpoint(void) {}

static void *worker(void *arg) {
  at_worker_breakpoint();
  return arg;
}

int main(void) {
  pthread_t t;
  main_thread = pthread_self();
  signal(SIGUSR1, handler);
  pthread_create(&t, 0, worker, 0);
  pthread_join(t, 0);
  printf("handled in main: %d\n", (int)handled_in_main);
  return handled_in_main ? 0 : 1;
}
