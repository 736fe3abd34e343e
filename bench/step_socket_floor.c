/* The floor under a stub that talks RSP over a socket: step_client's two
 * round trips per step (a `vCont;s` and its stop reply, a `g` and its
 * registers) around a bare PTRACE_SINGLESTEP + waitpid + PTRACE_GETREGS,
 * between two processes on a socketpair, with no protocol at all. What a stub
 * adds over this is its own work; what this adds over step_floor is the
 * socket's and the scheduler's. Prints nanoseconds per step.
 *   step_socket_floor STEPS */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile long spin;

static void exchange(int fd, const char *message, size_t length, char *reply, size_t size) {
  if (write(fd, message, length) != (ssize_t)length || read(fd, reply, size) <= 0) {
    perror("step_socket_floor");
    exit(1);
  }
}

int main(int argc, char **argv) {
  long steps = argc > 1 ? atol(argv[1]) : 20000;
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) return 1;
  pid_t stub = fork();
  if (stub == 0) {
    close(pair[0]);
    pid_t child = fork();
    if (child == 0) {
      ptrace(PTRACE_TRACEME, 0, 0, 0);
      raise(SIGSTOP);
      for (;;) spin++;
    }
    int status;
    waitpid(child, &status, 0);
    char request[64];
    struct user_regs_struct regs;
    while (read(pair[1], request, sizeof request) > 0) {
      if (request[0] == 's') {
        ptrace(PTRACE_SINGLESTEP, child, 0, 0);
        waitpid(child, &status, 0);
        ptrace(PTRACE_GETREGS, child, 0, &regs);
        if (write(pair[1], "T05", 3) != 3) break;
      } else if (write(pair[1], &regs, sizeof regs) != (ssize_t)sizeof regs) {
        break;
      }
    }
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    _exit(0);
  }
  close(pair[1]);
  char reply[1024];
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < steps; i++) {
    exchange(pair[0], "s", 1, reply, sizeof reply);
    exchange(pair[0], "g", 1, reply, sizeof reply);
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  close(pair[0]);
  waitpid(stub, NULL, 0);
  printf("%.0f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / steps);
  return 0;
}
