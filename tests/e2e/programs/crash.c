/* Dereferences NULL: gdb must stop at the faulting instruction with SIGSEGV. */
int *volatile nowhere;

int main(void) {
  return *nowhere;
}
