/* Eighty threads call hit() in a tight loop for ten seconds: with a breakpoint
   on it whose condition is false, they stop again as fast as the stub lets
   them go. */
#include <pthread.h>
#include <unistd.h>

volatile long hits[80];

__attribute__((noinline)) void hit(long id) { hits[id]++; }

static void *worker(void *arg) {
  for (;;) hit((long)arg);
  return arg;
}

int main(void) {
  pthread_t t[80];
  for (long i = 0; i < 80; i++) pthread_create(&t[i], 0, worker, (void *)i);
  sleep(10);
  return 0;
}
