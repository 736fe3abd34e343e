/* vforks a child that sleeps a little and exits without exec, so the parent
   is held in vfork meanwhile (a test kills it there). */
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  pid_t pid = vfork();
  if (pid == 0) {
    sleep(2);
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  return 0;
}
