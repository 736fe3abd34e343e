#include <doctest/doctest.h>

#include "server/breakpoint_table.hpp"

TEST_CASE("reads hide breakpoint bytes, including partial overlaps") {
  ustub::BreakpointTable table;
  table.add(0x1001, {0x55});
  table.add(0x1004, {0xaa, 0xbb, 0xcc, 0xdd});
  std::vector<std::uint8_t> memory{0, 0xcc, 0, 0, 0x7f, 0xe0};  // as read at 0x1000
  table.hide(0x1000, memory);
  CHECK(memory == std::vector<std::uint8_t>{0, 0x55, 0, 0, 0xaa, 0xbb});
  std::vector<std::uint8_t> tail{0x00, 0x08};  // read at 0x1006
  table.hide(0x1006, tail);
  CHECK(tail == std::vector<std::uint8_t>{0xcc, 0xdd});
}

TEST_CASE("writes over a breakpoint update the saved bytes and keep the trap") {
  ustub::BreakpointTable table;
  table.add(0x2000, {0x90});
  std::vector<std::uint8_t> data{0x11, 0x22, 0x33};  // written at 0x1fff
  std::uint8_t int3[] = {0xcc};
  table.absorb_write(0x1fff, data, int3);
  CHECK(data == std::vector<std::uint8_t>{0x11, 0xcc, 0x33});
  CHECK(*table.original(0x2000) == std::vector<std::uint8_t>{0x22});
}

TEST_CASE("remove gives back the original bytes once") {
  ustub::BreakpointTable table;
  table.add(0x10, {0x90});
  CHECK(table.remove(0x10) == std::vector<std::uint8_t>{0x90});
  CHECK_FALSE(table.remove(0x10));
  CHECK(table.empty());
}
