#pragma once
// Starting or attaching to the inferior, before any gdb connects. Failures
// come back as one line that says what went wrong and why.
#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ustub {

struct LaunchOptions {
  std::vector<std::string> argv;
  bool inferior_output_to_stderr = false;  // stdio transport: stdout carries the protocol
  // As gdbserver: "$SHELL -c 'exec [WRAPPER] PROG ARGS'", arguments escaped so
  // the program receives them as given.
  bool startup_with_shell = false;
  bool disable_randomization = false;  // personality(ADDR_NO_RANDOMIZE)
  std::vector<std::string> wrapper;    // run PROG through this command
  std::optional<std::vector<std::string>> environment;  // "NAME=VALUE"; none: ustub's own
  std::string working_directory;                        // "": ustub's own
};

// gdbserver's rule: a bare name that is a file in the current directory means
// that file (as an absolute path); any other name is left for PATH.
std::string program_path(const std::string& name);

// What the child execs, and how many execs happen before PROG itself runs.
struct ExecPlan {
  std::string path;
  std::vector<std::string> argv;
  int execs_until_program = 1;
};
ExecPlan plan_exec(const LaunchOptions& options, const std::string& resolved_program, const std::string& shell);
// gdbserver's quoting for the shell: every special character backslashed.
std::string shell_quote_arguments(const std::vector<std::string>& args);

struct Launched {
  pid_t pid = 0;
  std::string error;  // empty on success
};
// gdbserver's words for a program (or the shell starting it, which reports a
// missing program itself) that ended before its exec: "During startup
// program exited with code 127." from a wait status.
std::string startup_exit_report(int wait_status);
// Such a report is told as it is, without "ustub: ", as gdbserver does.
bool is_startup_exit_report(std::string_view error);
// The process is seized and stopped at its first instruction (the exec stop).
Launched launch_program(const LaunchOptions& options);

struct Attached {
  std::vector<pid_t> threads;  // all seized and stopped; empty on failure
  // Threads that stopped at a signal's delivery before our interrupt: they
  // stay there, and gdb hears of the signal.
  std::map<pid_t, int> pending_signals;
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
  int our_seccomp = 0;       // "Seccomp:" of ustub itself: 2 = a filter (containers)
};
AttachFacts gather_attach_facts(pid_t pid);

// Why attaching to `pid` failed with `error` (an errno), in one line: names the
// tracer, the owner or kernel.yama.ptrace_scope when one of them is the cause.
std::string describe_attach_failure(pid_t pid, int error, const AttachFacts& facts);
// Why ptrace is refused even on our own child (EPERM from PTRACE_SEIZE after
// fork): Yama's scope 3 or a seccomp filter. "" when neither applies.
std::string describe_ptrace_denied(const AttachFacts& facts);

}  // namespace ustub
