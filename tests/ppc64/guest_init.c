/* PID 1 of the ppc64le test guest. Mounts what ustub needs, then runs each
   line of /sessions as uid 1000 (a command; the host drives gdb against it
   through the second console, /dev/hvc1), saying on the first console when
   each starts and how it ended, and powers the guest off. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void run_session(int number, char *line) {
  char *argv[32];
  int argc = 0;
  for (char *word = strtok(line, " \t\n"); word && argc < 31; word = strtok(NULL, " \t\n")) argv[argc++] = word;
  argv[argc] = NULL;
  if (argc == 0) return;
  printf("guest: session %d: start\n", number);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    /* As a user, not root: ustub promises to work without privileges. */
    if (setgid(1000) != 0 || setuid(1000) != 0) {
      printf("guest: cannot drop to uid 1000: %s\n", strerror(errno));
      _exit(126);
    }
    execv(argv[0], argv);
    printf("guest: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  /* PID 1 reaps everything: orphans of the session end here too. */
  int status = 0;
  for (;;) {
    int any;
    pid_t done = wait(&any);
    if (done == pid) status = any;
    if (done == pid || (done < 0 && errno == ECHILD)) break;
  }
  /* A program the session let go of (a detached fork parent, say) finishes
     within the session, so what it prints is the session's; ten seconds at most. */
  alarm(10);
  while (wait(NULL) > 0) {
  }
  alarm(0);
  if (WIFEXITED(status))
    printf("guest: session %d: exit %d\n", number, WEXITSTATUS(status));
  else
    printf("guest: session %d: signal %d\n", number, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  fflush(stdout);
}

static void on_alarm(int signo) { (void)signo; }

int main(void) {
  /* No SA_RESTART: the alarm ends a wait for orphans that never finish. */
  struct sigaction alarm_action;
  memset(&alarm_action, 0, sizeof alarm_action);
  alarm_action.sa_handler = on_alarm;
  sigaction(SIGALRM, &alarm_action, NULL);
  mount("proc", "/proc", "proc", 0, NULL);
  mount("sysfs", "/sys", "sysfs", 0, NULL);
  mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
  mount("tmpfs", "/tmp", "tmpfs", 0, NULL);
  int console = open("/dev/hvc0", O_RDWR);
  if (console >= 0) {
    dup2(console, 0);
    dup2(console, 1);
    dup2(console, 2);
  }
  chmod("/dev/hvc1", 0666); /* the session's ustub runs as uid 1000 */
  setenv("PATH", "/bin", 1);
  setenv("HOME", "/", 1);
  printf("guest: up, page size %ld\n", sysconf(_SC_PAGESIZE));
  fflush(stdout);
  FILE *sessions = fopen("/sessions", "r");
  char line[512];
  int number = 0;
  while (sessions && fgets(line, sizeof line, sessions)) run_session(++number, line);
  printf("guest: all sessions done\n");
  fflush(stdout);
  sync();
  reboot(RB_POWER_OFF);
  return 0;
}
