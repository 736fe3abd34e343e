/* Four threads, each calling work() a few times: new threads, a breakpoint
   hit in each, thread apply all bt. */
#include <pthread.h>
#include <stdio.h>

volatile int done[4];

void work(int id) { done[id]++; }

static void *thread_main(void *arg) {
  int id = (int)(long)arg;
  for (int i = 0; i < 3; i++) work(id);
  return NULL;
}

int main(void) {
  pthread_t threads[4];
  for (long i = 0; i < 4; i++) pthread_create(&threads[i], NULL, thread_main, (void *)i);
  for (int i = 0; i < 4; i++) pthread_join(threads[i], NULL);
  printf("threads done %d %d %d %d\n", done[0], done[1], done[2], done[3]);
  return 0;
}
