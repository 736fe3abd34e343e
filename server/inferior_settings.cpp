#include "server/inferior_settings.hpp"

namespace ustub {

void InferiorSettings::reset_environment() {
  set_variables.clear();
  unset_variables.clear();
}

void InferiorSettings::set_variable(std::string_view assignment) {
  auto equals = assignment.find('=');
  std::string name(assignment.substr(0, equals));
  std::string value = equals == std::string_view::npos ? "" : std::string(assignment.substr(equals + 1));
  unset_variables.erase(name);
  set_variables[name] = value;
}

void InferiorSettings::unset_variable(const std::string& name) {
  set_variables.erase(name);
  unset_variables.insert(name);
}

std::vector<std::string> InferiorSettings::environment(const std::vector<std::string>& base) const {
  std::vector<std::string> out;
  for (const std::string& entry : base) {
    std::string name = entry.substr(0, entry.find('='));
    if (unset_variables.count(name) || set_variables.count(name)) continue;
    out.push_back(entry);
  }
  for (const auto& [name, value] : set_variables) out.push_back(name + "=" + value);
  return out;
}

std::string expand_home(const std::string& path, const std::string& home) {
  if (path == "~") return home;
  if (path.rfind("~/", 0) == 0) return home + path.substr(1);
  return path;
}

}  // namespace ustub
