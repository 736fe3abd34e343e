#include "server/os_data.hpp"

#include <dirent.h>
#include <pwd.h>
#include <sys/stat.h>

#include <cctype>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "rsp/xml.hpp"

namespace ustub {

namespace {

std::string column(std::string_view name, const std::string& value) {
  return "<column name=\"" + std::string(name) + "\">" + rsp::xml_escape(value) + "</column>";
}

std::string user_name(uid_t uid) {
  if (const passwd* pw = ::getpwuid(uid)) return pw->pw_name;
  return std::to_string(uid);
}

// NULs between the arguments become spaces, as ps shows them.
std::string command_line(const std::string& proc_dir) {
  std::ifstream in(proc_dir + "/cmdline", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && text.back() == '\0') text.pop_back();
  for (char& c : text)
    if (c == '\0') c = ' ';
  return text;
}

// The CPUs its threads last ran on (field 39 of /proc/PID/task/TID/stat).
std::string cores(const std::string& proc_dir) {
  std::set<int> used;
  DIR* dir = ::opendir((proc_dir + "/task").c_str());
  if (!dir) return "";
  while (dirent* e = ::readdir(dir)) {
    if (!std::isdigit(static_cast<unsigned char>(e->d_name[0]))) continue;
    std::ifstream in(proc_dir + "/task/" + e->d_name + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::size_t pos = paren + 2;
    // Fields after the name start at 3 (state); the processor is field 39.
    for (int field = 3; field < 39 && pos != std::string::npos; ++field) pos = stat.find(' ', pos) + 1;
    if (pos == 0 || pos >= stat.size()) continue;
    used.insert(std::atoi(stat.c_str() + pos));
  }
  ::closedir(dir);
  std::string out;
  for (int core : used) out += (out.empty() ? "" : ",") + std::to_string(core);
  return out;
}

std::string processes() {
  std::string out = "<osdata type=\"processes\">\n";
  DIR* dir = ::opendir("/proc");
  if (dir) {
    while (dirent* e = ::readdir(dir)) {
      if (!std::isdigit(static_cast<unsigned char>(e->d_name[0]))) continue;
      std::string proc_dir = std::string("/proc/") + e->d_name;
      struct stat st {};
      if (::stat(proc_dir.c_str(), &st) != 0) continue;  // gone meanwhile
      out += "<item>" + column("pid", e->d_name) + column("user", user_name(st.st_uid)) +
             column("command", command_line(proc_dir)) + column("cores", cores(proc_dir)) + "</item>\n";
    }
    ::closedir(dir);
  }
  return out + "</osdata>\n";
}

}  // namespace

std::optional<std::string> os_data(std::string_view annex) {
  if (annex.empty())
    return "<osdata type=\"types\">\n<item>" + column("Type", "processes") +
           column("Description", "Listing of all processes") + column("Title", "Processes") + "</item>\n</osdata>\n";
  if (annex == "processes") return processes();
  return std::nullopt;
}

}  // namespace ustub
