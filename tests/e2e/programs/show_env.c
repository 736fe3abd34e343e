/* Prints its working directory and two environment variables, so a test can
   see how it was started. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void) {
  char cwd[PATH_MAX];
  const char *greeting = getenv("GREETING"), *gone = getenv("USTUB_TEST_UNSET");
  printf("cwd=%s\n", getcwd(cwd, sizeof cwd) ? cwd : "?");
  printf("GREETING=%s\n", greeting ? greeting : "(unset)");
  printf("USTUB_TEST_UNSET=%s\n", gone ? gone : "(unset)");
  fflush(stdout);
  return 0;
}
