/* The inferior of the benchmark suite: one workload per first argument.
 * Every workload runs once from main and the program then exits 0, so a gdb
 * script can run it to its end. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

volatile long sink;
char *memory_buffer; /* lldb's read: 64 MiB of varied bytes, so no run-length coding flatters a stub */

/* stepi: straight-line work without syscalls, long enough for any step count. */
void step_here(void) {
  for (long i = 0; i < 10000000; i++) sink += i;
}

/* next: one source line of one function that loops 20,000 times. */
long hot_line(void) {
  long total = 0;
  for (int i = 0; i < 20000; i++) total += i;
  return total;
}

/* breakpoint hits: gdb stops here and lets it go again. */
void hit_me(int i) { sink += i; }

/* a conditional breakpoint here is never true for value >= 0. */
void cond_target(int value) { sink += value; }

static void *blocked(void *arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "";
  if (!strcmp(what, "step")) {
    step_here();
  } else if (!strcmp(what, "next")) {
    sink = hot_line();
  } else if (!strcmp(what, "hits")) {
    for (int i = 0; i < 2000; i++) hit_me(i);
  } else if (!strcmp(what, "cond")) {
    for (int i = 0; i < 20000; i++) cond_target(i);
  } else if (!strcmp(what, "memory")) {
    size_t size = 64u << 20;
    char *buffer = malloc(size);
    memset(buffer, 0x5a, size); /* touched, so the reads cost what real data costs */
    hit_me((int)(buffer[size - 1])); /* gdb stops here, with `buffer` live */
    free(buffer);
  } else if (!strcmp(what, "memory-attach")) {
    /* argv[2]: a file that gets the buffer's address once it is filled; then it waits to be attached. */
    size_t size = 64u << 20;
    unsigned long x = 88172645463325252ul;
    memory_buffer = malloc(size);
    for (size_t i = 0; i < size; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      memory_buffer[i] = (char)x;
    }
    if (argc > 2) {
      FILE *f = fopen(argv[2], "w");
      if (f) {
        fprintf(f, "%p\n", (void *)memory_buffer);
        fclose(f);
      }
    }
    for (;;) pause();
  } else if (!strcmp(what, "core")) {
    /* gcore: four threads with default (8 MiB, mostly untouched) stacks and a
       heap half written, half zeros, as a typical program's core holds. */
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) pthread_create(&threads[i], NULL, blocked, NULL);
    size_t size = 16u << 20;
    char *buffer = calloc(1, size);
    memset(buffer, 0x5a, size / 2);
    hit_me((int)(buffer[0])); /* gdb stops here and writes the core */
    free(buffer);
  } else if (!strcmp(what, "threads")) {
    /* argv[2]: how many threads; argv[3]: a file written once they all exist. */
    int n = argc > 2 ? atoi(argv[2]) : 500;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (int i = 0; i < n; i++) {
      pthread_t t;
      if (pthread_create(&t, &attr, blocked, NULL)) { perror("pthread_create"); return 1; }
    }
    if (argc > 3) {
      FILE *f = fopen(argv[3], "w");
      if (f) fclose(f);
    }
    for (;;) pause();
  } else if (!strcmp(what, "forks")) {
    for (int i = 0; i < 300; i++) {
      pid_t child = fork();
      if (child == 0) _exit(0);
      waitpid(child, NULL, 0);
    }
  } else {
    fprintf(stderr, "workloads: step|next|hits|cond|memory|memory-attach FILE|core|threads N FILE|forks\n");
    return 2;
  }
  return 0;
}
