/* The floor under any stub's single-step: a bare PTRACE_SINGLESTEP + waitpid
 * loop on a child that spins. Prints nanoseconds per step.
 *   step_floor STEPS */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile long spin;

int main(int argc, char **argv) {
  long steps = argc > 1 ? atol(argv[1]) : 20000;
  pid_t child = fork();
  if (child == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    raise(SIGSTOP);
    for (;;) spin++;
  }
  int status;
  waitpid(child, &status, 0);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < steps; i++) {
    if (ptrace(PTRACE_SINGLESTEP, child, 0, 0) != 0) { perror("PTRACE_SINGLESTEP"); return 1; }
    waitpid(child, &status, 0);
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  kill(child, SIGKILL);
  waitpid(child, &status, 0);
  double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / steps;
  printf("%.0f\n", ns);
  return 0;
}
