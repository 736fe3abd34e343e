#include <doctest/doctest.h>

#include <cerrno>

#include "server/launcher.hpp"

using ustub::AttachFacts;
using ustub::describe_attach_failure;

TEST_CASE("a missing process is named as such") {
  CHECK(describe_attach_failure(42, ESRCH, {}) == "attach 42: No such process");
}

TEST_CASE("EPERM is explained by the first cause that applies") {
  AttachFacts facts;
  facts.our_uid = 1000;
  facts.owner_uid = 1000;

  SUBCASE("another debugger holds it") {
    facts.tracer_pid = 77;
    facts.tracer_name = "gdb";
    CHECK(describe_attach_failure(42, EPERM, facts) ==
          "attach 42: Operation not permitted — it is already traced by process 77 (gdb); detach that "
          "debugger first");
  }
  SUBCASE("another user's process") {
    facts.owner_uid = 0;
    CHECK(describe_attach_failure(42, EPERM, facts).find("belongs to another user (uid 0)") != std::string::npos);
  }
  SUBCASE("Yama forbids it: the file and the value are named") {
    facts.ptrace_scope = 1;
    auto text = describe_attach_failure(42, EPERM, facts);
    CHECK(text.find("kernel.yama.ptrace_scope is 1 (/proc/sys/kernel/yama/ptrace_scope)") != std::string::npos);
  }
  SUBCASE("nothing known: still one line that says something") {
    auto text = describe_attach_failure(42, EPERM, facts);
    CHECK(text.find("set-uid or not dumpable") != std::string::npos);
    CHECK(text.find('\n') == std::string::npos);
  }
}
