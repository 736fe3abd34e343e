/* A minimal RSP client for the stub-only cost of one step: starts a stub on
 * a socketpair as its stdin/stdout (the stub's "-" connection), then times
 * STEPS rounds of `vCont;s:TID` and a `g` read, from ADDRESS on (a breakpoint
 * takes the program there first: a loop without syscalls). Prints nanoseconds
 * per round.
 *   step_client STEPS ADDRESS STUB ARGS...   (step_client 20000 401136 ustub - ./workloads step) */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int fd;
static char in[1 << 16];
static size_t in_len, in_pos;

static int next_byte(void) {
  if (in_pos == in_len) {
    ssize_t n = read(fd, in, sizeof in);
    if (n <= 0) { fprintf(stderr, "step_client: the stub closed the connection\n"); exit(1); }
    in_len = (size_t)n;
    in_pos = 0;
  }
  return (unsigned char)in[in_pos++];
}

static void send_packet(const char *payload) {
  char frame[512];
  unsigned sum = 0;
  for (const char *p = payload; *p; p++) sum += (unsigned char)*p;
  int n = snprintf(frame, sizeof frame, "$%s#%02x", payload, sum & 0xff);
  if (write(fd, frame, (size_t)n) != n) { perror("write"); exit(1); }
}

/* The next packet's payload (not run-length expanded: only its start is read). */
static size_t read_packet(char *out, size_t size, int ack) {
  int c;
  while ((c = next_byte()) != '$') {}
  size_t n = 0;
  while ((c = next_byte()) != '#')
    if (n + 1 < size) out[n++] = (char)c;
  out[n] = 0;
  next_byte();
  next_byte();
  if (ack && write(fd, "+", 1) != 1) exit(1);
  return n;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: step_client STEPS ADDRESS STUB ARGS...\n"); return 2; }
  long steps = atol(argv[1]);
  const char *address = argv[2];
  int pair[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, pair);
  pid_t stub = fork();
  if (stub == 0) {
    dup2(pair[1], 0);
    dup2(pair[1], 1);
    close(pair[0]);
    close(pair[1]);
    execvp(argv[3], argv + 3);
    perror(argv[3]);
    _exit(127);
  }
  close(pair[1]);
  fd = pair[0];
  static char reply[1 << 16];
  send_packet("QStartNoAckMode");
  read_packet(reply, sizeof reply, 1);
  send_packet("?");
  read_packet(reply, sizeof reply, 0);
  char *thread = strstr(reply, "thread:");
  if (!thread) { fprintf(stderr, "step_client: no thread in '%s'\n", reply); return 1; }
  long tid = strtol(thread + 7, NULL, 16);
  char packet[128];
  snprintf(packet, sizeof packet, "Z0,%s,1", address);
  send_packet(packet);
  read_packet(reply, sizeof reply, 0);
  send_packet("vCont;c");
  read_packet(reply, sizeof reply, 0);
  snprintf(packet, sizeof packet, "z0,%s,1", address);
  send_packet(packet);
  read_packet(reply, sizeof reply, 0);
  snprintf(packet, sizeof packet, "vCont;s:%lx", tid);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < steps; i++) {
    send_packet(packet);
    read_packet(reply, sizeof reply, 0);
    if (reply[0] != 'T' && reply[0] != 'S') { fprintf(stderr, "step_client: step %ld: '%s'\n", i, reply); return 1; }
    send_packet("g");
    read_packet(reply, sizeof reply, 0);
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  send_packet("k");
  close(fd);
  int status;
  waitpid(stub, &status, 0);
  printf("%.0f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / steps);
  return 0;
}
