"""Fault injection and safe defaults: gdb, ustub or the program dying at a bad
moment, clients that misbehave, and the places where ustub refuses to be
unsafe. After each test the runner also checks that nothing is left behind
(no program, no zombie, nothing in tracing stop)."""
import ctypes
import os
import re
import signal
import socket
import subprocess
import threading
import time

from harness import (Failure, GDB, Ustub, alive, check, cpu_seconds, expect, gdb, our_programs, process_state,
                     remote, resident_kib, spawn_gdb, start_sleeper, still_counting, test_registry,
                     wait_until)
from rsp_client import RspClient

TESTS, test = test_registry()
PR_SET_CHILD_SUBREAPER = 36


# Under ASan freed memory waits in a quarantine (run-e2e caps it at 32 MiB)
# and every allocation has shadow memory: allow for both there.
SANITIZER_SLACK_KIB = 64 * 1024 if "ASAN_OPTIONS" in os.environ else 0


def framed(body):
    return b"$" + body + b"#%02x" % (sum(body) & 0xFF)


def first_mapping(pid):
    with open(f"/proc/{pid}/maps") as f:
        return int(f.readline().split("-")[0], 16)


def set_subreaper(on):
    """Orphans of ustub come to us (and are reaped here) instead of to init."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1 if on else 0, 0, 0, 0)


def reap(pid):
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


# --- gdb dying --------------------------------------------------------------------------------

@test
def gdb_killed_while_the_program_runs_leaves_it_stopped_for_the_next_gdb(env):
    u = Ustub(env, ":0", "./spin")
    pid = u.inferior_pid()
    port = u.port()
    g = spawn_gdb(env, [remote(port), "continue"], env.program("spin"))
    # Well into its loop, not still in the dynamic loader.
    check(wait_until(lambda: cpu_seconds(pid) >= 0.3, timeout=20), "the program never ran")
    g.kill()
    g.wait()
    u.wait_for(r"reopen the connection")
    check(wait_until(lambda: process_state(pid) == "t"), f"the program should wait stopped, is {process_state(pid)}")
    out = gdb(env, [remote(port), "print ticks > 0", "kill"], env.program("spin"))
    expect(out, r"^\$1 = 1$")
    check(u.wait_exit() == 0, "ustub should exit after the kill")


@test
def gdb_gone_mid_packet_leaves_ustub_serving_the_next_client(env):
    u = Ustub(env, ":0", "./basic")
    pid = u.inferior_pid()
    port = u.port()
    c = RspClient(("127.0.0.1", port))
    c.send_raw(b"$m4000")  # half a packet, then the connection drops
    c.close()
    u.wait_for(r"reopen the connection")
    c = RspClient(("127.0.0.1", port))
    c.handshake()
    check(c.request("?").startswith(b"T05"), "a fresh session must start from a clean decoder")
    c.send("vKill;%x" % pid)
    c.close()
    check(u.wait_exit() == 0, "ustub should exit after the kill")


# --- ustub dying ------------------------------------------------------------------------------

@test
def ustub_sigkilled_takes_its_launched_program_along(env):
    set_subreaper(True)
    try:
        u = Ustub(env, ":0", "./spin")
        pid = u.inferior_pid()
        g = spawn_gdb(env, [remote(u.port()), "continue"], env.program("spin"))
        check(wait_until(lambda: process_state(pid) == "R", timeout=20), "the program never ran")
        u.proc.kill()
        u.wait_exit()
        check(wait_until(lambda: process_state(pid) in (None, "Z")), "PTRACE_O_EXITKILL must end the program")
        reap(pid)
        out = g.communicate(timeout=30)[0]
        expect(out, r"Remote connection closed|Remote communication error")
    finally:
        set_subreaper(False)


@test
def ustub_sigkilled_lets_an_attached_program_run_on(env):
    sleeper, counter = start_sleeper(env)
    try:
        u = Ustub(env, "--attach", ":0", str(sleeper.pid))
        c = RspClient(("127.0.0.1", u.port()))
        c.handshake()
        check(c.request("?").startswith(b"T"), "attached and stopped")
        check(process_state(sleeper.pid) == "t", "the program is stopped while gdb looks at it")
        u.proc.kill()
        u.wait_exit()
        check(wait_until(lambda: process_state(sleeper.pid) in ("S", "R")),
              f"the kernel must release it, state {process_state(sleeper.pid)}")
        check(still_counting(counter), "the attached program must run on after ustub dies")
        c.close()
    finally:
        sleeper.kill()
        sleeper.wait()


# --- the program dying ------------------------------------------------------------------------

@test
def program_killed_from_outside_while_gdb_steps(env):
    u = Ustub(env, "--once", ":0", "./spin")
    pid = u.inferior_pid()
    script = os.path.join(env.runtime, "step-forever.gdb")
    with open(script, "w") as f:
        f.write(f"target remote :{u.port()}\nwhile 1\n  stepi\nend\n")
    g = subprocess.Popen([GDB, "-nx", "-batch", "-x", script, env.program("spin")], cwd=env.bin,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
    time.sleep(1.5)  # well into the stepping
    os.kill(pid, signal.SIGKILL)
    out = g.communicate(timeout=30)[0]
    # Killed during a step, gdb hears of it in the stop reply; killed while
    # gdb reads the registers of the last step, that read fails first.
    expect(out, r"Program terminated with signal SIGKILL|Could not read registers; remote failure reply 'E\.no process'")
    check(u.wait_exit() == 0, "ustub --once exits once its program is gone")
    expect(u.output, r"^Child terminated with signal = 9 \(SIGKILL\)$")


@test
def program_killed_while_held_in_vfork(env):
    """The parent SIGKILLed while its vfork child still has its memory:
    gdb hears of the death, the child (let go after the vfork) runs to its own
    end, and nothing is left traced."""
    u = Ustub(env, "--once", ":0", "./vfork_sleeper")
    pid = u.inferior_pid()
    g = subprocess.Popen([GDB, "-nx", "-batch", "-ex", f"target remote :{u.port()}", "-ex", "continue",
                          env.program("vfork_sleeper")], cwd=env.bin, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
    children = lambda: [p for p, _ in our_programs(env) if p != pid]  # noqa: E731
    check(wait_until(lambda: children(), timeout=20), "the vfork child should exist")
    child = children()[0]
    time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
    out = g.communicate(timeout=30)[0]
    expect(out, r"Program terminated with signal SIGKILL")
    check(u.wait_exit() == 0, "ustub --once exits once its program is gone")
    check(wait_until(lambda: not alive(child), timeout=10), "the child ends by itself")


@test
def program_killed_while_gdb_reads_its_memory(env):
    u = Ustub(env, "--once", ":0", "./basic")
    pid = u.inferior_pid()
    base = first_mapping(pid)
    c = RspClient(("127.0.0.1", u.port()))
    c.handshake()
    errors = 0
    for i in range(200):
        if i == 50:
            os.kill(pid, signal.SIGKILL)
        reply = c.request("m%x,800" % base)
        if reply.startswith(b"E"):
            errors += 1
        else:
            check(re.fullmatch(rb"[0-9a-f]+", reply) is not None, f"reply {i} is neither data nor an error: {reply[:40]!r}")
    check(errors > 0, "reads of a dead program must fail")
    check(c.request("vCont;c").startswith(b"X09"), "the resume reports the kill")
    c.close()
    check(u.wait_exit() == 0, "ustub --once exits once its program is gone")


@test
def program_killed_while_its_threads_are_being_stopped(env):
    """16 threads keep hitting a breakpoint, so stops of all threads follow
    one another; a SIGKILL from outside lands in the middle of them."""
    import threads as thread_tests
    u = Ustub(env, "--once", ":0", "./threads", "16", "1000")
    pid = u.inferior_pid()
    c = RspClient(("127.0.0.1", u.port()), timeout=30)
    c.handshake()
    address = first_mapping(pid) + thread_tests.symbol_offset(env.program("threads"), "hit")
    check(c.request("Z0,%x,1" % address) == b"OK", "breakpoint set")
    hits = 0
    reply = c.request("vCont;c")
    while reply.startswith(b"T"):
        hits += 1
        if hits == 50:
            os.kill(pid, signal.SIGKILL)
        tid = re.search(rb"thread:p[0-9a-f]+\.([0-9a-f]+);", reply).group(1).decode()
        c.request("z0,%x,1" % address)
        reply = c.request(f"vCont;s:p{pid:x}.{tid}")
        if not reply.startswith(b"T"):
            break
        c.request("Z0,%x,1" % address)
        reply = c.request("vCont;c")
        check(hits < 5000, "the kill was never reported")
    check(reply.startswith(b"X09"), f"the death is reported: {reply[:60]!r}")
    c.close()
    check(u.wait_exit() == 0, "ustub --once exits once its program is gone")
    expect(u.output, r"^Child terminated with signal = 9 \(SIGKILL\)$")


# --- misbehaving clients ----------------------------------------------------------------------

@test
def a_flood_of_packets_keeps_memory_bounded(env):
    u = Ustub(env, "--once", ":0", "./basic")
    pid = u.inferior_pid()
    base = first_mapping(pid)
    c = RspClient(("127.0.0.1", u.port()))
    c.handshake()
    rss_before = resident_kib(u.proc.pid)
    count = 100_000
    # Four that each get a reply, and every 1000th packet one that gets none:
    # bytes outside any packet, or a packet over the size limit.
    answered = [framed(b"qC"), framed(b"m%x,40" % base), framed(b"Zq"), framed(b"\x01\x02")]
    unanswered = [b"garbage}*#", framed(b"A" * 300_000)]
    received = bytearray()

    def reader():
        c.sock.settimeout(30)
        try:
            while received.count(b"$") < count - count // 100:
                chunk = c.sock.recv(1 << 16)
                if not chunk:
                    return
                received.extend(chunk)
        except OSError:
            pass

    t = threading.Thread(target=reader)
    t.start()
    batch = bytearray()
    for i in range(count):
        batch += answered[i % 4] if i % 1000 else unanswered[(i // 1000) % 2]
        if len(batch) > 1 << 16:
            c.sock.sendall(batch)
            batch.clear()
    c.sock.sendall(batch)
    t.join(60)
    check(not t.is_alive(), "ustub stopped answering the flood")
    replies = received.count(b"$")
    check(replies >= count - count // 100, f"only {replies} replies to {count} packets")
    grown = resident_kib(u.proc.pid) - rss_before
    print(f"  {count} packets, {replies} replies, resident memory {rss_before} KiB -> +{grown} KiB")
    check(grown < 16 * 1024 + SANITIZER_SLACK_KIB, f"ustub grew by {grown} KiB over the flood")
    c.sock.settimeout(10)
    c.pending = b""
    while True:  # drain what is left, then a normal request still works
        c.sock.settimeout(0.5)
        try:
            if not c.sock.recv(1 << 16):
                break
        except socket.timeout:
            break
    c.sock.settimeout(10)
    check(c.request("?").startswith(b"T05"), "the session goes on after the flood")
    c.send("vKill;%x" % pid)
    c.close()
    check(u.wait_exit() == 0, "ustub should exit after the kill")


@test
def an_idle_connection_costs_no_cpu(env):
    u = Ustub(env, "--once", ":0", "./spin")
    pid = u.inferior_pid()
    c = RspClient(("127.0.0.1", u.port()))
    before = cpu_seconds(u.proc.pid)
    time.sleep(2)  # connected, nothing sent
    idle = cpu_seconds(u.proc.pid) - before
    c.handshake()
    c.send("vCont;c")
    check(wait_until(lambda: process_state(pid) == "R"), "the program should run")
    before = cpu_seconds(u.proc.pid)
    time.sleep(2)  # the program spins, ustub waits for it
    running = cpu_seconds(u.proc.pid) - before
    print(f"  ustub's CPU in 2 s: {idle:.2f} s with a silent client, {running:.2f} s while the program ran")
    check(idle < 0.1, f"ustub used {idle:.2f} s of CPU on a silent connection in 2 s")
    check(running < 0.1, f"ustub used {running:.2f} s of CPU in 2 s while its program ran")
    c.send_raw(b"\x03")
    check(c.read_packet().startswith(b"T02"), "Ctrl-C stops it")
    for _ in range(200):  # a burst of steps: ustub polls for each step's end and the next packet ...
        c.send("vCont;s:%x" % pid)
        check(c.read_packet().startswith(b"T05"), "a step stops with SIGTRAP")
    before = cpu_seconds(u.proc.pid)
    time.sleep(2)  # ... and stops polling once the client is quiet
    quiet = cpu_seconds(u.proc.pid) - before
    check(quiet < 0.1, f"ustub used {quiet:.2f} s of CPU in 2 s after the client went quiet")
    c.send("vKill;%x" % pid)
    c.close()
    check(u.wait_exit() == 0, "ustub should exit after the kill")


@test
def a_client_that_never_reads_is_dropped_and_ustub_serves_on(env):
    u = Ustub(env, ":0", "./basic")
    pid = u.inferior_pid()
    port = u.port()
    base = first_mapping(pid)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.settimeout(5)
    c = RspClient.__new__(RspClient)
    c.sock, c.pending, c.ack_mode = s, b"", True
    c.handshake()
    request = framed(b"m%x,2000" % base)
    try:
        for _ in range(4000):  # 64 MiB of replies asked for, none read
            s.sendall(request)
    except OSError:
        pass  # dropped: what we want
    u.wait_for(r"not reading .*dropping it", timeout=20)
    u.wait_for(r"reopen the connection")
    peak = resident_kib(u.proc.pid, "VmHWM")
    print(f"  ustub's peak resident memory: {peak} KiB")
    check(peak < 64 * 1024 + SANITIZER_SLACK_KIB, f"ustub's memory must stay bounded, peaked at {peak} KiB")
    s.close()
    out = gdb(env, [remote(port), "info registers rip", "kill"], env.program("basic"))
    expect(out, r"^rip\s+0x")
    check(u.wait_exit() == 0, "ustub should exit after the kill")


# --- safe defaults ----------------------------------------------------------------------------

@test
def unix_socket_in_a_world_writable_directory_is_refused(env):
    path = f"/tmp/ustub-e2e-{os.getpid()}.sock"
    u = Ustub(env, f"unix:{path}", "./basic")
    check(u.wait_exit() == 1, "refused: exit 1")
    check(len(u.lines) == 1, f"one line, got {u.lines}")
    expect(u.output, rf"^ustub: unix:{re.escape(path)}: refusing a socket in /tmp, which other users can write")
    check(not os.path.exists(path), "no socket may be created")
    check(not our_programs(env), "nothing may be started")


@test
def ptrace_denied_by_seccomp_is_explained(env):
    no_ptrace = env.program("no_ptrace")
    # LeakSanitizer needs ptrace itself (to stop the world at exit): under a
    # filter that denies it, a sanitized ustub can only run without leak checks.
    environ = dict(os.environ)
    if "ASAN_OPTIONS" in environ:
        environ["ASAN_OPTIONS"] = environ["ASAN_OPTIONS"].replace("detect_leaks=1", "detect_leaks=0")
    u = Ustub(env, ":0", "./basic", prefix=[no_ptrace], environ=environ)
    check(u.wait_exit() == 1, "exit 1")
    expect(u.output, r"^ustub: cannot trace \./basic: Operation not permitted — ustub runs under a seccomp "
                     r"filter \(Seccomp: 2 in /proc/self/status\)")
    sleeper, _ = start_sleeper(env)
    try:
        u = Ustub(env, "--attach", ":0", str(sleeper.pid), prefix=[no_ptrace], environ=environ)
        check(u.wait_exit() == 1, "exit 1")
        expect(u.output, rf"^ustub: attach {sleeper.pid}: Operation not permitted — ustub runs under a seccomp")
        check(u.lines[1:] == ["Exiting"], f"one line that says why, then gdbserver's 'Exiting'; got {u.lines}")
    finally:
        sleeper.kill()
        sleeper.wait()


@test
def host_io_never_follows_another_users_link(env):
    link = os.environ.get("USTUB_E2E_FOREIGN_LINK")
    if not link:
        print("  (no foreign link: run-e2e creates one only when started as root)")
        return
    u = Ustub(env, "--once", ":0", "./basic")
    theirs = os.path.join(env.runtime, "through-their-link")
    ours = os.path.join(env.runtime, "direct")
    out = gdb(env, [remote(u.port()), f"remote get {link} {theirs}",
                    f"remote get {env.program('basic')} {ours}", "kill"], env.program("basic"))
    expect(out, r"Permission denied")
    check(not os.path.exists(theirs), "nothing may be read through another user's link")
    check(os.path.getsize(ours) == os.path.getsize(env.program("basic")), "a plain path reads whole")
    u.wait_exit()
