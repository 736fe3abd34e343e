/* Runs until interrupted. */
volatile unsigned long ticks;

int main(void) {
  for (;;)
    ticks++;
}
