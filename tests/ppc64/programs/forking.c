/* Forks a child that calls in_child() and exits 7; the parent reaps it. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int in_child(int x) { return x + 1; }

int main(void) {
  pid_t pid = fork();
  if (pid == 0) _exit(in_child(6));
  int status = 0;
  waitpid(pid, &status, 0);
  printf("child exited %d\n", WEXITSTATUS(status));
  return 0;
}
