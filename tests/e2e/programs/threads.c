/* N named threads ("worker-I") that each call hit() M times; exits 0 only if
   every call was counted. For thread tests: ./threads [N [M]]. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static int per_thread = 5;
volatile int hits[64];

void hit(int id) { hits[id]++; }

static void *worker(void *arg) {
  int id = (int)(long)arg;
  char name[16];
  snprintf(name, sizeof name, "worker-%d", id);
  pthread_setname_np(pthread_self(), name);
  for (int i = 0; i < per_thread; i++) hit(id);
  return NULL;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 4;
  if (argc > 2) per_thread = atoi(argv[2]);
  if (n < 1 || n > 64) return 2;
  pthread_t t[64];
  for (int i = 0; i < n; i++) pthread_create(&t[i], NULL, worker, (void *)(long)i);
  for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
  int total = 0;
  for (int i = 0; i < n; i++) total += hits[i];
  printf("total %d\n", total);
  return total == per_thread * n ? 0 : 1;
}
