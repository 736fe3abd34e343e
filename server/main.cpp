#include <cstdio>
#include <string>
#include <vector>

#include "server/app.hpp"
#include "server/cli.hpp"
#include "server/crash_report.hpp"

int main(int argc, char** argv) {
  ustub::install_crash_report();
  std::vector<std::string> args(argv + 1, argv + argc);
  ustub::CliResult cli = ustub::parse_command_line(args);
  if (cli.help) {
    std::fputs(ustub::usage().c_str(), stdout);
    return 0;
  }
  if (cli.version) {
    std::puts("ustub 0.1.0 — a gdb remote stub for Linux user processes");
    return 0;
  }
  if (cli.selftest) {
    // gdbserver's wording, which gdb's testsuite takes as "unsupported".
    std::puts("Selftests have been disabled for this build.");
    return 0;
  }
  if (!cli.command) {
    std::fprintf(stderr, "ustub: %s\n", cli.error.c_str());
    return 2;
  }
  return ustub::run_server(*cli.command);
}
