/* Stepping material: a loop on one line, calls, a recursion, a switch that
   compiles to a jump table, calls through a pointer, and returns. */
#include <stdlib.h>
#include <string.h>

typedef int (*op_fn)(int);
static int twice(int x) { return 2 * x; }
static int plus_one(int x) { return x + 1; }

static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

volatile int keep_spinning = 1;
volatile long spins;

/* Loops on one line until a debugger clears keep_spinning. */
static void spin_until_told(void) {
  while (keep_spinning) spins++;
  spins = -spins;
}

static int classify(int v) {
  switch (v % 7) {
    case 0: return 10;
    case 1: return 11;
    case 2: return 12;
    case 3: return 13;
    case 4: return 14;
    case 5: return 15;
    default: return 16;
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "spin")) {
    spin_until_told();
    return 0;
  }
  long total = 0;
  for (int i = 0; i < 20000; i++) total += i;
  op_fn ops[2] = {twice, plus_one};
  int acc = argc;
  for (int i = 0; i < 12; i++) acc = ops[i % 2](acc) + classify(acc);
  acc += fib(5);
  if (argc > 2) acc += atoi(argv[2]);
  return (int)((total + acc) & 0x7f);
}
