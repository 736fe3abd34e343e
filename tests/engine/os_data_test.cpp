// "info os": the documents gdb reads with qXfer:osdata:read.
#include <doctest/doctest.h>
#include <pwd.h>
#include <unistd.h>

#include <string>

#include "server/os_data.hpp"

TEST_CASE("info os lists the processes type, and the process list shows this very process") {
  auto types = ustub::os_data("");
  REQUIRE(types);
  CHECK(types->find("<column name=\"Type\">processes</column>") != std::string::npos);
  auto list = ustub::os_data("processes");
  REQUIRE(list);
  CHECK(list->rfind("<osdata type=\"processes\">", 0) == 0);
  std::string me = "<item><column name=\"pid\">" + std::to_string(::getpid()) + "</column><column name=\"user\">" +
                   ::getpwuid(::getuid())->pw_name + "</column><column name=\"command\">";
  auto at = list->find(me);
  REQUIRE(at != std::string::npos);
  CHECK(list->find("unit-tests", at) != std::string::npos);  // our command line
  CHECK_FALSE(ustub::os_data("semaphores"));
}
