/* One variable read and then written, round a loop: gdb's watch-read.exp
   sets a read and a write watchpoint on the same variable like this. */
volatile int global;

int main(void) {
  int foo = -1;
  for (int i = 0; i < 3; i++) {
    foo = global; /* read line */
    global = foo + 1; /* write line */
  }
  return 0;
}
