#include <doctest/doctest.h>

#include <csignal>

#include "server/launcher.hpp"

using namespace ustub;

TEST_CASE("arguments are escaped for the shell so the program gets them as given") {
  CHECK(shell_quote_arguments({"plain", "a b", "$HOME", "*", "it's"}) == "plain a\\ b \\$HOME \\* it\\'s");
  CHECK(shell_quote_arguments({""}) == "''");
  CHECK(shell_quote_arguments({"two\nlines"}) == "two'\n'lines");
}

TEST_CASE("through the shell: one exec for the shell, one for a wrapper, one for the program") {
  LaunchOptions options;
  options.argv = {"./my prog", "x y"};
  options.startup_with_shell = true;
  ExecPlan plan = plan_exec(options, "./my prog", "/bin/bash");
  CHECK(plan.path == "/bin/bash");
  CHECK(plan.argv == std::vector<std::string>{"/bin/bash", "-c", "exec ./my\\ prog x\\ y"});
  CHECK(plan.execs_until_program == 2);
  options.wrapper = {"env", "A=1"};
  plan = plan_exec(options, "./my prog", "/bin/sh");
  CHECK(plan.argv.back() == "exec env A=1 ./my\\ prog x\\ y");
  CHECK(plan.execs_until_program == 3);
}

TEST_CASE("without the shell the program (or its wrapper) is exec'd directly") {
  LaunchOptions options;
  options.argv = {"prog", "a"};
  ExecPlan plan = plan_exec(options, "/usr/bin/prog", "/bin/sh");
  CHECK(plan.path == "/usr/bin/prog");
  CHECK(plan.argv == std::vector<std::string>{"prog", "a"});
  CHECK(plan.execs_until_program == 1);
  options.wrapper = {"env", "A=1"};
  plan = plan_exec(options, "/usr/bin/prog", "/bin/sh");
  CHECK(plan.path == "env");
  CHECK(plan.argv == std::vector<std::string>{"env", "A=1", "prog", "a"});
  CHECK(plan.execs_until_program == 2);
}

TEST_CASE("a program that ends before its exec is told in gdbserver's words") {
  // Wait statuses as waitpid gives them: exit code in bits 8-15, a signal in 0-6.
  CHECK(startup_exit_report(127 << 8) == "During startup program exited with code 127.");
  CHECK(startup_exit_report(0) == "During startup program exited normally.");
  CHECK(startup_exit_report(SIGKILL) == "During startup program terminated with signal SIGKILL, Killed.");
  CHECK(is_startup_exit_report(startup_exit_report(126 << 8)));
  CHECK(!is_startup_exit_report("cannot run ./x: No such file or directory"));
}
