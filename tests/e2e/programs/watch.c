/* Globals written, read and accessed by the main thread and by a thread
   created later, for hardware watchpoint tests. */
#include <pthread.h>

int counter;
int reader_sum;
long spare[6];

static void *thread_main(void *arg) {
  counter += 10;
  return arg;
}

int main(void) {
  counter = 1;
  reader_sum += counter;
  pthread_t t;
  pthread_create(&t, 0, thread_main, 0);
  pthread_join(t, 0);
  spare[1] = reader_sum + counter;
  counter = 3;
  return 0;
}
