/* Forks N children (argv[1], default 1), each of which runs child_work and
   exits with 0; the parent reaps them all and says how many ended well. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

volatile int work_done;

void child_work(int n) { work_done = n; }

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1, good = 0;
  for (int i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid == 0) {
      child_work(i);
      _exit(0);
    }
    int status;
    if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) good++;
  }
  printf("%d of %d children ended well\n", good, n);
  fflush(stdout);
  return good == n ? 0 : 1;
}
