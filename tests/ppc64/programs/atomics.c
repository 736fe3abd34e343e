/* An atomic add (a ldarx/stdcx. loop at -O0): single-stepping into it must
   not loop forever (each trace interrupt would clear the reservation). */
#include <stdio.h>

long counter;

void bump(void) { __atomic_fetch_add(&counter, 5, __ATOMIC_SEQ_CST); }

int main(void) {
  bump();
  bump();
  printf("counter %ld\n", counter);
  return 0;
}
