/* The everyday program: a global, a struct, a call chain, its arguments,
   a shared-library call, and an exit code of argc + 2. */
#include <stdio.h>

struct point {
  int x, y;
  const char *name;
};

int counter = 7;
void demo_greet(const char *who);

static int add(int a, int b) {
  int sum = a + b;
  return sum;
}

int main(int argc, char **argv) {
  struct point p = {3, 4, "origin"};
  int total = 0;
  for (int i = 0; i < 3; i++)
    total = add(total, i);
  demo_greet(argc > 1 ? argv[1] : "nobody");
  printf("argc=%d total=%d %s\n", argc, total, p.name);
  counter += total;
  return argc + 2;
}
