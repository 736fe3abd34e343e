/* Four threads each send themselves SIGUSR1 250 times; exits 0 only if the
   handler ran 1000 times (none lost, none doubled). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile int handled;

static void on_usr1(int signo) {
  (void)signo;
  __atomic_add_fetch(&handled, 1, __ATOMIC_SEQ_CST);
}

static void *storm(void *arg) {
  (void)arg;
  for (int i = 0; i < 250; i++) syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
  return NULL;
}

int main(void) {
  signal(SIGUSR1, on_usr1);
  pthread_t t[4];
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, storm, NULL);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  printf("handled %d\n", handled);
  return handled == 1000 ? 0 : 1;
}
