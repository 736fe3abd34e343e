#!/usr/bin/python3
"""End-to-end tests: the real /usr/bin/gdb (and a small RSP client) against
ustub, run as an unprivileged user. Each test is what a user would try."""
import argparse
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
import traceback

from harness import (Env, Failure, Ustub, alive, check, expect, expect_not, extended, gdb, lldb, our_programs,
                     process_state, read_count, remote, spawn_gdb, start_sleeper, still_counting,
                     test_registry, wait_until)
from rsp_client import RspClient, wait_for_port_closed

TESTS, test = test_registry()


def have_avx():
    with open("/proc/cpuinfo") as f:
        return re.search(r"^flags\s*:.*\bavx\b", f.read(), re.M) is not None


# --- 1. launching, listening, reconnecting -----------------------------------------------------

@test
def launch_prints_gdbserver_banner_and_passes_arguments(env):
    u = Ustub(env, "--once", ":0", "./basic", "a", "b")
    pid = u.inferior_pid()
    port = u.port()
    expect(u.output, r"^Process \./basic created; pid = \d+$")
    out = gdb(env, [remote(port), "break main", "continue", "print argc", "print argv[1]",
                    "print argv[2]", "continue"], env.program("basic"))
    expect(out, r"^\$1 = 3$")
    expect(out, r'^\$2 = 0x[0-9a-f]+ "a"$')
    expect(out, r'^\$3 = 0x[0-9a-f]+ "b"$')
    expect(out, rf"\[Inferior 1 \(process {pid}\) exited with code 05\]")
    check(u.wait_exit() == 0, "ustub should exit 0 after the program exits")
    expect(u.output, r"^Child exited with status 5$")


def listening_address(port):
    """The local address of the TCP socket listening on `port` (from /proc/net/tcp)."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if int(port_hex, 16) == port and fields[3] == "0A":
                return socket.inet_ntoa(bytes.fromhex(address)[::-1])
    return None


@test
def bare_port_listens_on_loopback_only(env):
    u = Ustub(env, ":0", "./spin")
    pid = u.inferior_pid()
    check(listening_address(u.port()) == "127.0.0.1", "a bare :PORT must bind 127.0.0.1 only")
    u.stop()
    check(wait_until(lambda: not alive(pid)), "the launched program must die with ustub")
    expect_not(u.output, r"warning", "no warning on loopback")
    v = Ustub(env, "0.0.0.0:0", "./spin")
    check(listening_address(v.port()) == "0.0.0.0", "0.0.0.0:PORT asks for every interface")
    expect(v.output, r"^ustub: warning: listening on 0\.0\.0\.0: anyone who can reach port \d+ can run code as \S+")
    v.stop()


@test
def port_in_use_is_refused_and_nothing_is_left_running(env):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    try:
        u = Ustub(env, f":{port}", "./spin")
        code = u.wait_exit()
        check(code != 0, "ustub must exit non-zero when the port is taken")
        expect(u.output, r"^Can't bind address: Address already in use\.$")
        check(not our_programs(env), f"the program was left behind: {our_programs(env)}")
    finally:
        blocker.close()


@test
def without_once_a_second_gdb_can_reconnect(env):
    u = Ustub(env, ":0", "./basic", "a", "b")
    port = u.port()
    out = gdb(env, [remote(port), "break add", "continue", "disconnect"], env.program("basic"))
    expect(out, r"Breakpoint 1, add \(a=0, b=0\)")
    u.wait_for(r"reopen the connection")
    check(u.proc.poll() is None, "ustub must keep serving after a disconnect")
    out = gdb(env, [remote(port), "bt 1", "continue"], env.program("basic"))
    expect(out, r"#0  add \(a=0, b=0\) at .*basic\.c")
    expect(out, r"exited with code 05")
    check(u.wait_exit() == 0, "ustub should exit once the program has exited")


@test
def once_with_gdb_killed_mid_session_kills_the_launched_program(env):
    u = Ustub(env, "--once", ":0", "./spin")
    pid = u.inferior_pid()
    g = spawn_gdb(env, [remote(u.port()), "continue"], env.program("spin"))
    check(wait_until(lambda: process_state(pid) == "R", timeout=20), "the program never ran")
    g.kill()
    g.wait()
    check(u.wait_exit() == 0, "ustub --once must exit when gdb goes away")
    check(wait_until(lambda: not alive(pid)), "a launched program must not outlive ustub --once")


# --- 2. transports ---------------------------------------------------------------------------

@test
def stdio_transport_sends_program_output_to_stderr(env):
    out = gdb(env, [f"target remote | {env.ustub} - ./basic a b", "continue"], env.program("basic"))
    expect(out, r"^Process \./basic created; pid = \d+$")
    expect(out, r"^hello, a$")
    expect(out, r"^argc=3 total=3 origin$")
    expect(out, r"exited with code 05")


@test
def unix_socket_is_private_and_removed_on_exit(env):
    path = os.path.join(env.runtime, "ustub.sock")
    u = Ustub(env, f"unix:{path}", "./basic", "x")
    u.wait_for(r"Listening on Unix socket")
    mode = stat.S_IMODE(os.stat(path).st_mode)
    check(mode == 0o600, f"socket mode is {oct(mode)}, want 0600")
    out = gdb(env, [f"target remote {path}", "break add", "continue", "bt 1", "delete", "continue"],
              env.program("basic"))
    expect(out, r"#0  add \(a=0, b=0\)")
    expect(out, r"exited with code 04")
    check(u.wait_exit() == 0, "ustub should exit after the program does")
    check(not os.path.exists(path), "the socket file must be removed on exit")


@test
def serial_line_transport_over_a_pty_pair(env):
    import pty
    import select
    import threading
    # Two ptys joined back to back stand in for a serial cable: ustub opens one
    # end's slave, gdb the other's.
    m1, s1 = pty.openpty()
    m2, s2 = pty.openpty()
    stop = threading.Event()

    def relay():
        while not stop.is_set():
            ready, _, _ = select.select([m1, m2], [], [], 0.1)
            for fd in ready:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    return
                os.write(m2 if fd == m1 else m1, data)

    for fd in (s1, s2):
        import termios
        import tty
        tty.setraw(fd)
    t = threading.Thread(target=relay, daemon=True)
    t.start()
    try:
        u = Ustub(env, "--once", os.ttyname(s1), "./basic", "a")
        u.wait_for(r"Remote debugging using /dev/")
        out = gdb(env, [f"target remote {os.ttyname(s2)}", "break add", "continue", "bt 1", "delete", "continue"],
                  env.program("basic"))
        expect(out, r"#0  add \(a=0, b=0\)")
        expect(out, r"exited with code 04")
        check(u.wait_exit() == 0, "ustub should exit after the program does")
    finally:
        stop.set()
        t.join()
        for fd in (m1, s1, m2, s2):
            os.close(fd)


# --- 3. attach, detach, kill -------------------------------------------------------------------

@test
def attach_then_detach_leaves_the_process_running(env):
    sleeper, counter = start_sleeper(env)
    try:
        u = Ustub(env, "--once", "--attach", ":0", str(sleeper.pid))
        u.wait_for(rf"^Attached; pid = {sleeper.pid}$")
        check(process_state(sleeper.pid) == "t", "an attached process is stopped while gdb looks at it")
        before = read_count(counter)
        out = gdb(env, [remote(u.port()), "bt", "info proc", "detach"], env.program("sleeper"))
        expect(out, r"in main \(.*\) at .*sleeper\.c")
        expect(out, rf"^process {sleeper.pid}$")
        expect(out, rf"\[Inferior 1 \(process {sleeper.pid}\) detached\]")
        check(u.wait_exit() == 0, "ustub exits after detach")
        check(process_state(sleeper.pid) in ("S", "R"), f"state {process_state(sleeper.pid)} after detach")
        check(still_counting(counter), "the process must run on after detach")
        check(read_count(counter) >= before, "the counter went backwards?")
    finally:
        sleeper.kill()
        sleeper.wait()


@test
def detaching_a_launched_program_lets_it_finish_and_reaps_it(env):
    u = Ustub(env, "--once", ":0", "./basic", "free")
    pid = u.inferior_pid()
    out = gdb(env, [remote(u.port()), "break add", "continue", "detach"], env.program("basic"))
    expect(out, rf"\[Inferior 1 \(process {pid}\) detached\]")
    check(u.wait_exit() == 0, "ustub exits once the detached program has finished")
    expect(u.output, r"^argc=2 total=3 origin$")
    check(process_state(pid) is None, f"the program must be reaped, not left as {process_state(pid)}")


@test
def attach_then_kill_ends_the_process(env):
    sleeper, _ = start_sleeper(env)
    try:
        u = Ustub(env, "--once", "--attach", ":0", str(sleeper.pid))
        out = gdb(env, [remote(u.port()), "kill"], env.program("sleeper"))
        expect(out, rf"\[Inferior 1 \(process {sleeper.pid}\) killed\]")
        check(wait_until(lambda: sleeper.poll() is not None), "the process must be dead after kill")
        check(u.wait_exit() == 0, "ustub exits after kill")
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
        sleeper.wait()


@test
def attached_process_survives_gdb_dying_and_sigterm(env):
    sleeper, counter = start_sleeper(env)
    try:
        u = Ustub(env, "--once", "--attach", ":0", str(sleeper.pid))
        g = spawn_gdb(env, [remote(u.port()), "continue"], env.program("sleeper"))
        check(wait_until(lambda: still_counting(counter), timeout=20), "gdb never continued it")
        g.kill()
        g.wait()
        check(u.wait_exit() == 0, "ustub --once exits when gdb dies")
        check(process_state(sleeper.pid) in ("S", "R"), "left stopped after gdb died")
        check(still_counting(counter), "must run on after gdb died")
        # SIGHUP to ustub while attached (and stopped): detached and running again.
        v = Ustub(env, "--attach", ":0", str(sleeper.pid))
        v.port()
        check(process_state(sleeper.pid) == "t", "attach must stop it")
        v.proc.send_signal(signal.SIGHUP)
        v.wait_exit()
        check(still_counting(counter), "must run on after ustub got SIGHUP")
    finally:
        sleeper.kill()
        sleeper.wait()


@test
def sigterm_kills_a_launched_program(env):
    u = Ustub(env, ":0", "./spin")
    pid = u.inferior_pid()
    u.port()
    u.proc.send_signal(signal.SIGTERM)
    code = u.wait_exit()
    check(code == 128 + signal.SIGTERM, f"ustub should report death by SIGTERM as exit {128 + signal.SIGTERM}, got {code}")
    expect(u.output, r"^ustub: got SIGTERM, exiting$")
    check(wait_until(lambda: not alive(pid)), "a launched program must die when ustub is terminated")


@test
def failed_attach_says_why(env):
    pid = 4000000
    while os.path.exists(f"/proc/{pid}"):
        pid += 1
    u = Ustub(env, "--attach", ":0", str(pid))
    check(u.wait_exit() == 1, "a failed attach exits 1")
    expect(u.output, rf"^ustub: attach {pid}: No such process$")

    root_pid = os.environ.get("USTUB_E2E_FOREIGN_PID")
    if root_pid and os.getuid() != 0:
        u = Ustub(env, "--attach", ":0", root_pid)
        check(u.wait_exit() == 1, "a failed attach exits 1")
        expect(u.output, rf"^ustub: attach {root_pid}: Operation not permitted — the process belongs to "
                         r"another user \(uid 0\)")

    sleeper, _ = start_sleeper(env)
    try:
        first = Ustub(env, "--attach", ":0", str(sleeper.pid))
        first.port()
        second = Ustub(env, "--attach", ":0", str(sleeper.pid))
        check(second.wait_exit() == 1, "attaching twice must fail")
        expect(second.output, rf"^ustub: attach {sleeper.pid}: Operation not permitted — it is already "
                              rf"traced by process {first.proc.pid} \(ustub\)")
        first.stop()
        check(still_counting(_), "the first ustub must let it go on SIGTERM")
    finally:
        sleeper.kill()
        sleeper.wait()

    scope_file = "/proc/sys/kernel/yama/ptrace_scope"
    if os.path.exists(scope_file) and int(open(scope_file).read()) >= 1:
        outsider = subprocess.Popen(["sleep", "60"], start_new_session=True)
        try:
            u = Ustub(env, "--attach", ":0", str(outsider.pid))
            check(u.wait_exit() == 1, "a failed attach exits 1")
            expect(u.output, r"kernel\.yama\.ptrace_scope is \d \(/proc/sys/kernel/yama/ptrace_scope\)")
        finally:
            outsider.kill()
            outsider.wait()


@test
def bad_program_and_bad_command_lines(env):
    # Through the shell (the default), the shell says what is wrong, as with gdbserver.
    u = Ustub(env, ":0", "./nope")
    check(u.wait_exit() == 1, "a missing program exits 1")
    expect(u.output, r"\A[^\n]*nope: (not found|No such file or directory)\n"
                     r"During startup program exited with code 127\.\nExiting\Z")
    u = Ustub(env, "--no-startup-with-shell", ":0", "./nope")
    check(u.wait_exit() == 1, "a missing program exits 1")
    check(u.output == "ustub: cannot run ./nope: No such file or directory\nExiting", f"got: {u.output!r}")
    with open(os.path.join(env.bin, "not-executable"), "w") as f:
        f.write("data\n")
    u = Ustub(env, "--no-startup-with-shell", ":0", "./not-executable")
    check(u.wait_exit() == 1, "a non-executable program exits 1")
    check(u.output == "ustub: cannot run ./not-executable: Permission denied\nExiting", f"got: {u.output!r}")
    u = Ustub(env, ":0", "./not-executable")
    check(u.wait_exit() == 1, "a non-executable program exits 1")
    expect(u.output, r"not-executable: [^\n]*Permission denied\nDuring startup program exited with code 126\.\nExiting\Z")
    # The shell that starts programs is missing: it is named, not the program.
    u = Ustub(env, ":0", "./basic", environ={**os.environ, "SHELL": "/nonexistent/sh"})
    check(u.wait_exit() == 1, "a missing shell exits 1")
    expect(u.output, r"\Austub: cannot run \./basic: cannot start /nonexistent/sh: No such file or directory "
                     r"\(--no-startup-with-shell starts the program directly\)\nExiting\Z")
    for args, message in [([], r"missing COMM"), ([":2345"], r"missing PROG"),
                          ([":99999", "./basic"], r"bad port"), (["--frob", ":1", "x"], r"unknown option --frob")]:
        u = Ustub(env, *args)
        code = u.wait_exit()
        check(code != 0, f"{args}: exit status {code}")
        check(len(u.lines) == 1, f"{args}: want one line, got {u.lines}")
        expect(u.output, r"^ustub: " + message)
    check(not our_programs(env), "nothing may be left running")


# --- 3b. extended-remote, launch options, monitor commands ----------------------------------------

@test
def multi_server_runs_kills_and_reruns_until_monitor_exit(env):
    u = Ustub(env, "--multi", ":0")
    port = u.port()
    check(not our_programs(env), "--multi starts no program")
    out = gdb(env, [extended(port), "set remote exec-file " + env.program("basic"), "break add",
                    "run one two", "print a", "up", "print argc", "kill",
                    "run solo", "up", "print argc", "delete", "continue",
                    "info inferiors", "monitor exit"], env.program("basic"))
    expect(out, r"Breakpoint 1, add \(a=0, b=0\)")
    expect(out, r"^\$2 = 3$")  # argc of the first run
    expect(out, r"\[Inferior 1 \(process \d+\) killed\]")
    expect(out, r"^\$3 = 2$")  # argc of the second run
    expect(out, r"\[Inferior 1 \(process \d+\) exited with code 04\]")
    check(u.wait_exit() == 0, "monitor exit ends ustub --multi with status 0")
    check(len(re.findall(r"created; pid = ", u.output)) == 2, "two programs were started")
    check(not our_programs(env), "nothing may be left running")


@test
def multi_server_attaches_detaches_and_outlives_its_client(env):
    sleeper, counter = start_sleeper(env)
    try:
        u = Ustub(env, "--multi", ":0")
        port = u.port()
        out = gdb(env, [extended(port), f"attach {sleeper.pid}", "bt", "detach"], env.program("sleeper"))
        expect(out, r"in main \(.*\) at .*sleeper\.c")
        expect(out, rf"\[Inferior 1 \(process {sleeper.pid}\) detached\]")
        check(still_counting(counter), "the process runs on after detach")
        check(u.proc.poll() is None, "without --once, ustub --multi stays up when gdb leaves")
        out = gdb(env, [extended(port), "monitor exit"])
        check(u.wait_exit() == 0, "a second client can still tell it to exit")
        check(still_counting(counter), "and the detached process is still running")
    finally:
        sleeper.kill()
        sleeper.wait()


@test
def arguments_reach_the_program_as_given_with_or_without_a_shell(env):
    for options in ([], ["--no-startup-with-shell"]):
        u = Ustub(env, "--once", *options, ":0", "./basic", "$HOME", "a b", "*")
        out = gdb(env, [remote(u.port()), "break main", "continue", "print argv[1]", "print argv[2]",
                        "print argv[3]", "kill"], env.program("basic"))
        expect(out, r'^\$1 = 0x[0-9a-f]+ "\$HOME"$', f"{options}: $HOME unexpanded")
        expect(out, r'^\$2 = 0x[0-9a-f]+ "a b"$', f"{options}: one argument with a space")
        expect(out, r'^\$3 = 0x[0-9a-f]+ "\*"$', f"{options}: no globbing")
        u.wait_exit()


@test
def wrapper_starts_the_program_through_it(env):
    u = Ustub(env, "--once", "--wrapper", "env", "USTUB_WRAPPED=yes", "--", ":0", "./basic")
    pid = u.inferior_pid()
    with open(f"/proc/{pid}/environ", "rb") as f:
        check(b"USTUB_WRAPPED=yes" in f.read().split(b"\0"), "the wrapper's environment reaches the program")
    check(os.readlink(f"/proc/{pid}/exe") == env.program("basic"), "stopped in the program, past the wrapper")
    out = gdb(env, [remote(u.port()), "break main", "continue", "print argc", "kill"], env.program("basic"))
    expect(out, r"^\$1 = 1$")
    u.wait_exit()


@test
def monitor_commands_and_debug_file(env):
    log = os.path.join(env.runtime, "debug.log")
    u = Ustub(env, "--once", "--remote-debug", f"--debug-file={log}", ":0", "./basic")
    out = gdb(env, [remote(u.port()), "monitor help", "monitor set debug 1", "monitor set debug 0",
                    "monitor set remote-debug 0", "monitor frobnicate", "kill"], env.program("basic"))
    expect(out, r"^The following monitor commands are supported:")
    expect(out, r"^Debug output enabled\.$")
    expect(out, r"^Debug output disabled\.$")
    expect(out, r"^Protocol debug output disabled\.$")
    expect(out, r"^Unknown monitor command\.")
    expect(out, r"Protocol error with Rcmd")
    u.wait_exit()
    with open(log) as f:
        text = f.read()
    expect(text, r"^<- .*qSupported", "packets go to the debug file")
    expect_not(u.output, r"qSupported", "and not to the console")


@test
def the_program_owns_ustubs_terminal(env):
    import pty
    import termios
    master, slave = pty.openpty()

    def take_terminal():
        os.setsid()
        import fcntl
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen([env.ustub, "--once", ":0", "./echo_line"], cwd=env.bin, stdin=slave,
                            stdout=slave, stderr=slave, preexec_fn=take_terminal)
    os.close(slave)
    seen = b""
    try:
        def read_until(pattern, timeout=10):
            nonlocal seen
            deadline = time.time() + timeout
            while time.time() < deadline and not re.search(pattern, seen):
                import select
                r, _, _ = select.select([master], [], [], 0.1)
                if r:
                    try:
                        seen += os.read(master, 4096)
                    except OSError:
                        break
            return re.search(pattern, seen)

        m = read_until(rb"Listening on port (\d+)")
        check(m, f"ustub printed: {seen!r}")
        g = spawn_gdb(env, [remote(int(m.group(1))), "continue"], env.program("echo_line"))
        check(read_until(rb"type something: "), f"the program's prompt reaches the terminal: {seen!r}")
        os.write(master, b"hello there\n")
        check(read_until(rb"got <hello there>"), f"what is typed reaches the program: {seen!r}")
        out = g.communicate(timeout=30)[0]
        expect(out, r"exited normally")
        check(proc.wait(timeout=10) == 0, "ustub exits 0")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


# --- 4. the debugging session -------------------------------------------------------------------

@test
def breakpoints_stepping_and_data(env):
    u = Ustub(env, "--once", ":0", "./basic", "a", "b")
    out = gdb(env, [
        remote(u.port()),
        "break add", "continue", "bt",
        "print a", "print b", "finish",
        "next", "step", "info frame",
        "up", "print p", "print p.name", "print counter", "set var counter = 42", "print counter",
        "x/4xb &counter", "print total",
        "delete", "break 25", "continue", "until", "stepi", "x/i $pc",
        "print $pc == main + 0 ? 1 : 2",
        "continue",
    ], env.program("basic"))
    expect(out, r"Breakpoint 1, add \(a=0, b=0\) at .*basic\.c:14")
    expect(out, r"#1  0x[0-9a-f]+ in main \(argc=3, argv=0x[0-9a-f]+\) at .*basic\.c:22")
    expect(out, r"Value returned is \$\d+ = 0")
    expect(out, r"\$\d+ = \{x = 3, y = 4, name = 0x[0-9a-f]+ \"origin\"\}")
    expect(out, r"\$\d+ = 0x[0-9a-f]+ \"origin\"")
    expect(out, r"^\$\d+ = 7$")
    expect(out, r"^\$\d+ = 42$")
    expect(out, r"<counter>:\s+0x2a\s+0x00\s+0x00\s+0x00")
    expect(out, r"Breakpoint 2, main \(.*\) at .*basic\.c:25")
    expect(out, r"=> 0x[0-9a-f]+ <main\+\d+>:")
    expect(out, r"exited with code 05")
    expect_not(out, r"(?i)remote failure|Remote connection closed|internal-error")


@test
def lldb_gdb_remote_stops_at_its_breakpoints_and_reads_memory_in_binary(env):
    # lldb never moves the pc back after a breakpoint (gdbserver leaves it one
    # byte past for a client without swbreak+, and lldb then runs on from
    # there), and it reads memory with 'x' once "x0,0" says OK.
    u = Ustub(env, "--once", "--remote-debug", ":0", "./basic", "a", "b")
    pid = u.inferior_pid()
    out = lldb(env, [
        f"gdb-remote 127.0.0.1:{u.port()}",
        "breakpoint set --name add", "continue", "bt",
        "memory read --format x --size 4 --count 1 &counter",
        "continue", "frame variable a b",
        "up", "memory read --format s argv[1]",
        "breakpoint delete 1", "continue",
    ], env.program("basic"))
    expect(out, r"stop reason = breakpoint 1\.1\n\s+frame #0: 0x[0-9a-f]+ basic`add\(a=0, b=0\) at basic\.c:14")
    expect(out, r"frame #1: 0x[0-9a-f]+ basic`main\(argc=3, argv=0x[0-9a-f]+\) at basic\.c:22")
    expect(out, r"^0x[0-9a-f]+: 0x00000007$")
    expect(out, r"^\(int\) a = 0\n\(int\) b = 1$")
    expect(out, r'^0x[0-9a-f]+: "a"$')
    expect(out, rf"Process {pid} exited with status = 5")
    expect_not(out, r"signal SIGSEGV|signal SIGILL|stop reason = signal SIGTRAP\n.*basic`")
    check(u.wait_exit() == 0, "ustub should exit 0 after the program exits")
    expect(u.output, r"<- \$x0,0#..\n-> \$OK#")
    expect(u.output, r"<- \$x[0-9a-f]+,[0-9a-f]+#")
    expect_not(u.output, r"<- \$m[0-9a-f]+,")


@test
def breakpoints_in_shared_libraries_before_they_load(env):
    u = Ustub(env, "--once", ":0", "./basic", "lib")
    out = gdb(env, [
        remote(u.port()),
        "set breakpoint pending on",
        "break demo_greet", "break printf",
        "continue", "bt 2", "continue", "bt 1",
        "info sharedlibrary", "print demo_calls", "delete", "continue",
    ], env.program("basic"))
    expect(out, r"Breakpoint 1, demo_greet \(who=0x[0-9a-f]+ \"lib\"\) at .*libdemo\.c")
    expect(out, r"#1  0x[0-9a-f]+ in main \(.*\) at .*basic\.c")
    expect(out, r"Breakpoint 2, (__)?printf \(format=0x[0-9a-f]+ \"hello, %s\\n\"\)")
    expect(out, r"libdemo\.so")
    expect(out, r"libc\.so\.6")
    expect(out, r"^\$1 = 1$")
    expect(out, r"exited with code 04")


@test
def registers_read_and_write(env):
    u = Ustub(env, "--once", ":0", "./basic")
    commands = [
        remote(u.port()), "break add", "continue",
        "info registers", "info all-registers",
        "set $rax = 0x1234", "p/x $rax",
        "set $xmm15.v4_int32[0] = 42", "set $st7 = 2.5",
        "stepi",
        "p $xmm15.v4_int32[0]", "p $st7", "p/x $fctrl", "p $fs_base != 0",
    ]
    if have_avx():
        commands[-1:-1] = []
        commands += ["set $ymm14.v8_int32[7] = 99", "stepi", "p $ymm14.v8_int32[7]", "p $ymm14.v8_int32[0]"]
    commands += ["kill"]
    out = gdb(env, commands, env.program("basic"))
    for reg in ("rax", "rip", "eflags", "cs", "gs"):
        expect(out, rf"^{reg}\s+0x[0-9a-f]+", "info registers")
    expect(out, r"^eflags\s+0x[0-9a-f]+\s+\[ .*\]")
    for reg in ("st0", "fctrl", "mxcsr", "ymm0" if have_avx() else "xmm0"):
        expect(out, rf"^{reg}\s", "info all-registers")
    expect(out, r"^\$1 = 0x1234$")
    expect(out, r"^\$2 = 42$")
    expect(out, r"^\$3 = 2\.5$")
    expect(out, r"^\$4 = 0x37f$")
    expect(out, r"^\$5 = 1$")
    if have_avx():
        expect(out, r"^ymm0\s", "info all-registers")
        expect(out, r"^\$6 = 99$")
        expect(out, r"^\$7 = 0$")


@test
def info_proc_and_exec_file_through_host_io(env):
    u = Ustub(env, "--once", ":0", "./basic", "a", "b")
    pid = u.inferior_pid()
    out = gdb(env, [remote(u.port()), "info proc", "info inferiors", "kill"])
    expect(out, rf"^process {pid}$")
    expect(out, r"^cmdline = '\./basic a b'$")
    expect(out, rf"^cwd = '{re.escape(env.bin)}'$")
    expect(out, rf"^exe = '{re.escape(env.program('basic'))}'$")
    # With no file given, gdb learned the program from qXfer:exec-file.
    expect(out, rf"process {pid}\s.*\starget:{re.escape(env.program('basic'))}")


@test
def ctrl_c_interrupts_a_running_program(env):
    u = Ustub(env, "--once", ":0", "./spin")
    g = spawn_gdb(env, [remote(u.port()), "continue", "bt", "print ticks > 0", "kill"], env.program("spin"))
    pid = u.inferior_pid()
    check(wait_until(lambda: process_state(pid) == "R", timeout=20), "the program never ran")
    time.sleep(0.3)
    g.send_signal(signal.SIGINT)  # what the terminal sends when the user presses Ctrl-C
    out, _ = g.communicate(timeout=60)
    expect(out, r"Program received signal SIGINT, Interrupt\.")
    expect(out, r"#0\s+(0x[0-9a-f]+ in )?main \(\) at .*spin\.c")
    expect(out, r"^\$1 = 1$")


@test
def crash_stops_at_the_fault_and_then_terminates(env):
    u = Ustub(env, "--once", ":0", "./crash")
    out = gdb(env, [remote(u.port()), "continue", "bt", "x/i $pc", "continue"], env.program("crash"))
    expect(out, r"Program received signal SIGSEGV, Segmentation fault\.")
    expect(out, r"#0  0x[0-9a-f]+ in main \(\) at .*crash\.c:5")
    expect(out, r"=> 0x[0-9a-f]+ <main\+\d+>:\s+mov\s+\(%rax\),%eax")
    expect(out, r"Program terminated with signal SIGSEGV, Segmentation fault\.")
    u.wait_exit()
    expect(u.output, r"Child terminated with signal = 11 \(SIGSEGV\)")


@test
def signals_are_reported_and_passed_with_their_own_numbers(env):
    u = Ustub(env, "--once", ":0", "./signals")
    out = gdb(env, [remote(u.port()), "continue", "bt 1", "continue"], env.program("signals"))
    expect(out, r"Program received signal SIGUSR1, User defined signal 1\.")
    expect(out, r"exited with code 07")
    v = Ustub(env, "--once", ":0", "./signals")
    out = gdb(env, [remote(v.port()), "handle SIGUSR1 nopass", "continue", "continue"], env.program("signals"))
    expect(out, r"exited with code 01")  # gdb said not to pass it: the handler never ran


# --- the protocol, packet by packet ----------------------------------------------------------

def break_on_hit_if_0(c, env, pid):
    """A breakpoint on hitting_threads' hit() whose condition (agent bytecode) is always false."""
    program = env.program("hitting_threads")
    symbols = subprocess.run(["nm", program], capture_output=True, text=True, check=True).stdout
    offset = int(re.search(r"^([0-9a-f]+) T hit$", symbols, re.M).group(1), 16)
    with open(f"/proc/{pid}/maps") as maps:
        base = min(int(line.split("-")[0], 16) for line in maps if line.rstrip().endswith(program))
    # "if 0": const8 0, end.
    check(c.request(f"Z0,{base + offset:x},1;X3,220027") == b"OK", "a conditional breakpoint")


@test
def a_ctrl_c_is_answered_while_eighty_threads_keep_hitting_a_false_condition(env):
    # Each hit is judged in ustub and the thread let go, so the threads stop
    # again as fast as they are resumed; ustub must still read gdb's Ctrl-C
    # (it once collected their stops for ever, and never did).
    u = Ustub(env, "--once", ":0", "./hitting_threads")
    c = RspClient(("127.0.0.1", u.port()), timeout=15.0)
    c.handshake()
    c.request("?")
    pid = u.inferior_pid()
    break_on_hit_if_0(c, env, pid)
    for round in range(3):
        c.send("vCont;c")
        time.sleep(1.0)
        c.send_raw(b"\x03")
        started = time.time()
        try:
            stop = c.read_packet().decode()
        except socket.timeout:
            raise Failure(f"round {round}: no stop reply {time.time() - started:.1f} s after the Ctrl-C")
        check(stop.startswith("T"), f"a stop for the Ctrl-C, not {stop} (the program ran on to its end)")
    c.send("vKill;%x" % pid)
    c.read_packet()
    c.close()
    u.wait_exit()


def file_backed(pid, address):
    """Whether `address` lies in a mapping of a file (the program, libc), not in anonymous memory."""
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            fields = line.split()
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if start <= address < end:
                return len(fields) > 5 and fields[5].startswith("/")
    return False


@test
def in_non_stop_ctrl_c_and_stop_requests_are_answered_while_eighty_threads_hit_a_false_condition(env):
    # Non-stop: the false hits go on out of line, in a page ustub maps; a
    # thread stopped there must be told at the program's own instruction.
    u = Ustub(env, "--once", ":0", "./hitting_threads")
    c = RspClient(("127.0.0.1", u.port()), timeout=15.0)
    c.handshake()
    check(c.request("QNonStop:1") == b"OK", "non-stop on")
    check(c.request("?").startswith(b"T05"), "the launched program's stop")
    check(c.request("vStopped") == b"OK", "one stop")
    pid = u.inferior_pid()
    break_on_hit_if_0(c, env, pid)

    def pc_of(stop):
        return int.from_bytes(bytes.fromhex(re.search(rb"10:([0-9a-f]{16});", stop).group(1).decode()), "little")

    for round in range(3):
        check(c.request("vCont;c") == b"OK", "every thread resumed")
        time.sleep(1.0)
        check(c.request("vCtrlC") == b"OK", "vCtrlC is answered at once")
        try:
            stop = c.read_notification()
        except socket.timeout:
            raise Failure(f"round {round}: no stop notification after the Ctrl-C")
        check(stop.startswith(b"Stop:T02"), f"a SIGINT stop, not {stop!r}")
        check(c.request("vStopped") == b"OK", f"round {round}: one stop for one Ctrl-C, no false hit told")
        check(file_backed(pid, pc_of(stop)), f"round {round}: the pc told, {pc_of(stop):#x}, is not in ustub's page")
    threads = re.findall(rb"p[0-9a-f]+\.[0-9a-f]+", c.request("qfThreadInfo"))
    check(len(threads) == 81, f"main and eighty threads: {len(threads)}")
    check(c.request(b"vCont;t") == b"OK", "stop every thread")
    stops = [c.read_notification()[len(b"Stop:"):]]
    while stops[-1] != b"OK":
        stops.append(c.request("vStopped"))
    stops.pop()
    # The thread stopped by the Ctrl-C was already stopped: gdb knows it.
    check(len(stops) == 80, f"each running thread's stop: {len(stops)}")
    for stop in stops:
        check(stop.startswith(b"T00"), f"a stop as asked, not a false hit: {stop!r}")
        check(file_backed(pid, pc_of(stop)), f"the pc told, {pc_of(stop):#x}, is not in ustub's page")
    c.send("vKill;%x" % pid)
    c.read_packet()
    c.close()
    u.wait_exit()


@test
def packets_acks_errors_and_interrupts(env):
    u = Ustub(env, "--once", ":0", "./spin")
    c = RspClient(("127.0.0.1", u.port()))
    features = c.handshake(no_ack=False).decode()
    size = int(re.search(r"PacketSize=([0-9a-f]+)", features).group(1), 16)
    check(size > 0x47FF, f"PacketSize {size:#x} is not above gdbserver's")
    for f in ("QStartNoAckMode+", "qXfer:features:read+", "qXfer:libraries-svr4:read+", "multiprocess+", "swbreak+"):
        check(f in features, f"qSupported lacks {f}: {features}")
    # Bad checksum in ack mode: a '-', and the session goes on.
    c.send_raw(b"$g#00")
    check(c.read_ack() == b"-", "a bad checksum must be answered with '-'")
    check(c.request("QStartNoAckMode") == b"OK", "no-ack negotiation")
    c.ack_mode = False
    c.send_raw(b"$?#3f")
    stop = c.read_packet().decode()
    check(re.match(r"T05.*thread:p[0-9a-f]+\.[0-9a-f]+;", stop), f"stop reply {stop}")
    # Garbage and malformed packets get an error reply; unknown ones the empty reply.
    check(c.request("Mzz,1:00").startswith(b"E"), "malformed 'M' must be an error")
    check(c.request("vCont;x").startswith(b"E"), "bad vCont must be an error")
    check(c.request("qNoSuchThing") == b"", "unknown packets get the empty reply")
    check(c.request("m0,8") == b"E01", "unreadable memory is E01")
    c.send_raw(b"$" + b"a" * (size + 100) + b"#00")
    check(c.read_packet().startswith(b"E"), "an oversize packet gets an error")
    # Breakpoint bytes are hidden from memory reads.
    pc = int(re.search(r"10:([0-9a-f]{16});", stop).group(1), 16)
    pc = int.from_bytes(bytes.fromhex(f"{pc:016x}"), "little")
    before = c.request(f"m{pc:x},4")
    check(c.request(f"Z0,{pc:x},1") == b"OK", "Z0")
    check(c.request(f"m{pc:x},4") == before, "memory reads must not show the breakpoint")
    check(c.request(f"z0,{pc:x},1") == b"OK", "z0")
    # Interrupt with 0x03, then with vCtrlC.
    target = b""
    while True:
        chunk = c.request(f"qXfer:features:read:target.xml:{len(target):x},fff")
        check(chunk[:1] in (b"l", b"m"), f"bad qXfer reply {chunk[:20]!r}")
        target += chunk[1:]
        if chunk[:1] == b"l":
            break
    check(b"<architecture>i386:x86-64</architecture>" in target, "target.xml names the architecture")
    regs = c.request("g")
    names = re.findall(rb'bitsize="(\d+)"', target)
    check(len(regs) == sum(int(b) for b in names) // 4, "g length must match target.xml")
    c.send("vCont;c")
    time.sleep(0.2)
    c.send_raw(b"\x03")
    check(c.read_packet().startswith(b"T02"), "0x03 must stop it with SIGINT")
    c.send("vCont;c")
    time.sleep(0.2)
    check(c.request("vCtrlC") == b"OK", "vCtrlC is acknowledged with OK")
    check(c.read_packet().startswith(b"T02"), "vCtrlC must stop it with SIGINT")
    check(c.request("vKill;" + format(u.inferior_pid(), "x")) == b"OK", "vKill")
    c.close()
    check(u.wait_exit() == 0, "ustub exits after the kill")


# --- runner -----------------------------------------------------------------------------------

def main():
    import hardening
    import processes
    import stepping
    import threads
    TESTS.extend(threads.TESTS)
    TESTS.extend(processes.TESTS)
    TESTS.extend(hardening.TESTS)
    TESTS.extend(stepping.TESTS)
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True)
    parser.add_argument("-k", dest="only", help="run tests whose name matches this regular expression")
    args = parser.parse_args()
    env = Env(args.work)
    env.build_programs()
    print(f"e2e: running as uid {os.getuid()} with {sys.argv[0]}", flush=True)
    passed = failed = 0
    for t in TESTS:
        if args.only and not re.search(args.only, t.__name__):
            continue
        started = time.time()
        try:
            t(env)
            left = our_programs(env)  # zombies count: they are a leak too
            if left:
                raise Failure(f"left behind: {left}")
            passed += 1
            print(f"PASS {t.__name__} ({time.time() - started:.1f}s)", flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the run
            failed += 1
            detail = str(e) if isinstance(e, Failure) else traceback.format_exc()
            print(f"FAIL {t.__name__} ({time.time() - started:.1f}s)\n{detail}", flush=True)
        finally:
            for pid, _ in our_programs(env):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            subprocess.run(["pkill", "-KILL", "-u", str(os.getuid()), "-f", "^" + env.ustub], check=False)
    print(f"e2e: {passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
