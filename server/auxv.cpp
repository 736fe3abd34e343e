#include "server/auxv.hpp"

#include <cstring>
#include <fstream>
#include <iterator>

namespace ustub {

std::optional<std::string> read_auxv(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/auxv", std::ios::binary);
  if (!in) return std::nullopt;
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return data;
}

std::optional<std::uint64_t> auxv_value(std::string_view auxv, std::uint64_t type) {
  for (std::size_t at = 0; at + 16 <= auxv.size(); at += 16) {
    std::uint64_t key, value;
    std::memcpy(&key, auxv.data() + at, 8);
    std::memcpy(&value, auxv.data() + at + 8, 8);
    if (key == 0) break;
    if (key == type) return value;
  }
  return std::nullopt;
}

}  // namespace ustub
