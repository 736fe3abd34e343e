#include "server/launcher.hpp"

#include "server/proc_status.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

namespace ustub {

namespace {

// Fork children are traced from birth too: they carry our breakpoints, which
// must come out before they run free (or gdb follows them).
constexpr long kFollowOptions = PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
                                PTRACE_O_TRACEVFORKDONE | PTRACE_O_TRACEEXIT | PTRACE_O_TRACESYSGOOD;
constexpr long kLaunchOptions = PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC | kFollowOptions;
// An attached process must not die with us.
constexpr long kAttachOptions = kFollowOptions;

// The program as execv will find it: with a '/', as given; otherwise on PATH.
std::string resolve_program(const std::string& name, int& error) {
  error = 0;
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) != 0) error = errno;
    return name;
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  error = ENOENT;
  return name;
}

// What the child tells the parent through the pipe when it cannot start the program.
struct ChildFailure {
  enum class Step { Exec, Chdir } step;
  int error;
};

[[noreturn]] void exec_child(const ExecPlan& plan, const LaunchOptions& options, int error_pipe) {
  // Undo what ustub set up for itself: a blocked mask and ignored signals survive exec.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int s = 1; s < NSIG; ++s) signal(s, SIG_DFL);
  // Its own process group: a Ctrl-C meant for ustub's terminal is not the program's.
  setpgid(0, 0);
  if (options.inferior_output_to_stderr) {
    int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    ::dup2(STDERR_FILENO, STDOUT_FILENO);
    static constexpr char kRedirected[] = "stdin/stdout redirected\n";  // gdbserver's words
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, kRedirected, sizeof kRedirected - 1);
  }
  if (options.disable_randomization) {
    int current = ::personality(0xffffffff);
    if (current != -1) ::personality(static_cast<unsigned long>(current) | ADDR_NO_RANDOMIZE);
  }
  std::vector<char*> argv;
  for (const auto& a : plan.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  if (options.environment) {
    for (const auto& e : *options.environment) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
  }
  // Wait here until the parent has seized us, so exec is the first thing it sees.
  raise(SIGSTOP);
  ChildFailure failure{};
  if (!options.working_directory.empty() && ::chdir(options.working_directory.c_str()) != 0) {
    failure = {ChildFailure::Step::Chdir, errno};
    [[maybe_unused]] auto n = ::write(error_pipe, &failure, sizeof failure);
    _exit(127);
  }
  ::execve(plan.path.c_str(), argv.data(), options.environment ? envp.data() : environ);
  failure = {ChildFailure::Step::Exec, errno};
  [[maybe_unused]] auto n = ::write(error_pipe, &failure, sizeof failure);
  _exit(127);
}

std::string process_name(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

std::vector<pid_t> list_threads(pid_t pid) {
  std::vector<pid_t> out;
  DIR* dir = ::opendir(("/proc/" + std::to_string(pid) + "/task").c_str());
  if (!dir) return out;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    out.push_back(static_cast<pid_t>(std::atoi(e->d_name)));
  }
  ::closedir(dir);
  return out;
}

// Waits for the first stop of one seized thread after PTRACE_INTERRUPT: 0 for
// the interrupt's own stop, the signal when a signal's delivery came first
// (the thread stays there, so gdb hears of it, as gdbserver's attach does),
// nullopt if the thread is gone.
std::optional<int> wait_for_first_stop(pid_t tid) {
  while (true) {
    int status = 0;
    pid_t got = ::waitpid(tid, &status, __WALL);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 || WIFEXITED(status) || WIFSIGNALED(status)) return std::nullopt;
    if ((status >> 16) == PTRACE_EVENT_STOP) return 0;
    if ((status >> 16) == 0) return WSTOPSIG(status);
    ptrace(PTRACE_CONT, tid, nullptr, nullptr);  // an event of ours (a clone): on to the stop
  }
}

}  // namespace

std::string program_path(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos) return name;
  struct stat st {};
  if (::stat(name.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return name;
  char cwd[PATH_MAX];
  if (!::getcwd(cwd, sizeof cwd)) return name;
  return std::string(cwd) + "/" + name;
}

std::string shell_quote_arguments(const std::vector<std::string>& args) {
  static constexpr std::string_view kSpecial = "\"!#$&*()\\|[]{}<>?'`~^; \t\n";
  std::string out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += ' ';
    if (args[i].empty()) {
      out += "''";
      continue;
    }
    for (char c : args[i]) {
      if (c == '\n') {
        out += "'\n'";  // a backslashed newline would vanish
        continue;
      }
      if (kSpecial.find(c) != std::string_view::npos) out += '\\';
      out += c;
    }
  }
  return out;
}

ExecPlan plan_exec(const LaunchOptions& options, const std::string& resolved_program, const std::string& shell) {
  ExecPlan plan;
  int wrapper_execs = options.wrapper.empty() ? 0 : 1;
  if (options.startup_with_shell) {
    std::string command = "exec ";
    for (const auto& w : options.wrapper) command += w + ' ';
    command += shell_quote_arguments({options.argv.front()});
    std::vector<std::string> args(options.argv.begin() + 1, options.argv.end());
    if (!args.empty()) command += ' ' + shell_quote_arguments(args);
    plan.path = shell;
    plan.argv = {shell, "-c", command};
    plan.execs_until_program = 2 + wrapper_execs;
    return plan;
  }
  plan.argv = options.wrapper;
  plan.argv.insert(plan.argv.end(), options.argv.begin(), options.argv.end());
  plan.path = options.wrapper.empty() ? resolved_program : options.wrapper.front();
  plan.execs_until_program = 1 + wrapper_execs;
  return plan;
}

namespace {
constexpr std::string_view kDuringStartup = "During startup program ";
}

std::string startup_exit_report(int wait_status) {
  std::string report(kDuringStartup);
  if (WIFSIGNALED(wait_status)) {
    int signal = WTERMSIG(wait_status);
    const char* abbreviation = ::sigabbrev_np(signal);
    const char* description = ::strsignal(signal);
    return report + "terminated with signal " + (abbreviation ? "SIG" + std::string(abbreviation) : std::to_string(signal)) +
           ", " + (description ? description : "Unknown signal") + ".";
  }
  int code = WEXITSTATUS(wait_status);
  return report + (code == 0 ? "exited normally." : "exited with code " + std::to_string(code) + ".");
}

bool is_startup_exit_report(std::string_view error) { return error.starts_with(kDuringStartup); }

Launched launch_program(const LaunchOptions& options) {
  const std::string& program = options.argv.at(0);
  int error = 0;
  std::string path = resolve_program(program, error);
  // Through the shell, the shell looks the program up and says what is wrong, as with gdbserver.
  if (error != 0 && !options.startup_with_shell) return {0, "cannot run " + program + ": " + std::strerror(error)};
  std::string shell = "/bin/sh";
  if (const char* s = std::getenv("SHELL"); s && *s) shell = s;
  ExecPlan plan = plan_exec(options, path, shell);
  if (!options.wrapper.empty() && !options.startup_with_shell) {
    plan.path = resolve_program(plan.path, error);
    if (error != 0) return {0, "cannot run wrapper " + options.wrapper.front() + ": " + std::strerror(error)};
  }

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return {0, std::string("pipe: ") + std::strerror(errno)};
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    return {0, std::string("fork: ") + std::strerror(errno)};
  }
  if (pid == 0) exec_child(plan, options, pipe_fds[1]);
  ::close(pipe_fds[1]);

  auto fail = [&](const std::string& why) {
    ::kill(pid, SIGKILL);
    int ignored;
    while (::waitpid(pid, &ignored, __WALL) < 0 && errno == EINTR) {}
    ::close(pipe_fds[0]);
    return Launched{0, why};
  };

  int status = 0;
  if (::waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status))
    return fail("cannot run " + program + ": the child did not start");
  if (ptrace(PTRACE_SEIZE, pid, nullptr, reinterpret_cast<void*>(kLaunchOptions)) != 0) {
    int e = errno;
    std::string why = e == EPERM ? describe_ptrace_denied(gather_attach_facts(pid)) : "";
    return fail("cannot trace " + program + ": " + std::strerror(e) + (why.empty() ? "" : " — " + why));
  }
  ::kill(pid, SIGCONT);
  // Let it run to its exec; the SIGCONT and group-stop notifications on the way are ours.
  while (true) {
    if (::waitpid(pid, &status, __WALL) < 0) {
      if (errno == EINTR) continue;
      return fail("cannot run " + program + ": " + std::strerror(errno));
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      ChildFailure failure{};
      if (::read(pipe_fds[0], &failure, sizeof failure) != sizeof failure) {
        ::close(pipe_fds[0]);
        return {0, startup_exit_report(status)};
      }
      std::string why = failure.step == ChildFailure::Step::Chdir
                  ? "cannot change to directory " + options.working_directory + ": " + std::strerror(failure.error)
              : plan.path != path
                  // The shell or the wrapper was what could not start, not the program.
                  ? "cannot start " + plan.path + ": " + std::strerror(failure.error) +
                        (options.startup_with_shell ? " (--no-startup-with-shell starts the program directly)" : "")
                  : std::strerror(failure.error);
      ::close(pipe_fds[0]);
      return {0, "cannot run " + program + ": " + why};
    }
    int event = status >> 16;
    // The shell and the wrapper exec on the way to the program itself.
    if (event == PTRACE_EVENT_EXEC && --plan.execs_until_program == 0) break;
    int signal = WSTOPSIG(status);
    bool ours = event != 0 || signal == SIGCONT || signal == SIGSTOP;
    ptrace(PTRACE_CONT, pid, nullptr, reinterpret_cast<void*>(static_cast<long>(ours ? 0 : signal)));
  }
  ::close(pipe_fds[0]);
  return {pid, ""};
}

Attached attach_process(pid_t pid) {
  // PTRACE_SEIZE itself says ESRCH or EPERM; describe_attach_failure explains which.
  std::set<pid_t> seized;
  if (ptrace(PTRACE_SEIZE, pid, nullptr, reinterpret_cast<void*>(kAttachOptions)) != 0) {
    int e = errno;
    return {{}, {}, describe_attach_failure(pid, e, gather_attach_facts(pid))};
  }
  seized.insert(pid);
  // Threads may be born while we seize their siblings: repeat until none is new.
  bool grew = true;
  while (grew) {
    grew = false;
    for (pid_t tid : list_threads(pid)) {
      if (seized.count(tid)) continue;
      if (ptrace(PTRACE_SEIZE, tid, nullptr, reinterpret_cast<void*>(kAttachOptions)) == 0) {
        seized.insert(tid);
        grew = true;
      }
    }
  }
  Attached attached;
  bool leader_stopped = false;
  for (pid_t tid : seized) {
    ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
    auto signal = wait_for_first_stop(tid);
    if (!signal) continue;
    attached.threads.push_back(tid);
    if (*signal) attached.pending_signals[tid] = *signal;
    leader_stopped |= tid == pid;
  }
  if (!leader_stopped) {
    for (pid_t tid : attached.threads) {
      auto it = attached.pending_signals.find(tid);
      int signal = it == attached.pending_signals.end() ? 0 : it->second;
      ptrace(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(signal)));
    }
    return {{}, {}, "attach " + std::to_string(pid) + ": the process exited while being attached"};
  }
  return attached;
}

AttachFacts gather_attach_facts(pid_t pid) {
  AttachFacts facts;
  std::string tracer = read_status_field(pid, "TracerPid");
  facts.tracer_pid = static_cast<pid_t>(std::atoi(tracer.c_str()));
  // TracerPid names the tracing thread (ustub traces from one per client): the debugger is its process.
  if (facts.tracer_pid > 0)
    if (pid_t group = std::atoi(read_status_field(facts.tracer_pid, "Tgid").c_str()); group > 0)
      facts.tracer_pid = group;
  if (facts.tracer_pid > 0) facts.tracer_name = process_name(facts.tracer_pid);
  std::string uids = read_status_field(pid, "Uid");
  if (!uids.empty()) facts.owner_uid = std::strtol(uids.c_str(), nullptr, 10);
  facts.our_uid = static_cast<long>(::geteuid());
  std::ifstream scope_file("/proc/sys/kernel/yama/ptrace_scope");
  if (!(scope_file >> facts.ptrace_scope)) facts.ptrace_scope = -1;
  facts.our_seccomp = std::atoi(read_status_field(::getpid(), "Seccomp").c_str());
  return facts;
}

std::string describe_attach_failure(pid_t pid, int error, const AttachFacts& facts) {
  std::string head = "attach " + std::to_string(pid) + ": ";
  if (error == ESRCH || error == ENOENT) return head + "No such process";
  if (error != EPERM) return head + std::strerror(error);
  if (facts.tracer_pid > 0)
    return head + "Operation not permitted — it is already traced by process " +
           std::to_string(facts.tracer_pid) + (facts.tracer_name.empty() ? "" : " (" + facts.tracer_name + ")") +
           "; detach that debugger first";
  if (facts.owner_uid >= 0 && facts.owner_uid != facts.our_uid)
    return head + "Operation not permitted — the process belongs to another user (uid " +
           std::to_string(facts.owner_uid) + "); ustub can only debug your own processes";
  if (std::string denied = describe_ptrace_denied(facts); !denied.empty())
    return head + "Operation not permitted — " + denied;
  if (facts.ptrace_scope >= 1)
    return head + "Operation not permitted — kernel.yama.ptrace_scope is " + std::to_string(facts.ptrace_scope) +
           " (/proc/sys/kernel/yama/ptrace_scope), which forbids attaching to a process that is not "
           "your child; start the program under ustub instead, or set it to 0 (sysctl "
           "kernel.yama.ptrace_scope=0)";
  return head + "Operation not permitted — the process may be set-uid or not dumpable";
}

std::string describe_ptrace_denied(const AttachFacts& facts) {
  if (facts.ptrace_scope == 3)
    return "kernel.yama.ptrace_scope is 3 (/proc/sys/kernel/yama/ptrace_scope), which forbids ptrace "
           "altogether until reboot; no debugger can work on this machine";
  if (facts.our_seccomp == 2)
    return "ustub runs under a seccomp filter (Seccomp: 2 in /proc/self/status), as inside a container, "
           "and the filter may refuse ptrace; allow it in the container's seccomp profile "
           "(e.g. docker --cap-add=SYS_PTRACE)";
  return "";
}

}  // namespace ustub
