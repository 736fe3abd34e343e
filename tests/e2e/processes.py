"""What programs do beyond one process's threads, as gdb users see it: syscall
catchpoints, exec, fork and vfork following, the run environment, info os, and
(with a raw client) thread events and clients that do not follow forks."""
import os
import re
import signal
import subprocess
import time

from harness import (Ustub, alive, check, expect, expect_not, extended, gdb, our_programs, remote, spawn_gdb,
                     test_registry, wait_until)
from rsp_client import RspClient

TESTS, test = test_registry()


@test
def catch_syscall_stops_at_entry_and_return_and_gdb_can_change_the_call(env):
    u = Ustub(env, "--once", ":0", "./syscalls")
    out = gdb(env, [remote(u.port()), "catch syscall getpid getppid", "continue",
                    "set $orig_rax = -1",  # skip getpid: the program sees what gdb puts in $rax at its return
                    "continue", "print $rax", "set $rax = 4242",
                    "continue", "continue", "print $rax", "set $rax = 77", "delete", "continue"],
              env.program("syscalls"))
    expect(out, r"Catchpoint 1 \(call to syscall getpid\)")
    expect(out, r"Catchpoint 1 \(returned from syscall getpid\)")
    expect(out, r"^\$1 = -38$")  # a skipped syscall returns -ENOSYS
    expect(out, r"Catchpoint 1 \(call to syscall getppid\)")
    expect(out, r"Catchpoint 1 \(returned from syscall getppid\)")
    expect_not(out, r"syscall chdir")  # not in the filter: no stop
    expect(out, r"exited normally")
    check(u.wait_exit() == 0, "ustub exits with its program")
    expect(u.output, r"^getpid returned 4242$")
    expect(u.output, r"^chdir returned -1$")  # failed with ENOENT, untouched
    expect(u.output, r"^getppid returned 77$")


@test
def catch_syscall_with_no_filter_stops_at_every_syscall(env):
    u = Ustub(env, "--once", ":0", "./syscalls")
    out = gdb(env, [remote(u.port()), "break main", "continue", "catch syscall",
                    "continue", "continue", "continue", "continue", "continue", "continue", "delete", "continue"],
              env.program("syscalls"))
    stops = re.findall(r"Catchpoint 2 \((call to|returned from) syscall (\w+)\)", out)
    check(stops[:6] == [("call to", "getpid"), ("returned from", "getpid"), ("call to", "chdir"),
                        ("returned from", "chdir"), ("call to", "getppid"), ("returned from", "getppid")],
          f"entry and return of each syscall, in order: {stops}\n{out}")
    expect(out, r"exited normally")
    check(u.wait_exit() == 0, "ustub exits with its program")


@test
def thread_events_report_each_new_thread_and_each_exit(env):
    """QThreadEvents (gdb turns it on in non-stop mode): a 'create' stop for
    every new thread and a 'w' reply for every thread's exit."""
    u = Ustub(env, "--once", ":0", "./threads", "4", "2")
    c = RspClient(("127.0.0.1", u.port()), timeout=30)
    supported = c.handshake()
    check(b"QThreadEvents+" in supported, f"QThreadEvents+ offered: {supported!r}")
    check(c.request("QThreadEvents:2") .startswith(b"E"), "a bad value is an error")
    check(c.request("QThreadEvents:1") == b"OK", "thread events on")
    created, exited = set(), set()
    reply = c.request("vCont;c")
    while not reply.startswith(b"W"):
        if m := re.match(rb"T05.*thread:p[0-9a-f]+\.([0-9a-f]+);.*create:;", reply) or \
                re.match(rb"T05.*create:;.*thread:p[0-9a-f]+\.([0-9a-f]+);", reply):
            created.add(m.group(1))
        elif m := re.match(rb"w([0-9a-f]+);p[0-9a-f]+\.([0-9a-f]+)$", reply):
            check(m.group(1) == b"0", f"threads exit with 0: {reply!r}")
            exited.add(m.group(2))
        else:
            check(False, f"unexpected reply {reply!r}")
        reply = c.request("vCont;c")
    check(len(created) == 4, f"four threads created, {len(created)} reported")
    check(exited == created, f"each created thread's exit reported: {created} vs {exited}")
    c.close()
    check(u.wait_exit() == 0, "ustub exits with its program")


@test
def run_starts_the_program_with_gdbs_environment_and_working_directory(env):
    workdir = os.path.join(env.runtime, "cwd-for-run")
    os.makedirs(workdir, exist_ok=True)
    environ = dict(os.environ, USTUB_TEST_UNSET="inherited")
    u = Ustub(env, "--multi", ":0", environ=environ)
    port = u.port()
    out = gdb(env, [extended(port), "set remote exec-file " + env.program("show_env"),
                    "set environment GREETING=hello there", "unset environment USTUB_TEST_UNSET",
                    f"set cwd {workdir}", "run",
                    "unset environment", "set cwd", "run",  # back to ustub's own
                    "set cwd /no/such/directory", "run", "monitor exit"], env.program("show_env"))
    check(u.wait_exit() == 0, "monitor exit ends ustub")
    runs = u.output.split("created; pid = ")
    check(len(runs) == 3, f"two programs started:\n{u.output}")
    expect(runs[1], rf"^cwd={re.escape(workdir)}$")
    expect(runs[1], r"^GREETING=hello there$")
    expect(runs[1], r"^USTUB_TEST_UNSET=\(unset\)$")
    expect(runs[2], rf"^cwd={re.escape(env.bin)}$")
    expect(runs[2], r"^USTUB_TEST_UNSET=inherited$")
    expect(runs[2], r"^GREETING=\(unset\)$")
    expect(out, r"Running .*show_env.* on the remote target failed")
    expect(u.output, r"cannot change to directory /no/such/directory: No such file or directory")


@test
def info_os_processes_lists_the_users_processes(env):
    u = Ustub(env, "--multi", ":0")
    port = u.port()
    out = gdb(env, [extended(port), "info os", "info os processes", "monitor exit"])
    expect(out, r"^processes\s+Listing of all processes")
    expect(out, r"^pid\s+user\s+command\s+cores")
    expect(out, rf"^{u.proc.pid}\s+\S+\s+{re.escape(env.ustub)} --multi :0\s")  # ustub itself, as ps shows it
    check(u.wait_exit() == 0, "monitor exit ends ustub")


@test
def exec_is_followed_into_the_new_program_with_its_breakpoints(env):
    u = Ustub(env, "--once", ":0", "./exec_into", env.program("show_env"))
    out = gdb(env, [remote(u.port()), "catch exec", "break main", "continue", "continue",
                    "info threads", "info breakpoints", "continue", "bt 1", "continue"], env.program("exec_into"))
    expect(out, r"process \d+ is executing new program: .*/show_env")
    expect(out, r"Catchpoint 1 \(exec'd .*/show_env\)")
    expect(out, r"Breakpoint 2, main \(\) at .*show_env\.c")  # re-set in the new program
    threads = re.findall(r"^[* ] +\d+ +Thread ", out, re.M)
    check(len(threads) == 1, f"one thread left after the exec:\n{out}")
    expect(out, r"exited normally")
    check(u.wait_exit() == 0, "ustub exits with its program")
    expect(u.output, r"^GREETING=")


@test
def fork_children_are_detached_without_our_breakpoints(env):
    """detach-on-fork (gdb's default): gdb takes its breakpoints out of each
    child and detaches it; 200 children run to completion, none left traced."""
    u = Ustub(env, "--once", ":0", "./forker", "200")
    out = gdb(env, [remote(u.port()), "break child_work", "catch fork", "continue", "continue",
                    "info inferiors", "delete 2", "continue"], env.program("forker"), timeout=120)
    expect(out, r"Catchpoint 2 \(forked process \d+\)")
    expect(out, r"\[Detaching after fork from child process \d+\]")
    expect(out, r"exited normally")
    check(u.wait_exit() == 0, "ustub exits with its program")
    expect(u.output, r"^200 of 200 children ended well$")  # none of them died on a breakpoint


@test
def follow_fork_mode_child_debugs_the_child(env):
    u = Ustub(env, "--once", ":0", "./forker", "1")
    out = gdb(env, [remote(u.port()), "set follow-fork-mode child", "break child_work", "continue",
                    "info inferiors", "print n", "continue"], env.program("forker"))
    expect(out, r'Thread 2\.1 "forker" hit Breakpoint 1, child_work \(n=0\)')
    expect(out, r"^\* 2 +process \d+ ")
    expect(out, r"^\$1 = 0$")
    expect(out, r"\[Inferior 2 \(process \d+\) exited normally\]")
    check(u.wait_exit() == 0, "ustub exits once the parent it let go is gone too")
    expect(u.output, r"^1 of 1 children ended well$")  # the parent, detached, ran on and reaped it


@test
def detach_on_fork_off_keeps_parent_and_child_under_gdb(env):
    u = Ustub(env, "--once", ":0", "./forker", "1")
    out = gdb(env, [remote(u.port()), "set detach-on-fork off", "set schedule-multiple on",
                    "break child_work", "continue", "info inferiors", "continue", "inferior 1", "continue"],
              env.program("forker"))
    expect(out, r"\[New inferior 2 \(process \d+\)\]")
    expect(out, r"hit Breakpoint 1\.2, child_work \(n=0\)")
    check(len(re.findall(r"^[* ] +[12] +process \d+ ", out, re.M)) == 2, f"both inferiors listed:\n{out}")
    expect(out, r"\[Inferior 2 \(process \d+\) exited normally\]")
    expect(out, r"\[Inferior 1 \(process \d+\) exited normally\]")
    check(u.wait_exit() == 0, "ustub exits with its program")
    expect(u.output, r"^1 of 1 children ended well$")


@test
def non_stop_fork_child_is_readable_as_soon_as_gdb_hears_of_it(env):
    # gdb reads the new inferior's registers the moment the fork is told; in
    # non-stop the fork waits for the child's first stop (gdb saw "PC register
    # is not available" and a running child 1 run in 6 before).
    u = Ustub(env, "--once", ":0", "./forker", "1")
    out = gdb(env, ["set non-stop on", remote(u.port()), "set detach-on-fork off", "break child_work", "continue",
                    "inferior 2", "info symbol $pc", "continue", "shell sleep 1"],
              env.program("forker"))
    check("PC register is not available" not in out, f"the child's registers were readable:\n{out}")
    expect(out, r"\[New inferior 2 \(process \d+\)\]")
    expect(out, r"Breakpoint 1\.2, child_work \(n=0\)")
    expect(out, r"^child_work \+ \d+ in section \.text")
    expect(out, r"\[Inferior 2 \(process \d+\) exited normally\]")
    # The parent ran on meanwhile (non-stop), reaped its child and ended.
    check(u.wait_exit() == 0, "ustub exits with its program")
    expect(u.output, r"^1 of 1 children ended well$")


@test
def vfork_and_stepping_over_fork_leave_the_children_running(env):
    u = Ustub(env, "--once", ":0", "./vforker")
    out = gdb(env, [remote(u.port()), "catch vfork", "break 12", "continue", "continue", "next", "continue"],
              env.program("vforker"))
    expect(out, r"Catchpoint 1 \(vforked process \d+\)")
    expect(out, r"\[Detaching after vfork from child process \d+\]")
    expect(out, r"Breakpoint 2, main \(\) at .*vforker\.c:12")
    check(u.wait_exit() == 0, "ustub exits with its program")
    expect(u.output, r"^child status 0$")
    u = Ustub(env, "--once", ":0", "./forker", "1")
    out = gdb(env, [remote(u.port()), "break 15", "continue", "next", "next", "continue"], env.program("forker"))
    expect(out, r"\[Detaching after fork from child process \d+\]\n16\t")  # the step ends on the next line
    check(u.wait_exit() == 0, "ustub exits with its program")
    expect(u.output, r"^1 of 1 children ended well$")


@test
def without_fork_events_children_are_let_go_without_our_breakpoints(env):
    """A client that does not follow forks (no fork-events): ustub takes its
    breakpoints out of each child and lets it go at once."""
    u = Ustub(env, "--once", ":0", "./forker", "3")
    pid = u.inferior_pid()
    c = RspClient(("127.0.0.1", u.port()), timeout=30)
    supported = c.handshake()
    check(b"fork-events" not in supported, "fork events are only for clients that ask")
    out = subprocess.run(["nm", env.program("forker")], capture_output=True, text=True, check=True).stdout
    offset = int(re.search(r"^([0-9a-f]+) T child_work$", out, re.M).group(1), 16)
    with open(f"/proc/{pid}/maps") as f:
        base = int(f.readline().split("-")[0], 16)
    check(c.request("Z0,%x,1" % (base + offset)) == b"OK", "breakpoint in child_work")
    reply = c.request("vCont;c")
    while reply.startswith(b"T14"):  # SIGCHLD as each child ends: pass it on
        reply = c.request("vCont;C14")
    check(reply.startswith(b"W00"), f"the parent ran to its end: {reply!r}")
    c.close()
    check(u.wait_exit() == 0, "ustub exits with its program")
    expect(u.output, r"^3 of 3 children ended well$")


@test
def run_with_no_local_program_reads_it_from_the_target(env):
    """gdb without the program file: it names the remote one, reads its
    symbols through vFile, and debugs it (here into a fork child)."""
    u = Ustub(env, "--multi", ":0")
    port = u.port()
    out = gdb(env, [extended(port), "set remote exec-file " + env.program("forker"), "starti",
                    "break child_work", "set follow-fork-mode child", "continue", "bt 1", "kill", "monitor exit"])
    expect(out, r"Reading .*forker from remote target")
    expect(out, r'hit Breakpoint 1, child_work \(n=0\) at .*forker\.c')
    check(u.wait_exit() == 0, "monitor exit ends ustub")


@test
def two_inferiors_on_one_extended_remote_connection(env):
    """gdb's add-inferior and run: a second process next to the first, both
    listed, each killed on its own."""
    u = Ustub(env, "--multi", ":0")
    port = u.port()
    basic = env.program("basic")
    out = gdb(env, [extended(port), f"set remote exec-file {basic}", "starti", "add-inferior", "inferior 2",
                    f"file {basic}", f"set remote exec-file {basic}", "starti", "info inferiors",
                    "kill inferiors 1", "info inferiors", "kill inferiors 2", "monitor exit"], basic)
    listings = out.split("Num  Description")
    check(len(listings) == 3, f"two listings:\n{out}")
    check(len(re.findall(r"^[* ] +[12] +process \d+ ", listings[1], re.M)) == 2, f"both run:\n{out}")
    check(len(re.findall(r"^[* ] +[12] +process \d+ ", listings[2], re.M)) == 1, f"one left:\n{out}")
    check(u.wait_exit() == 0, "monitor exit ends ustub")
    check(len(re.findall(r"created; pid = ", u.output)) == 2, "two programs were started")


@test
def several_gdbs_share_one_multi_ustub_each_with_its_own_programs(env):
    """The daemon: every gdb on its own connection, with its own processes.
    While one client's program is killed from outside, another client's gdb
    vanishes with its program running, and a third is held in a blocking
    detach (a vfork parent), the fourth client steps its program undisturbed.
    The vanished client's program waits for the next gdb, as under gdbserver."""
    u = Ustub(env, "--multi", ":0")
    port = u.port()

    def started(name):
        return int(u.wait_for(rf"^Process .*/{name} created; pid = (\d+)$", timeout=30).group(1))

    killed_later = spawn_gdb(env, [extended(port), "set remote exec-file " + env.program("sleeper"),
                                   "run /dev/null"], env.program("sleeper"))
    sleeper = started("sleeper")
    vanishing = spawn_gdb(env, [extended(port), "set remote exec-file " + env.program("spin"), "run"],
                          env.program("spin"))
    spin = started("spin")
    # A vfork parent stops only once its child is done (2 s): detaching waits
    # for that, on this client's thread alone.
    held = spawn_gdb(env, [extended(port), "set remote exec-file " + env.program("vfork_sleeper"),
                           "break vfork", "run", "finish", "detach"], env.program("vfork_sleeper"))
    vfork_parent = started("vfork_sleeper")

    begun = time.time()
    out = gdb(env, [extended(port), "set remote exec-file " + env.program("basic"), "break add", "run",
                    "next", f"shell kill -9 {sleeper}", "print sum", f"shell kill -9 {vanishing.pid}", "stepi",
                    "stepi", "next", "info inferiors", "delete", "continue"], env.program("basic"))
    stepping_took = time.time() - begun
    expect(out, r"Breakpoint 1, add \(a=0, b=0\)")
    expect(out, r"^\$1 = 0$")
    expect(out, r"\[Inferior 1 \(process \d+\) exited with code 03\]")
    inferiors = re.findall(r"^[* ] +\d+ +process (\d+)", out, re.M)
    check(len(inferiors) == 1 and int(inferiors[0]) not in (sleeper, spin, vfork_parent),
          f"a client sees its own program only: {inferiors}\n{out}")
    check(stepping_took < 30, f"stepping was never held up by the others ({stepping_took:.1f} s)")

    expect(killed_later.communicate(timeout=30)[0], r"Program terminated with signal SIGKILL")
    vanishing.wait()
    held_out = held.communicate(timeout=60)[0]
    expect(held_out, rf"\[Inferior 1 \(process {vfork_parent}\) detached\]")
    check(wait_until(lambda: (dict(our_programs(env)).get(spin) or "") in "tT", timeout=10),
          "the vanished client's program waits, stopped, for the next gdb")

    out = gdb(env, [extended(port), "info inferiors", "kill", "monitor exit"], env.program("spin"))
    expect(out, rf"process {spin}\b")
    expect(out, rf"\[Inferior 1 \(process {spin}\) killed\]")
    check(u.wait_exit() == 0, "monitor exit from any client ends ustub")
    check(wait_until(lambda: not alive(vfork_parent), timeout=10), "the detached program ran to its end")
