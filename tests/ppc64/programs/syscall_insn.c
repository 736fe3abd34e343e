/* getpid made with a bare sc (and, given "scv", with scv 0), with labels
   around the instruction, so a test can single-step over it and see where the
   step ends. */
#include <stdio.h>
#include <string.h>

long getpid_by_sc(void) {
  register long r0 __asm__("r0") = 20; /* __NR_getpid */
  register long r3 __asm__("r3");
  __asm__ volatile(".globl at_sc\nat_sc:\n\tsc\n.globl after_sc\nafter_sc:\n\tnop\n"
                   : "=r"(r3), "+r"(r0)
                   :
                   : "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "ctr", "xer", "cr0", "memory");
  return r3;
}

long getpid_by_scv(void) {
  register long r0 __asm__("r0") = 20;
  register long r3 __asm__("r3");
  /* scv 0, spelled as a word for assemblers that predate it */
  __asm__ volatile(".globl at_scv\nat_scv:\n\t.long 0x44000001\n.globl after_scv\nafter_scv:\n\tnop\n"
                   : "=r"(r3), "+r"(r0)
                   :
                   : "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "ctr", "lr", "xer", "cr0", "cr1",
                     "cr5", "cr6", "cr7", "memory");
  return r3;
}

int main(int argc, char **argv) {
  printf("getpid by sc %ld\n", getpid_by_sc());
  if (argc > 1 && strcmp(argv[1], "scv") == 0) printf("getpid by scv %ld\n", getpid_by_scv());
  return 0;
}
