/* Four threads that each sleep in a loop of 50 ms naps for about a second,
   counting naps that ended early. Exits 0 only if no sleep failed with EINTR:
   a debugger's stops must restart interrupted syscalls, not fail them. */
#include <errno.h>
#include <pthread.h>
#include <time.h>

static volatile int interrupted;

static void *napper(void *arg) {
  for (int i = 0; i < 20; i++) {
    struct timespec nap = {0, 50 * 1000 * 1000};
    if (nanosleep(&nap, NULL) != 0 && errno == EINTR) interrupted++;
  }
  return arg;
}

int main(void) {
  pthread_t t[4];
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, napper, NULL);
  napper(NULL);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  return interrupted ? 3 : 0;
}
