/* Thread-local variables, in the program and in libdemo.so: every thread
   sets its own, then thread 3 stops at checkpoint() while all are alive. */
#include <pthread.h>

__thread int thread_number;
void demo_tick(void);

static pthread_barrier_t all_set;
static pthread_barrier_t may_end;

void checkpoint(void) {}

static void *worker(void *arg) {
  thread_number = (int)(long)arg;
  for (int i = 0; i < thread_number; ++i) demo_tick();
  pthread_barrier_wait(&all_set);
  if (thread_number == 3) checkpoint();
  pthread_barrier_wait(&may_end);
  return 0;
}

int main(void) {
  pthread_t threads[4];
  thread_number = 100;
  pthread_barrier_init(&all_set, 0, 4);
  pthread_barrier_init(&may_end, 0, 5);
  for (long i = 0; i < 4; ++i) pthread_create(&threads[i], 0, worker, (void *)(i + 1));
  pthread_barrier_wait(&may_end);
  for (int i = 0; i < 4; ++i) pthread_join(threads[i], 0);
  return 0;
}
