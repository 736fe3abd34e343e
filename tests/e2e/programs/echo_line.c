/* Reads one line from its terminal and says what it got: shows that the
   program launched by ustub owns ustub's terminal, as under gdbserver. */
#include <stdio.h>
#include <string.h>

int main(void) {
  char line[128];
  printf("type something: ");
  fflush(stdout);
  if (!fgets(line, sizeof line, stdin)) return 1;
  line[strcspn(line, "\n")] = '\0';
  printf("got <%s>\n", line);
  return 0;
}
