/* A thread that counts ticks (one a millisecond) until told to stop, while
   main stops at checkpoint(): for non-stop mode, where one thread is looked
   at while the other runs on. Exits 0 once the ticker has ended. */
#include <pthread.h>
#include <time.h>

volatile unsigned long ticks;
volatile int stop_ticking;

void checkpoint(void) {}

static void *ticker(void *arg) {
  while (!stop_ticking) {
    struct timespec ms = {0, 1000 * 1000};
    nanosleep(&ms, 0);
    ticks++;
  }
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, 0, ticker, 0);
  while (ticks < 5) {
    struct timespec ms = {0, 1000 * 1000};
    nanosleep(&ms, 0);
  }
  checkpoint();
  pthread_join(t, 0);
  return 0;
}
