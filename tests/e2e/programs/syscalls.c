/* Makes two syscalls and prints what each returned, so a test can see what
   gdb changed at the syscall stops. */
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  long pid = syscall(SYS_getpid);
  long chdir_result = syscall(SYS_chdir, "/nonexistent-directory");
  long ppid = syscall(SYS_getppid);
  printf("getpid returned %ld\n", pid);
  printf("chdir returned %ld\n", chdir_result);
  printf("getppid returned %ld\n", ppid);
  fflush(stdout);
  return 0;
}
