"""Multi-threaded programs under ustub, as gdb users see them: new threads,
names, all-stop, scheduler locking, and a stress run with interrupts."""
import os
import random
import signal
import re
import subprocess
import time

from harness import (GDB, Ustub, check, expect, gdb, process_state, read_count, remote, spawn_gdb, TerminalGdb,
                     start_sleeper, still_counting, test_registry, wait_until)
from rsp_client import RspClient

TESTS, test = test_registry()


def symbol_offset(program, name):
    out = subprocess.run(["nm", program], capture_output=True, text=True, check=True).stdout
    return int(re.search(rf"^([0-9a-f]+) T {name}$", out, re.M).group(1), 16)


def load_base(pid):
    with open(f"/proc/{pid}/maps") as f:
        return int(f.readline().split("-")[0], 16)


@test
def new_threads_appear_with_names_and_all_stop_at_a_breakpoint(env):
    u = Ustub(env, "--once", ":0", "./threads", "4", "5")
    out = gdb(env, [remote(u.port()), "break hit", "continue", "info threads", "thread apply all bt 1",
                    "print $_thread", "delete", "continue"], env.program("threads"))
    check(len(re.findall(r"^\[New Thread \d+\.\d+\]$", out, re.M)) >= 1, f"no [New Thread] line:\n{out}")
    m = re.search(r'Thread (\d+) "worker-(\d+)" hit Breakpoint 1, hit \(id=(\d+)\)', out)
    check(m is not None, f"a worker should hit the breakpoint:\n{out}")
    check(m.group(2) == m.group(3), "the thread named worker-N is the one with id=N")
    expect(out, r'^\*\s+\d+\s+Thread \d+\.\d+ "worker-\d+" hit \(id=\d+\) at .*threads\.c')
    expect(out, r'^\s+1\s+Thread \d+\.\d+ "threads" ')  # the main thread, stopped too
    # Every thread shows a frame: all of them were stopped for gdb.
    frames = re.findall(r"^#0  ", out, re.M)
    listed = re.findall(r"^Thread \d+ \(Thread", out, re.M)
    check(len(listed) >= 2 and len(frames) >= len(listed), f"thread apply all bt:\n{out}")
    expect(out, r"\[Inferior 1 \(process \d+\) exited normally\]")
    check(u.wait_exit() == 0, "ustub exits with its program")


@test
def every_breakpoint_hit_of_every_thread_is_reported_once(env):
    script = os.path.join(env.runtime, "count-hits.gdb")
    with open(script, "w") as f:
        f.write("set $n = 0\nbreak hit\ncommands\nsilent\nset $n = $n + 1\ncontinue\nend\ncontinue\nprint $n\n")
    u = Ustub(env, "--once", ":0", "./threads", "16", "5")
    r = subprocess.run([GDB, "-nx", "-batch", "-ex", remote(u.port()), "-x", script, env.program("threads")],
                       cwd=env.bin, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    out = r.stdout + r.stderr
    expect(out, r"exited normally")
    expect(out, r"^\$1 = 80$")
    check(u.wait_exit() == 0, "ustub exits with its program")


@test
def scheduler_locking_steps_only_the_current_thread(env):
    u = Ustub(env, "--once", ":0", "./threads", "4", "5")
    others = "hits[0]+hits[1]+hits[2]+hits[3]-hits[id]"  # `id` is the current worker's in both frames
    out = gdb(env, [remote(u.port()), "break hit", "continue", "delete", "set scheduler-locking on",
                    f"print {others}", "print hits[id]", "finish", "next",
                    f"print {others}", "print hits[id]", "set scheduler-locking off", "continue"],
              env.program("threads"))
    values = [int(v) for v in re.findall(r"^\$\d+ = (\d+)$", out, re.M)]
    check(len(values) == 4, f"four values printed:\n{out}")
    check(values[2] == values[0], f"with scheduler-locking the other threads must not run: {values}\n{out}")
    check(values[3] > values[1], f"the current thread ran: {values}\n{out}")
    expect(out, r"exited normally")
    check(u.wait_exit() == 0, "ustub exits with its program")


@test
def stress_16_threads_2000_hits_with_random_interrupts(env):
    """No hang, no lost or duplicated stop: the client counts exactly 2,000
    breakpoint hits, whatever Ctrl-Cs land in between."""
    rng = random.Random(int(os.environ.get("USTUB_E2E_SEED", "0")) or None)
    u = Ustub(env, "--once", ":0", "./threads", "16", "125")
    pid = u.inferior_pid()
    c = RspClient(("127.0.0.1", u.port()), timeout=30)
    c.handshake()
    address = load_base(pid) + symbol_offset(env.program("threads"), "hit")
    check(c.request("Z0,%x,1" % address) == b"OK", "breakpoint set")
    hits = interrupts = 0
    started = time.time()
    reply = c.request("vCont;c")
    while not reply.startswith(b"W"):
        check(time.time() - started < 120, f"still going after 120 s: {hits} hits")
        m = re.match(rb"T([0-9a-f]{2}).*thread:p[0-9a-f]+\.([0-9a-f]+);", reply)
        check(m is not None, f"unexpected reply {reply[:80]!r}")
        signal, tid = int(m.group(1), 16), m.group(2).decode()
        if signal == 5 and b"swbreak" in reply:
            hits += 1
            # Step that thread off the breakpoint (as gdb does), then run all.
            check(c.request("z0,%x,1" % address) == b"OK", "breakpoint removed")
            while True:
                step = c.request(f"vCont;s:p{pid:x}.{tid}")
                if not step.startswith(b"T02"):  # an earlier Ctrl-C may answer first
                    break
                interrupts += 1
            check(c.request("Z0,%x,1" % address) == b"OK", "breakpoint set again")
        elif signal == 2:
            interrupts += 1
        else:
            check(False, f"unexpected stop {reply[:80]!r}")
        c.send("vCont;c")
        if rng.random() < 0.1:
            time.sleep(rng.random() * 0.002)
            c.send_raw(b"\x03")
        reply = c.read_packet()
    check(reply.startswith(b"W00"), f"the program counted every call itself: {reply!r}")
    check(hits == 2000, f"{hits} breakpoint hits reported, 2000 happened")
    print(f"  2000 hits and {interrupts} interrupts in {time.time() - started:.1f} s")
    c.close()
    check(u.wait_exit() == 0, "ustub exits with its program")


@test
def signals_gdb_does_not_stop_for_cost_no_round_trip(env):
    log = os.path.join(env.runtime, "storm-packets.log")
    u = Ustub(env, "--once", "--remote-debug", f"--debug-file={log}", ":0", "./signal_storm")
    out = gdb(env, [remote(u.port()), "handle SIGUSR1 nostop noprint pass", "continue"],
              env.program("signal_storm"))
    expect(out, r"exited normally")  # the program counted 1000 deliveries itself
    check(u.wait_exit() == 0, "ustub exits with its program")
    with open(log) as f:
        resumes = sum(1 for line in f if line.startswith("<- $vCont;c") or line.startswith("<- $vCont;C"))
    check(resumes < 20, f"{resumes} resumes for 1000 signals gdb does not stop for (QPassSignals)")


@test
def siginfo_of_the_signal_that_stopped_the_program(env):
    u = Ustub(env, "--once", ":0", "./crash")
    out = gdb(env, [remote(u.port()), "continue", "print $_siginfo.si_signo",
                    "print $_siginfo._sifields._sigfault.si_addr", "kill"], env.program("crash"))
    expect(out, r"^\$1 = 11$")
    expect(out, r"^\$2 = \(void \*\) 0x[0-9a-f]+")


@test
def hardware_watchpoints_and_breakpoints_in_every_thread(env):
    u = Ustub(env, "--once", ":0", "./watch")
    out = gdb(env, [remote(u.port()), "break main", "continue", "watch counter", "rwatch reader_sum",
                    "hbreak thread_main", "continue", "continue", "continue", "continue", "continue",
                    "delete", "awatch spare[1]", "continue", "delete", "continue"], env.program("watch"))
    expect(out, r"^Hardware watchpoint 2: counter$")
    expect(out, r"Old value = 0\nNew value = 1\n")
    expect(out, r"Hardware read watchpoint 3: reader_sum\n\nValue = 0\n")
    expect(out, r'Thread \d+ "watch" hit Breakpoint 4, thread_main')  # hbreak, in the new thread
    expect(out, r'Thread \d+ "watch" hit Hardware watchpoint 2: counter\n\nOld value = 1\nNew value = 11\n')
    expect(out, r"Hardware access \(read/write\) watchpoint 5: spare\[1\]\n\n(Old )?[Vv]alue = 0\n")
    expect(out, r"exited normally")
    check(u.wait_exit() == 0, "ustub exits with its program")


@test
def read_and_write_watchpoints_on_one_variable_each_report_their_own_access(env):
    # x86 has no read-only traps: a read watchpoint fires on writes too. Each
    # access must still be told as what it was, reads with the value unchanged.
    u = Ustub(env, "--once", ":0", "./read_then_write")
    out = gdb(env, [remote(u.port()), "break main", "continue", "rwatch global", "watch global"] +
              ["continue"] * 6 + ["info watchpoints", "delete", "continue"], env.program("read_then_write"))
    stops = re.findall(r"^(Hardware (?:read )?watchpoint \d+): global\n\n(?:Old value = (\d+)\nNew value = (\d+)|Value = (\d+))\n",
                       out, re.M)
    told = [f"{w} {old}->{new}" if new else f"{w} ={value}" for w, old, new, value in stops]
    check(told == ["Hardware read watchpoint 2 =0", "Hardware watchpoint 3 0->1",
                   "Hardware read watchpoint 2 =1", "Hardware watchpoint 3 1->2",
                   "Hardware read watchpoint 2 =2", "Hardware watchpoint 3 2->3"], f"stops told: {told}\n{out}")
    expect(out, r"read watchpoint keep y +global\n\tbreakpoint already hit 3 times")
    expect(out, r"hw watchpoint +keep y +global\n\tbreakpoint already hit 3 times")
    expect(out, r"exited normally")
    check(u.wait_exit() == 0, "ustub exits with its program")


@test
def too_many_hardware_watchpoints_is_an_error_gdb_understands(env):
    u = Ustub(env, "--once", ":0", "./watch")
    out = gdb(env, [remote(u.port()), "break main", "continue"] +
              [f"watch spare[{i}]" for i in range(5)] + ["continue", "delete", "continue"], env.program("watch"))
    expect(out, r"Could not insert hardware watchpoint 6\.")
    expect(out, r"You may have requested too many hardware breakpoints/watchpoints")
    expect(out, r"exited normally")  # and the session went on
    check(u.wait_exit() == 0, "ustub exits with its program")


@test
def a_process_stopped_by_someone_else_stays_stopped_after_detach(env):
    sleeper, counter = start_sleeper(env)
    try:
        os.kill(sleeper.pid, signal.SIGSTOP)
        check(wait_until(lambda: process_state(sleeper.pid) == "T"), "SIGSTOP should stop it")
        u = Ustub(env, "--once", "--attach", ":0", str(sleeper.pid))
        out = gdb(env, [remote(u.port()), "info threads", "detach"])
        expect(out, r"Thread \d+\.\d+ \"sleeper\"")
        expect(out, r"Detaching from program|\[Inferior 1 \(process \d+\) detached\]")
        check(u.wait_exit() == 0, "ustub exits after the detach")
        time.sleep(0.3)
        check(process_state(sleeper.pid) == "T", f"it must still be stopped, is {process_state(sleeper.pid)}")
        os.kill(sleeper.pid, signal.SIGCONT)
        check(still_counting(counter), "and run again on SIGCONT, untraced")
    finally:
        sleeper.kill()
        sleeper.wait()


@test
def ctrl_c_stops_every_thread_and_their_sleeps_resume_without_eintr(env):
    u = Ustub(env, "--once", ":0", "./busy_threads")
    pid = u.inferior_pid()
    g = spawn_gdb(env, [remote(u.port()), "continue", "info threads", "shell sleep 2", "continue"],
                  env.program("busy_threads"))
    check(wait_until(lambda: len(os.listdir(f"/proc/{pid}/task")) == 5, timeout=20), "five threads should run")
    time.sleep(0.3)
    g.send_signal(signal.SIGINT)
    check(wait_until(lambda: all(process_state(int(t)) == "t" for t in os.listdir(f"/proc/{pid}/task")), timeout=10),
          "every thread must be stopped after Ctrl-C")
    out, _ = g.communicate(timeout=60)
    expect(out, r"received signal SIGINT, Interrupt\.")
    check(len(re.findall(r"^[ *] +\d+ +Thread \d+\.\d+ ", out, re.M)) == 5, f"info threads lists all five:\n{out}")
    expect(out, r"\[Inferior 1 \(process \d+\) exited normally\]")  # no nap failed with EINTR
    check(u.wait_exit() == 0, "ustub exits with its program")


@test
def a_sigstop_from_outside_stops_the_debugged_program_until_sigcont(env):
    """A job-control stop of a program gdb lets run is a real stop (state T),
    not undone by the stub; SIGCONT lets it go on, and Ctrl-C still works."""
    counter = os.path.join(env.runtime, "group-stop-counter")
    u = Ustub(env, "--once", ":0", "./sleeper", counter)
    pid = u.inferior_pid()
    g = spawn_gdb(env, [remote(u.port()), "handle SIGSTOP nostop noprint pass",
                        "handle SIGCONT nostop noprint pass", "continue", "print 40+2"],
                  env.program("sleeper"))
    try:
        check(wait_until(lambda: os.path.exists(counter), timeout=20) and still_counting(counter), "it runs")
        os.kill(pid, signal.SIGSTOP)
        # Listening (PTRACE_LISTEN), the kernel shows it as "t", not "T".
        check(wait_until(lambda: process_state(pid) in ("T", "t")), f"stopped by SIGSTOP, state {process_state(pid)}")
        time.sleep(0.3)
        first = read_count(counter)
        time.sleep(0.6)
        check(read_count(counter) == first, f"it must stay stopped: count {first} -> {read_count(counter)}")
        os.kill(pid, signal.SIGCONT)
        check(still_counting(counter), "SIGCONT lets it run on")
        os.kill(pid, signal.SIGSTOP)
        check(wait_until(lambda: process_state(pid) in ("T", "t")), "stopped again")
        time.sleep(0.3)
        g.send_signal(signal.SIGINT)  # Ctrl-C reaches a job-stopped program too
        out, _ = g.communicate(timeout=30)
        expect(out, r"received signal SIGINT, Interrupt\.")
        expect(out, r"^\$1 = 42$")
        check(u.wait_exit() == 0, "ustub exits once gdb has killed the program")
    finally:
        if g.poll() is None:
            g.kill()


@test
def attaching_into_a_signal_keeps_it_and_detaching_delivers_it(env):
    """A program that lives on a stream of SIGALRMs: attached to again and
    again, gdb sees the signal it was about to take (when the attach catches it
    there; our interrupt usually wins, so up to 100 tries), and every detach
    hands it back, so the program never loses one (it would abort)."""
    proc = subprocess.Popen([env.program("alarm_loop")], cwd=env.bin)
    try:
        seen = attaches = 0
        while seen == 0 and attaches < 100:
            u = Ustub(env, "--multi", ":0")
            cycles = [f"attach {proc.pid}", "detach"] * 10
            out = gdb(env, ["handle SIGALRM stop print pass", f"target extended-remote :{u.port()}", *cycles,
                            "monitor exit"], env.program("alarm_loop"))
            check(u.wait_exit() == 0, f"monitor exit ends ustub:\n{out}")
            check(len(re.findall(r"\[Inferior 1 \(process \d+\) detached\]", out)) == 10, f"ten detaches:\n{out}")
            check(proc.poll() is None, f"the program lost a SIGALRM and aborted:\n{out}")
            seen += len(re.findall(r"Program received signal SIGALRM", out))
            attaches += 10
        check(seen >= 1, f"no attach in {attaches} caught the program at its signal")
        print(f"  {seen} of {attaches} attaches caught SIGALRM")
    finally:
        proc.kill()
        proc.wait()


def check_thread_local_variables(env, program):
    # Each thread sets its own thread_number and ticks its own
    # demo_thread_ticks that many times; main has 100 and 0.
    u = Ustub(env, "--once", ":0", "./" + program)
    out = gdb(env, [remote(u.port()), "break checkpoint", "continue", "print thread_number",
                    "thread apply all -q print thread_number * 1000 + demo_thread_ticks",
                    "kill"], env.program(program))
    expect(out, r"hit Breakpoint 1, checkpoint \(\)")
    expect(out, r"^\$1 = 3$")  # the thread at the breakpoint is worker 3
    values = sorted(int(v) for v in re.findall(r"^\$(?:[2-6]) = (\d+)$", out, re.M))
    check(values == [1001, 2002, 3003, 4004, 100000], f"each thread's own TLS values:\n{out}")
    check("Cannot" not in out and "TLS" not in out, f"no TLS error:\n{out}")
    u.wait_exit()


@test
def thread_local_variables_of_the_program_and_of_a_library_in_every_thread(env):
    check_thread_local_variables(env, "tls")  # libdemo.so's TLS is a module of its own


@test
def thread_local_variables_of_a_static_program(env):
    check_thread_local_variables(env, "tls_static")  # gdb names no link_map: module 1


@test
def a_libthread_db_search_path_without_libthread_db_turns_thread_local_lookups_off_as_in_gdbserver(env):
    u = Ustub(env, "--once", ":0", "./tls")
    out = gdb(env, [remote(u.port()), "break checkpoint", "continue",
                    "monitor set libthread-db-search-path /no/such/dir", "print thread_number",
                    "monitor set libthread-db-search-path", "print thread_number", "kill"], env.program("tls"))
    expect(out, r"^libthread-db-search-path set to `/no/such/dir'$")
    expect(out, r"Cannot find thread-local storage for Thread [^,]+, executable file \S*tls:\s*"
                r"Remote target failed to process qGetTLSAddr request")
    expect(out, r"^libthread-db-search-path set to `'$")
    expect(out, r"^\$1 = 3$")  # the default path again: looked up by ustub itself
    u.wait_exit()


@test
def non_stop_one_thread_stops_at_a_breakpoint_while_the_other_runs_on(env):
    u = Ustub(env, "--once", ":0", "./ticker")
    out = gdb(env, ["set non-stop on", remote(u.port()), "break checkpoint", "continue", "info threads",
                    "print ticks", "shell sleep 0.3", "print ticks", "set var stop_ticking = 1", "continue -a"],
              env.program("ticker"))
    expect(out, r'hit Breakpoint 1, checkpoint \(\)')
    expect(out, r'^\*\s+1\s+Thread \d+\.\d+ "ticker" checkpoint \(\)')
    expect(out, r'^\s+2\s+Thread \d+\.\d+ "ticker" \(running\)$')
    before, after = (int(v) for v in re.findall(r"^\$[12] = (\d+)$", out, re.M))
    check(after > before, f"the ticker ran on while main was stopped ({before} then {after}):\n{out}")
    expect(out, r"\[Inferior 1 \(process \d+\) exited normally\]")
    check(u.wait_exit() == 0, "ustub exits with its program")


@test
def non_stop_interrupt_a_stops_every_thread(env):
    # gdb's `interrupt -a` sends a bare vCont;t: every thread, not the one
    # chosen with Hc (ustub once stopped that one only).
    u = Ustub(env, "--once", ":0", "./ticker")
    g = TerminalGdb(env, env.program("ticker"))
    try:
        for line in ("set non-stop on", remote(u.port()), "break checkpoint"):
            g.command(line)
        g.command("continue", until=r"hit Breakpoint 1, checkpoint \(\)")
        g.command("continue -a &")
        time.sleep(0.3)
        since = len(g.output)
        g.command("interrupt -a")
        g.wait_for(r'Thread 1 "ticker" stopped\.', since)
        g.wait_for(r'Thread 2 "ticker" stopped\.', since)
        threads = g.command("info threads")
        check("(running)" not in threads, f"a thread still runs after interrupt -a:\n{threads}")
        g.command("kill", until=r"\[Inferior 1 \(process \d+\) killed\]")
    finally:
        g.close()
    u.wait_exit()


@test
def non_stop_protocol_notifications_vstopped_and_stopping_single_threads(env):
    u = Ustub(env, "--once", ":0", "./ticker")
    c = RspClient(("127.0.0.1", u.port()))
    check(b"QNonStop+" in c.handshake(), "QNonStop is offered")
    check(c.request("QNonStop:1") == b"OK", "non-stop on")
    first = c.request("?")
    check(first.startswith(b"T05"), f"the launched program's stop: {first!r}")
    check(c.request("vStopped") == b"OK", "one stopped thread, one stop reply")
    pid = int(re.search(rb"thread:p([0-9a-f]+)\.", first).group(1), 16)
    nm = subprocess.run(["nm", env.program("ticker")], capture_output=True, text=True, check=True).stdout
    ticks = load_base(pid) + int(re.search(r"^([0-9a-f]+) B ticks$", nm, re.M).group(1), 16)

    def read_ticks():
        return int.from_bytes(bytes.fromhex(c.request(f"m{ticks:x},8").decode()), "little")

    check(c.request("vCont;c") == b"OK", "a resume is answered at once")
    check(wait_until(lambda: read_ticks() > 20), "memory is read while the program runs, and ticks")
    threads = re.findall(rb"p[0-9a-f]+\.[0-9a-f]+", c.request("qfThreadInfo"))
    check(len(threads) == 2, f"main and the ticker: {threads!r}")
    ticker = [t for t in threads if not t.endswith(b".%x" % pid)][0]
    check(c.request(b"vCont;t:" + ticker) == b"OK", "vCont;t is answered at once")
    note = c.read_notification()
    check(note.startswith(b"Stop:T00") and b"thread:" + ticker + b";" in note, f"the ticker's stop: {note!r}")
    check(c.request("vStopped") == b"OK", "no other stop queued")
    a = read_ticks()
    time.sleep(0.2)
    check(read_ticks() == a, "the stopped ticker ticks no more")
    check(c.request(b"vCont;t:p%x.%x" % (pid, pid)) == b"OK", "main stops too")
    check(c.read_notification().startswith(b"Stop:T00"), "main's stop, signal 0")
    check(c.request("vStopped") == b"OK", "nothing else")
    replies = [c.request("?")]
    while replies[-1] != b"OK":
        replies.append(c.request("vStopped"))
    check(len(replies) == 2 and replies[0].startswith(b"T") and b"thread:p%x.%x;" % (pid, pid) in replies[0],
          f"'?' gives one stopped thread, the last to report, as gdbserver does: {replies!r}")
    check(c.request(b"vKill;%x" % pid) == b"OK", "killed")
    c.close()
    u.wait_exit()


@test
def signal_gdb_sends_to_a_thread_that_all_stop_interrupted_reaches_it(env):
    # Main was stopped with PTRACE_INTERRUPT, where ptrace drops a signal
    # given to PTRACE_CONT: it must still get SIGUSR1, and run its handler.
    u = Ustub(env, "--once", ":0", "./signal_other_thread")
    out = gdb(env, [remote(u.port()), "break at_worker_breakpoint", "continue", "break handler",
                    "thread 1", "signal SIGUSR1", "info threads", "delete", "continue"],
              env.program("signal_other_thread"))
    expect(out, r"hit Breakpoint 1, at_worker_breakpoint \(\)")
    expect(out, r'Thread 1 "signal_other_th" hit Breakpoint 2, handler \(sig=10\)')
    # The program exits 0 only if the handler ran, in main, for SIGUSR1.
    expect(out, r"\[Inferior 1 \(process \d+\) exited normally\]")
    u.wait_exit()
