/* Takes SIGALRM over and over: its handler raises the next one. It must never
   get past the first raise, debugged or not; if a SIGALRM is ever lost, it
   aborts. (gdb's attach-into-signal test program, in small.) */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

static void again(int sig) { raise(sig); }

int main(void) {
  prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
  struct sigaction act;
  memset(&act, 0, sizeof act);
  act.sa_handler = again;
  act.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &act, 0);
  raise(SIGALRM);
  abort();
}
