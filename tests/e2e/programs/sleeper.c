/* Counts ten times a second into the file named by argv[1], so a test can tell
   from outside whether it is still running. */
#include <stdio.h>
#include <sys/prctl.h>
#include <time.h>

int main(int argc, char **argv) {
  /* Where kernel.yama.ptrace_scope is 1, only a process's ancestors may attach
     unless it says otherwise; it does, as a program meant to be attached to would.
     Without Yama this fails harmlessly. */
  prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
  struct timespec tick = {0, 100 * 1000 * 1000};
  for (unsigned long n = 0;; n++) {
    FILE *f = fopen(argc > 1 ? argv[1] : "/dev/null", "w");
    if (f) {
      fprintf(f, "%lu\n", n);
      fclose(f);
    }
    nanosleep(&tick, NULL);
  }
}
