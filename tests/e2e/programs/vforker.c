/* vforks a child that execs /bin/true, and says how the child ended. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  pid_t pid = vfork();
  if (pid == 0) {
    execl("/bin/true", "true", (char *)0);
    _exit(127);
  }
  int status = -1;
  waitpid(pid, &status, 0);
  printf("child status %d\n", status);
  fflush(stdout);
  return 0;
}
