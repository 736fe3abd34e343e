#include <doctest/doctest.h>
#include <elf.h>
#include <link.h>
#include <unistd.h>

#include <cstring>
#include <map>

#include "server/auxv.hpp"
#include "server/svr4_libraries.hpp"
#include "tests/engine/fake_memory.hpp"

using namespace ustub;
using ustub::testing::FakeMemory;

namespace {

constexpr std::uint64_t kDynamic = 0x1000, kRDebug = 0x2000;

FakeMemory with_dynamic(std::uint64_t r_debug) {
  FakeMemory m;
  m.word(kDynamic, DT_NEEDED);
  m.word(kDynamic + 8, 1);
  m.word(kDynamic + 16, DT_DEBUG);
  m.word(kDynamic + 24, r_debug);
  m.word(kDynamic + 32, DT_NULL);
  m.word(kDynamic + 40, 0);
  return m;
}

}  // namespace

TEST_CASE("before the dynamic linker runs, the list is empty") {
  FakeMemory m = with_dynamic(0);
  CHECK(svr4_library_list(kDynamic, m.reader()) == "<library-list-svr4 version=\"1.0\"></library-list-svr4>");
}

TEST_CASE("no DT_DEBUG at all (ld.so run as the program): no list, gdb looks for r_debug itself") {
  FakeMemory m;
  m.word(kDynamic, DT_NEEDED);
  m.word(kDynamic + 8, 1);
  m.word(kDynamic + 16, DT_NULL);
  m.word(kDynamic + 24, 0);
  CHECK_FALSE(svr4_library_list(kDynamic, m.reader()).has_value());
}

TEST_CASE("the executable is main-lm; unnamed objects are skipped; names are escaped") {
  FakeMemory m = with_dynamic(kRDebug);
  m.word(kRDebug, 1);           // r_version
  m.word(kRDebug + 8, 0x3000);  // r_map
  m.link_map(0x3000, 0, 0x5000, 0x10, 0x3100, 0);  // the executable
  m.link_map(0x3100, 0, 0x5000, 0x20, 0x3200, 0x3000);  // vdso: empty name
  m.link_map(0x3200, 0x7f00, 0x5100, 0x30, 0, 0x3100);
  m.text(0x5000, "");
  m.text(0x5100, "/lib/a&b.so");
  std::string doc = svr4_library_list(kDynamic, m.reader()).value();
  CHECK(doc ==
        "<library-list-svr4 version=\"1.0\" main-lm=\"0x3000\">"
        "<library name=\"/lib/a&amp;b.so\" lm=\"0x3200\" l_addr=\"0x7f00\" l_ld=\"0x30\" lmid=\"0x2000\"/>"
        "</library-list-svr4>");
}

TEST_CASE("a corrupt list (bad back link, or a loop) ends the walk instead of hanging") {
  FakeMemory m = with_dynamic(kRDebug);
  m.word(kRDebug, 1);
  m.word(kRDebug + 8, 0x3000);
  m.link_map(0x3000, 0, 0x5000, 0, 0x3100, 0);
  m.link_map(0x3100, 0, 0x5100, 0, 0x3100, 0x3000);  // points at itself
  m.text(0x5000, "");
  m.text(0x5100, "/lib/loop.so");
  std::string doc = svr4_library_list(kDynamic, m.reader()).value();
  CHECK(doc.find("/lib/loop.so") != std::string::npos);
  CHECK(doc.find("/lib/loop.so") == doc.rfind("/lib/loop.so"));  // listed once
}

TEST_CASE("gdb's start=/prev= walks on from where gdb says, with no main-lm") {
  FakeMemory m;  // no DT_DEBUG anywhere: gdb found r_debug itself (ld.so run directly)
  m.link_map(0x3100, 0x7e00, 0x5000, 0x20, 0x3200, 0x3000);
  m.link_map(0x3200, 0x7f00, 0x5100, 0x30, 0, 0x3100);
  m.text(0x5000, "/lib/one.so");
  m.text(0x5100, "/lib/two.so");
  CHECK(svr4_library_list_from(0x3100, 0x3000, 0x2000, m.reader()) ==
        "<library-list-svr4 version=\"1.0\">"
        "<library name=\"/lib/one.so\" lm=\"0x3100\" l_addr=\"0x7e00\" l_ld=\"0x20\" lmid=\"0x2000\"/>"
        "<library name=\"/lib/two.so\" lm=\"0x3200\" l_addr=\"0x7f00\" l_ld=\"0x30\" lmid=\"0x2000\"/>"
        "</library-list-svr4>");
  // A prev that does not match the chain's back link: gdb's view is stale, list nothing.
  CHECK(svr4_library_list_from(0x3100, 0x9999, 0, m.reader()) ==
        "<library-list-svr4 version=\"1.0\"></library-list-svr4>");
}

TEST_CASE("libelf and the auxv locate this very program's dynamic section") {
  auto auxv = read_auxv(getpid());
  REQUIRE(auxv);
  auto address = dynamic_section_address("/proc/self/exe", *auxv);
  REQUIRE(address);
  CHECK(*address == reinterpret_cast<std::uint64_t>(_DYNAMIC));
}
