#pragma once
// What gdb asked the next program it runs to start with (extended-remote,
// before vRun): environment changes against ustub's own environment, a
// working directory, and the shell and address-randomization choices.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ustub {

struct InferiorSettings {
  std::map<std::string, std::string> set_variables;  // QEnvironmentHexEncoded
  std::set<std::string> unset_variables;              // QEnvironmentUnset
  std::string working_directory;                      // QSetWorkingDir; "" = ustub's own
  std::optional<bool> startup_with_shell;             // QStartupWithShell; unset = the command line's
  std::optional<bool> disable_randomization;          // QDisableRandomization; unset = the command line's

  // QEnvironmentReset: back to ustub's own environment.
  void reset_environment();
  // "NAME=VALUE" (a name without '=' gets an empty value, as in gdb). The last
  // of a set and an unset of one name wins.
  void set_variable(std::string_view assignment);
  void unset_variable(const std::string& name);
  bool changes_environment() const { return !set_variables.empty() || !unset_variables.empty(); }
  // `base` ("NAME=VALUE" strings, e.g. ustub's environ) with the changes applied.
  std::vector<std::string> environment(const std::vector<std::string>& base) const;
};

// The directory a program should start in: a leading "~" is $HOME's, as the
// shell would have it (gdb sends "set cwd" unexpanded).
std::string expand_home(const std::string& path, const std::string& home);

}  // namespace ustub
