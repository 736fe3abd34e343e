/* Counts ten times a second into the file named by argv[1], so a test can tell
   from outside whether it is still running. */
#include <stdio.h>
#include <time.h>

int main(int argc, char **argv) {
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
