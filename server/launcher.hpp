#pragma once
// Starting or attaching to the inferior, before any gdb connects. Failures
// come back as one line that says what went wrong and why.
#include <sys/types.h>

#include <string>
#include <vector>

namespace ustub {

struct LaunchOptions {
  std::vector<std::string> argv;
  bool inferior_output_to_stderr = false;  // stdio transport: stdout carries the protocol
};

struct Launched {
  pid_t pid = 0;
  std::string error;  // empty on success
};
// The process is seized and stopped at its first instruction (the exec stop).
Launched launch_program(const LaunchOptions& options);

struct Attached {
  std::vector<pid_t> threads;  // all seized and stopped; empty on failure
  std::string error;
};
Attached attach_process(pid_t pid);

// Why attaching to `pid` failed with `error` (an errno): names the tracer,
// the owner or kernel.yama.ptrace_scope when one of them is the cause.
std::string explain_attach_failure(pid_t pid, int error);

}  // namespace ustub
