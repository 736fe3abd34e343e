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

// What /proc says about a process we could not attach to.
struct AttachFacts {
  pid_t tracer_pid = 0;      // TracerPid from /proc/PID/status
  std::string tracer_name;   // its comm
  long owner_uid = -1;       // real uid of the process (-1: unknown)
  long our_uid = 0;
  int ptrace_scope = -1;     // kernel.yama.ptrace_scope (-1: no Yama)
};
AttachFacts gather_attach_facts(pid_t pid);

// Why attaching to `pid` failed with `error` (an errno), in one line: names the
// tracer, the owner or kernel.yama.ptrace_scope when one of them is the cause.
std::string describe_attach_failure(pid_t pid, int error, const AttachFacts& facts);

}  // namespace ustub
