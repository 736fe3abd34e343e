"""What makes stepping and breakpoints cheap, and must not change what gdb sees.

Range stepping (vCont;r): gdb's `step` and `next` through a line in one
request, which ustub runs on breakpoints of its own at the line's exits
instead of single-stepping every instruction. A range step must stop exactly
where gdbserver's single-steps stop.

Target-side conditions (ConditionalBreakpoints): ustub evaluates gdb's
bytecode for `break ... if COND` and steps over a hit whose condition is
false without a round trip."""
import os
import re
import signal
import subprocess
import time

from harness import GDB, Failure, Ustub, check, expect, expect_not, gdb, extended, remote, test_registry

TESTS, test = test_registry()


def line_of(env, text):
    """The line number of the first line of stepping.c that holds `text`."""
    with open(os.path.join(env.work, "programs", "stepping.c")) as f:
        for number, line in enumerate(f, 1):
            if text in line:
                return number
    raise Failure(f"stepping.c has no line with {text!r}")


@test
def next_over_a_20000_iteration_line_lands_on_the_next_line(env):
    loop = line_of(env, "i < 20000; i++) total += i;")
    u = Ustub(env, "--once", "--debug", ":0", "./stepping")
    port = u.port()
    out = gdb(env, [remote(port), f"break stepping.c:{loop}", "continue", "next", "print total",
                    "info line *$pc", "kill"], env.program("stepping"))
    expect(out, r"^\$1 = 199990000$")
    expect(out, rf'^Line {loop + 1} of "[^"]*stepping.c"')
    u.wait_exit()
    # The whole line ran on breakpoints: one continue, not ~140,000 single-steps.
    expect(u.output, r"range step on breakpoints: cont tid \d+", "ustub --debug")
    steps = len(re.findall(r"^step tid", u.output, re.M))
    check(steps < 100, f"ustub single-stepped {steps} times for one range step")


STEP_SCRIPT = """
python
import gdb
seen = []
for i in range({count}):
    command = "next" if i % 5 == 4 else "step"
    try:
        gdb.execute(command, to_string=True)
        frame = gdb.selected_frame()
        seen.append("%s %s:%s pc=%x" % (command, frame.name(), frame.find_sal().line, frame.pc()))
    except gdb.error as e:
        seen.append("%s: %s" % (command, e))
        break
print("STOPS\\n" + "\\n".join(seen) + "\\nEND")
end
"""


def stops_under(env, server, count):
    script = os.path.join(env.runtime, "steps.gdb")
    with open(script, "w") as f:
        f.write(STEP_SCRIPT.format(count=count))
    out = gdb(env, [f"target remote | {server} - ./stepping x 3", "break main", "continue", "source " + script],
              env.program("stepping"), timeout=300)
    m = re.search(r"^STOPS\n(.*?)^END$", out, re.M | re.S)
    if not m:
        raise Failure(f"the step script did not finish against {server}:\n{out[-3000:]}")
    return m.group(1).splitlines()


@test
def step_and_next_stop_where_gdbserver_would(env):
    # Loops, calls, returns, a recursion, a jump table and calls through
    # pointers, stepped into and over, each stop compared with gdbserver's.
    ours = stops_under(env, env.ustub, 120)
    theirs = stops_under(env, "/usr/bin/gdbserver", 120)
    check(len(ours) > 40, f"too few stops to compare: {ours}")
    for i, (a, b) in enumerate(zip(ours, theirs)):
        check(a == b, f"stop {i}: ustub {a!r}, gdbserver {b!r}")
    check(len(ours) == len(theirs), f"ustub made {len(ours)} stops, gdbserver {len(theirs)}")
    # ustub looks for each step's end without sleeping (busy polling); sleeping
    # at once, as gdbserver does, must make the very same stops.
    sleeping = stops_under(env, env.ustub + " --busy-poll=0", 120)
    check(sleeping == ours, "ustub --busy-poll=0 stopped elsewhere than with busy polling")


@test
def ctrl_c_during_a_long_next_stops_on_an_instruction_of_the_line(env):
    spin = line_of(env, "while (keep_spinning) spins++;")
    u = Ustub(env, "--once", ":0", "./stepping", "spin")
    port = u.port()
    proc = subprocess.Popen([GDB, "-nx", "-batch", "-ex", "set confirm off", "-ex", remote(port),
                             "-ex", f"break stepping.c:{spin}", "-ex", "continue", "-ex", "next",
                             "-ex", "info line *$pc", "-ex", "x/i $pc", "-ex", "set var keep_spinning = 0",
                             "-ex", "next", "-ex", "print spins > 0", "-ex", "kill", env.program("stepping")],
                            cwd=env.bin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(1.5)  # gdb is inside the endless `next`
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise Failure("gdb did not stop after Ctrl-C during a range step")
    expect(out, r"Program received signal SIGINT")
    # Stopped on an instruction of the spinning line, never one byte past a breakpoint.
    expect(out, rf'^Line {spin} of "[^"]*stepping.c" starts at address')
    expect(out, r"^=> 0x[0-9a-f]+ <spin_until_told\+\d+>:\t(?!\(bad\))\S")
    expect(out, rf"^{spin + 1}\t  spins = -spins;$")  # the `next` after it ended the loop
    expect(out, r"^\$1 = 1$")
    u.wait_exit()


@test
def conditional_breakpoint_stops_only_where_its_condition_holds_evaluated_by_ustub(env):
    u = Ustub(env, "--once", "--debug", ":0", "./stepping")
    port = u.port()
    out = gdb(env, [remote(port), "break main", "continue", "break fib if n == 1",
                    "continue", "info breakpoints", "print n", "bt 2", "delete 2", "break fib if n == 99", "continue"],
              env.program("stepping"))
    expect(out, r"stop only if n == 1 \(target evals\)")
    expect(out, r"^Breakpoint 2, fib \(n=1\) at ")
    expect(out, r"^\$1 = 1$")
    expect(out, r"^#1  0x[0-9a-f]+ in fib \(n=2\)")  # fib(5) -> fib(4) -> ... -> fib(2) -> fib(1): the first n == 1
    # A condition that never holds: the program runs to its end.
    expect(out, r"\[Inferior 1 \(process \d+\) exited with code \d+\]")
    check("Breakpoint 3, fib" not in out, "a false condition stopped the program")
    u.wait_exit()
    skipped = len(re.findall(r"condition false: (?:step over the breakpoint|on out of line)", u.output))
    # fib(5) makes 15 calls: 4 before the first n == 1, all 15 after it with n == 99 (less the 5 done).
    check(skipped >= 10, f"ustub stepped over {skipped} false hits; gdb must have judged the others")


@test
def false_conditions_in_every_thread_at_once_are_judged_by_ustub_and_the_program_computes_right(env):
    # Out of line: the breakpoint stays in memory while a false hit goes on,
    # so other threads running is no reason to ask gdb.
    u = Ustub(env, "--once", "--debug", ":0", "./threads_counting")
    out = gdb(env, [remote(u.port()), "break main", "continue", "break count if value == 4000",
                    "continue", "print value", "delete 2", "continue"], env.program("threads_counting"))
    expect(out, r'hit Breakpoint 2, count \(value=4000, sum=\d+\)')
    expect(out, r"^\$1 = 4000$")
    expect(out, r"\[Inferior 1 \(process \d+\) exited normally\]")  # every sum right
    u.wait_exit()
    judged = len(re.findall(r"condition false: on out of line", u.output))
    check(judged >= 4000, f"ustub judged {judged} false hits of the 4 threads' 16000 or more")


@test
def in_non_stop_false_conditions_are_judged_by_ustub_too_and_the_threads_never_stop(env):
    # Non-stop: gdb may resume any thread at any time, so a hit is never
    # stepped over with the breakpoint out; out of line it need not be.
    u = Ustub(env, "--once", "--debug", ":0", "./threads_counting")
    out = gdb(env, ["set non-stop on", remote(u.port()), "break main", "continue",
                    "break count if value == 4000", "continue -a", "delete 2", "continue -a"],
              env.program("threads_counting"))
    expect(out, r'hit Breakpoint 2, count \(value=4000, sum=\d+\)')
    check(not re.search(r"value=(?!4000)\d+", out), f"a false condition was told:\n{out}")
    expect(out, r"\[Inferior 1 \(process \d+\) exited normally\]")  # every sum right
    u.wait_exit()
    judged = len(re.findall(r"condition false: on out of line", u.output))
    check(judged >= 4000, f"ustub judged {judged} false hits of the 4 threads' 16000 or more")
    expect_not(u.output, r"condition false: step over the breakpoint")


@test
def agent_dprintf_prints_from_ustub_in_every_thread_and_the_program_never_stops(env):
    # set dprintf-style agent: the printf is bytecode ustub runs at each hit
    # whose condition holds (BreakpointCommands), as gdbserver does; gdb is
    # not told of the hits at all.
    u = Ustub(env, "--once", ":0", "./threads_counting")
    out = gdb(env, [remote(u.port()), "set dprintf-style agent",
                    'dprintf count,"count %ld after %ld\\n", value, sum', "condition 1 value % 1000 == 0",
                    "continue", "info breakpoints"], env.program("threads_counting"))
    expect(out, r"\[Inferior 1 \(process \d+\) exited normally\]")  # every sum right
    expect(out, r'agent-printf "count %ld after %ld\\n", value, sum')
    check(not re.search(r"already hit", out), f"gdb saw dprintf hits:\n{out}")
    u.wait_exit()
    for value in range(0, 5000, 1000):
        lines = [line for line in u.lines if line == f"count {value} after {value * (value - 1) // 2}"]
        check(len(lines) == 4, f"count {value}: {len(lines)} lines, want one per thread:\n{u.output[-2000:]}")
    check(len([line for line in u.lines if line.startswith("count ")]) == 20, "only the hits whose condition holds")
    # %s reads the program's string.
    u = Ustub(env, "--once", ":0", "./stepping", "an-argument")
    out = gdb(env, [remote(u.port()), "set dprintf-style agent", 'dprintf main,"argc %d argv[1] %s\\n", argc, argv[1]',
                    "continue"], env.program("stepping"))
    expect(out, r"\[Inferior 1 \(process \d+\) exited")
    u.wait_exit()
    expect(u.output, r"^argc 2 argv\[1\] an-argument$")


PERSISTENT_DPRINTF = ["break tick", "continue", "delete", "set breakpoint always-inserted on",
                      "set dprintf-style agent", 'dprintf tick,"tick %d\\n", i']


@test
def agent_dprintfs_go_on_printing_after_gdb_detaches(env):
    # gdb's `set disconnected-dprintf on` (its default) marks an agent
    # dprintf persistent: on detach ustub keeps the process, runs it on and
    # prints every hit, as gdbserver does. Its signal still reaches it (exit 3).
    u = Ustub(env, ":0", "./persistent_ticks")
    out = gdb(env, [remote(u.port()), *PERSISTENT_DPRINTF, "detach"], env.program("persistent_ticks"))
    expect(out, r"\[Inferior 1 \(process \d+\) detached\]")
    check(u.wait_exit() == 0, f"ustub's exit status:\n{u.output}")
    expect(u.output, r"^Persistent commands are present, leaving ustub attached to the process$")
    ticks = [line for line in u.lines if line.startswith("tick ")]
    check(ticks == [f"tick {i}" for i in range(100)], f"every tick once, in order:\n{u.output}")
    expect(u.output, r"^Child exited with status 3$")
    # With `set disconnected-dprintf off` the detach lets the process go at once.
    u = Ustub(env, ":0", "./persistent_ticks")
    out = gdb(env, [remote(u.port()), "set disconnected-dprintf off", *PERSISTENT_DPRINTF, "detach"],
              env.program("persistent_ticks"))
    check(u.wait_exit() == 0, f"ustub's exit status:\n{u.output}")
    check(not re.search(r"^tick [1-9]", u.output, re.M) and "Persistent" not in u.output,
          f"no dprintf after the detach:\n{u.output}")
    # So too with --once in plain remote mode: no gdb could take the process back.
    u = Ustub(env, "--once", ":0", "./persistent_ticks")
    gdb(env, [remote(u.port()), *PERSISTENT_DPRINTF, "detach"], env.program("persistent_ticks"))
    check(u.wait_exit() == 0, f"ustub's exit status:\n{u.output}")
    expect(u.output, r"^ustub: persistent commands end with the detach: ustub ends with this connection$")
    check(not re.search(r"^tick [1-9]", u.output, re.M), f"no dprintf after the detach:\n{u.output}")


@test
def a_process_left_to_its_dprintfs_is_taken_back_by_the_next_gdb_or_by_attach(env):
    # Plain remote: the next gdb takes the process over, stopped, without ustub's breakpoints.
    u = Ustub(env, ":0", "./persistent_ticks")
    port = u.port()
    gdb(env, [remote(port), *PERSISTENT_DPRINTF, "detach"], env.program("persistent_ticks"))
    u.wait_for(r"^tick 5$")
    out = gdb(env, [remote(port), "info breakpoints", "python print('TICK', gdb.parse_and_eval('tick'))",
                    "continue", "continue"], env.program("persistent_ticks"))
    expect(out, r"^No breakpoints or watchpoints\.$")
    expect(out, r"Program received signal SIGUSR1")
    expect(out, r"\[Inferior 1 \(process \d+\) exited with code 03\]")
    u.wait_exit()
    told = len([line for line in u.lines if line.startswith("tick ")])
    check(told < 100, f"the dprintf went on after the second gdb came:\n{u.output}")
    # --multi: the process is nobody's until a gdb attaches to it; ustub's exit lets it go.
    u = Ustub(env, "--multi", ":0")
    port = u.port()
    out = gdb(env, [extended(port), f"set remote exec-file {env.program('persistent_ticks')}",
                    "set breakpoint always-inserted on", "break tick", "run", "delete", "set dprintf-style agent",
                    'dprintf tick,"tick %d\\n", i', "python gdb.set_convenience_variable('p', gdb.selected_inferior().pid)",
                    "detach", "info threads", "shell sleep 0.2", 'eval "attach %d", $p', "bt",
                    "detach", "monitor exit"], env.program("persistent_ticks"))
    expect(out, r"^No threads\.$")
    expect(out, r"^#\d+ .* in main \(\) at .*persistent_ticks\.c:\d+$")
    check(u.wait_exit() == 0, f"ustub's exit status:\n{u.output}")
    expect(u.output, r"^Attached; pid = \d+$")


@test
def with_no_target_conditions_gdb_evaluates_them_itself(env):
    u = Ustub(env, "--once", "--no-target-conditions", ":0", "./stepping")
    port = u.port()
    out = gdb(env, [remote(port), "break main", "continue", "break fib if n == 1", "continue",
                    "info breakpoints", "print n", "kill"], env.program("stepping"))
    expect(out, r"stop only if n == 1$")  # no "(target evals)": gdb judges every hit
    expect(out, r"^\$1 = 1$")
    u.wait_exit()
