#pragma once
// Process memory for tests of code that walks the inferior's data structures.
#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "server/svr4_libraries.hpp"  // MemoryReader

namespace ustub::testing {

// Process memory as a sparse map of 8-byte words and strings.
struct FakeMemory {
  std::map<std::uint64_t, std::uint8_t> bytes;
  void word(std::uint64_t at, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) bytes[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
  void text(std::uint64_t at, const std::string& s) {
    for (std::size_t i = 0; i <= s.size(); ++i) bytes[at + i] = i < s.size() ? static_cast<std::uint8_t>(s[i]) : 0;
  }
  MemoryReader reader() {
    return [this](std::uint64_t at, std::span<std::uint8_t> out) -> long {
      for (std::size_t i = 0; i < out.size(); ++i) {
        auto it = bytes.find(at + i);
        if (it == bytes.end()) return i == 0 ? -5 : static_cast<long>(i);
        out[i] = it->second;
      }
      return static_cast<long>(out.size());
    };
  }
  // link_map at `at`: l_addr, l_name, l_ld, l_next, l_prev.
  void link_map(std::uint64_t at, std::uint64_t addr, std::uint64_t name, std::uint64_t ld, std::uint64_t next,
                std::uint64_t prev) {
    word(at, addr);
    word(at + 8, name);
    word(at + 16, ld);
    word(at + 24, next);
    word(at + 32, prev);
  }
};

}  // namespace ustub::testing
