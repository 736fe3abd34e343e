/* Calls, a loop, a global and a float: break, step, next, finish, bt, print. */
#include <stdio.h>

int counter = 7;
double ratio = 1.5;

static int add(int a, int b) {
  int sum = a + b;
  return sum;
}

static int twice(int x) { return add(x, x); }

int main(int argc, char **argv) {
  int total = 0;
  for (int i = 0; i < 3; i++)
    total = twice(total + i);
  counter += total;
  ratio *= total;
  printf("total=%d counter=%d ratio=%g\n", total, counter, ratio);
  return argc + 2;
}
