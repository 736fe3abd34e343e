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
  SUBCASE("a container's seccomp filter: said, with what to change, and never 'use root'") {
    facts.our_seccomp = 2;
    auto text = describe_attach_failure(42, EPERM, facts);
    CHECK(text.find("seccomp filter (Seccomp: 2 in /proc/self/status)") != std::string::npos);
    CHECK(text.find("SYS_PTRACE") != std::string::npos);
    CHECK(text.find("root") == std::string::npos);
    CHECK(text.find("sudo") == std::string::npos);
  }
  SUBCASE("Yama scope 3 forbids ptrace even of children") {
    facts.ptrace_scope = 3;
    CHECK(describe_attach_failure(42, EPERM, facts).find("forbids ptrace altogether") != std::string::npos);
  }
  SUBCASE("nothing known: still one line that says something") {
    auto text = describe_attach_failure(42, EPERM, facts);
    CHECK(text.find("set-uid or not dumpable") != std::string::npos);
    CHECK(text.find('\n') == std::string::npos);
  }
}

TEST_CASE("a refused trace of our own child is explained only by what refuses children too") {
  AttachFacts facts;
  CHECK(ustub::describe_ptrace_denied(facts).empty());
  facts.ptrace_scope = 1;  // scope 1 allows tracing children
  CHECK(ustub::describe_ptrace_denied(facts).empty());
  facts.our_seccomp = 2;
  CHECK(ustub::describe_ptrace_denied(facts).find("seccomp") != std::string::npos);
}
