/* Four threads each call count() 5000 times with rising values and add them
   up; the process exits 0 only if every sum is right. A breakpoint on count()
   whose condition is rarely true is hit by all of them at once. */
#include <pthread.h>

static long sums[4];

__attribute__((noinline)) long count(long value, long sum) {
  sum += value;
  return sum;
}

static void *worker(void *arg) {
  long id = (long)arg, sum = 0;
  for (long i = 0; i < 5000; i++) sum = count(i, sum);
  sums[id] = sum;
  return arg;
}

int main(void) {
  pthread_t t[4];
  for (long i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, (void *)i);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < 4; i++)
    if (sums[i] != 5000L * 4999 / 2) return 1;
  return 0;
}
