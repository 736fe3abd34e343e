/* A library of our own: it is not loaded yet at the first instruction, so a
   breakpoint on it must wait (pending) until the dynamic linker maps it. */
#include <stdio.h>

int demo_calls;

void demo_greet(const char *who) {
  demo_calls++;
  printf("hello, %s\n", who);
}

/* Each thread's own count of demo_tick calls: thread-local storage in a
   shared library (a TLS module other than the program's). */
__thread int demo_thread_ticks;

void demo_tick(void) { demo_thread_ticks++; }
