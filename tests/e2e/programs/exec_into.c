/* Runs the program named by argv[1] in its place (exec), after a thread has
   been started, so the exec also collapses the thread group. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *idle(void *arg) {
  pause();
  return arg;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  pthread_t thread;
  pthread_create(&thread, NULL, idle, NULL);
  execv(argv[1], argv + 1);
  perror("execv");
  return 1;
}
