/* The demo's program: a loop, a function, a struct and an exit code. */
#include <stdio.h>

struct greeting {
  const char *who;
  int times;
};

static int greet(const struct greeting *g, int round) {
  printf("hello, %s (%d of %d)\n", g->who, round, g->times);
  return round * 10;
}

int main(int argc, char **argv) {
  struct greeting g = {argc > 1 ? argv[1] : "world", 3};
  int score = 0;
  for (int round = 1; round <= g.times; round++)
    score += greet(&g, round);
  return score == 60 ? 0 : 1;
}
