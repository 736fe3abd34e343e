#!/usr/bin/env python3
"""ustub against gdbserver, side by side in one run.

Each workload runs against both stubs, interleaved (ustub, gdbserver, ustub,
...), ROUNDS times; the table shows each one's median and the ratio
ustub/gdbserver (below 1: ustub is faster), then each stub's peak RSS. Times
are of the workload itself: gdb's own start, the connection and the run to
the workload's start are outside them. gdb connects over loopback TCP, as
people use stubs: gdb reads a pipe ("target remote | stub") a byte at a time,
which would make gdb the bottleneck of every large transfer. Figures only: nothing here passes or
fails on speed.

  bench.py --work DIR --ustub PATH [--rounds N] [--only NAME...]
"""
import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time

GDB = "/usr/bin/gdb"
LLDB = "/usr/bin/lldb"
GDBSERVER = "/usr/bin/gdbserver"
STEPS = 20000  # stub-only steps per figure


class Stub:
    """A stub on a free loopback port, with its peak RSS sampled until it exits."""

    def __init__(self, stub, args, attach_pid=None):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        where = f"127.0.0.1:{self.port}"
        command = [*stub, "--once"] + (["--attach", where, str(attach_pid)] if attach_pid else [where, *args])
        self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.peak_kib = 0
        for line in self.proc.stderr:
            if line.startswith("Listening on port"):
                break
        else:
            raise RuntimeError(f"{stub[0]} never listened")
        threading.Thread(target=lambda: self.proc.stderr.read(), daemon=True).start()
        self.sampler = threading.Thread(target=self._sample, daemon=True)
        self.sampler.start()

    def _sample(self):
        # VmHWM only grows: its last reading before the exit is the peak.
        while self.proc.poll() is None:
            try:
                with open(f"/proc/{self.proc.pid}/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            self.peak_kib = max(self.peak_kib, int(line.split()[1]))
            except OSError:
                pass
            time.sleep(0.005)

    def finish(self):
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.sampler.join()
        return self.peak_kib


def gdb_session(work, program_args, commands, stub, attach_pid=None, before=""):
    """Runs gdb against `stub` over TCP (`before`: settings made before it
    connects); returns (seconds between the workload's two markers, the stub's
    peak RSS in KiB)."""
    server = Stub(stub, program_args, attach_pid)
    script = os.path.join(work, "session.gdb")
    with open(script, "w") as f:
        f.write("set pagination off\nset confirm off\n" + before)
        f.write(f"target remote 127.0.0.1:{server.port}\n")
        f.write(commands)
    r = subprocess.run([GDB, "-nx", "-batch", "-x", script, program_args[0]], cwd=work,
                       capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    peak = server.finish()
    out = r.stdout + r.stderr
    m = re.search(r"^BENCH ([0-9.]+)$", out, re.M)
    if not m or "Traceback" in out or "Error" in out:
        raise RuntimeError(f"workload failed against {stub[0]}:\n{out[-3000:]}")
    return float(m.group(1)), peak


def lldb_session(work, commands, stub, attach_pid):
    """Runs lldb's gdb-remote against `stub` attached to `attach_pid`; returns
    (seconds between the two clock readings around `commands`, the stub's peak
    RSS in KiB). Debian's lldb 14 has no working Python, so the clock is read
    by `platform shell`, which runs on this host."""
    server = Stub(stub, [], attach_pid)
    clock = "platform shell date +LLDB-CLOCK%s.%N"
    args = [LLDB, "--no-lldbinit", "--batch", "-o", f"gdb-remote 127.0.0.1:{server.port}", "-o", clock]
    for c in commands:
        args += ["-o", c]
    args += ["-o", clock, "-o", "detach"]
    r = subprocess.run(args, cwd=work, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    peak = server.finish()
    out = r.stdout + r.stderr
    clocks = [float(t) for t in re.findall(r"^LLDB-CLOCK([0-9.]+)$", out, re.M)]
    if len(clocks) != 2 or re.search(r"^error:", out, re.M):
        raise RuntimeError(f"lldb workload failed against {stub[0]}:\n{out[-3000:]}")
    return clocks[1] - clocks[0], peak


START = "python import time; bench_t0 = time.perf_counter()\n"
STOP = "python print('BENCH %.6f' % (time.perf_counter() - bench_t0))\n"


def workloads(work):
    prog = os.path.join(work, "workloads")
    false_condition = "break main\ncontinue\nbreak cond_target if value < 0\n" + START + "continue\n" + STOP
    return {
        "stepi x5000": dict(args=[prog, "step"], gdb="break step_here\ncontinue\n" + START + "stepi 5000\n" + STOP + "kill\n"),
        "next over a 20000-iteration line": dict(args=[prog, "next"], gdb=(
            "break hot_line\ncontinue\nnext\n" + START + "next\n" + STOP +
            "python sal = gdb.selected_frame().find_sal(); "
            "assert open(sal.symtab.fullname()).read().splitlines()[sal.line - 1].strip() == 'return total;', "
            "'next stopped short'\nkill\n")),
        "2000 breakpoint hits with commands": dict(args=[prog, "hits"], gdb=(
            "break hit_me\ncommands\nsilent\ncontinue\nend\nbreak main\ncontinue\n" + START + "continue\n" + STOP)),
        "2000 dprintf hits, dprintf-style agent": dict(args=[prog, "hits"], gdb=(
            "break main\ncontinue\nset dprintf-style agent\ndprintf hit_me,\"hit %d\\n\", i\n" + START +
            "continue\n" + STOP)),
        "false conditional breakpoint x20000": dict(args=[prog, "cond"], gdb=false_condition),
        "the same in non-stop mode": dict(args=[prog, "cond"], before="set non-stop on\n", gdb=false_condition),
        "dump 64 MiB of memory": dict(args=[prog, "memory"], gdb=(
            "break hit_me\ncontinue\nup\n" + START +
            f"dump binary memory {work}/memory.bin buffer buffer+64*1024*1024\n" + STOP + "kill\n")),
        "gcore of 4 threads and a 16 MiB heap": dict(args=[prog, "core"], gdb=(
            "break hit_me\ncontinue\n" + START + f"gcore {work}/core\n" + STOP + "kill\n")),
        "lldb: read 64 MiB of memory (attached)": dict(args=[prog, "memory-attach"], attach=True, lldb=[
            f"memory read --force --binary --outfile {work}/memory.bin --count {64 << 20} {{ready}}"]),
        "attach to 500 threads, bt each, detach": dict(args=[prog, "threads"], attach=True, gdb=(
            START + "thread apply all bt 1\ndetach\n" + STOP)),
        "300 forks under fork events": dict(args=[prog, "forks"], gdb=(
            "break main\ncontinue\n" + START + "continue\n" + STOP)),
    }


def start_to_attach(work, mode):
    """Starts the program in `mode` (threads: 500 of them; memory-attach: its
    buffer filled) and waits for its ready file; returns it and what it wrote."""
    ready = os.path.join(work, "ready")
    if os.path.exists(ready):
        os.unlink(ready)
    extra = ["500"] if mode == "threads" else []
    proc = subprocess.Popen([os.path.join(work, "workloads"), mode, *extra, ready])
    deadline = time.time() + 30
    while not (os.path.exists(ready) and (mode == "threads" or os.path.getsize(ready) > 0)):
        if time.time() > deadline:
            raise RuntimeError(f"the {mode} program never got ready")
        time.sleep(0.01)
    with open(ready) as f:
        return proc, f.read().strip()


def run_workload(work, spec, stub):
    if spec.get("attach"):
        proc, ready = start_to_attach(work, spec["args"][1])
        try:
            if "lldb" in spec:
                return lldb_session(work, [c.format(ready=ready) for c in spec["lldb"]], stub, proc.pid)
            return gdb_session(work, spec["args"], spec["gdb"], stub, attach_pid=proc.pid, before=spec.get("before", ""))
        finally:
            proc.kill()
            proc.wait()
    return gdb_session(work, spec["args"], spec["gdb"], stub, before=spec.get("before", ""))


def stub_only_step(work, stub):
    address = subprocess.run(["nm", os.path.join(work, "workloads")], capture_output=True, text=True).stdout
    address = re.search(r"^([0-9a-f]+) T step_here$", address, re.M).group(1)
    r = subprocess.run([os.path.join(work, "step_client"), str(STEPS), address, *stub, "-",
                        os.path.join(work, "workloads"), "step"], cwd=work, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"step_client against {stub[0]}: {r.stderr}")
    return float(r.stdout.split()[-1]) / 1e3  # microseconds


def floor_step(work, program="step_floor"):
    r = subprocess.run([os.path.join(work, program), str(STEPS)], capture_output=True, text=True, check=True)
    return float(r.stdout.strip()) / 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--ustub", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", nargs="*", default=None, help="workloads whose name contains one of these")
    a = ap.parse_args()
    stubs = {"ustub": [a.ustub], "gdbserver": [GDBSERVER]}

    rows = []
    print(f"bench: {a.rounds} rounds, interleaved; medians", flush=True)
    if not a.only or any("step" in o for o in a.only):
        floors, socket_floors, steps = [], [], {"ustub": [], "gdbserver": []}
        for _ in range(a.rounds):
            floors.append(floor_step(a.work))
            socket_floors.append(floor_step(a.work, "step_socket_floor"))
            for name, stub in stubs.items():
                steps[name].append(stub_only_step(a.work, stub))
        f, sf = statistics.median(floors), statistics.median(socket_floors)
        u, g = statistics.median(steps["ustub"]), statistics.median(steps["gdbserver"])
        print(f"stub-only step (vCont;s + g), microseconds: ustub {u:.1f} ({u / f:.2f}x the floor), "
              f"gdbserver {g:.1f} ({g / f:.2f}x), floor (PTRACE_SINGLESTEP + waitpid) {f:.1f}", flush=True)
        print(f"  the same two round trips on a socketpair with no protocol (step_socket_floor): {sf:.1f} "
              f"({sf / f:.2f}x the floor); ustub is {u / sf:.2f}x that, gdbserver {g / sf:.2f}x", flush=True)
        rows.append(("stub-only step (us)", u, g, None))
    for name, spec in workloads(a.work).items():
        if a.only and not any(o in name for o in a.only):
            continue
        times = {"ustub": [], "gdbserver": []}
        rss = {"ustub": 0, "gdbserver": 0}
        for _ in range(a.rounds):
            for stub_name, stub in stubs.items():
                seconds, peak = run_workload(a.work, spec, stub)
                times[stub_name].append(seconds)
                rss[stub_name] = max(rss[stub_name], peak)
        u, g = statistics.median(times["ustub"]), statistics.median(times["gdbserver"])
        rows.append((name, u, g, rss))
        print(f"  {name}: ustub {u:.3f} s, gdbserver {g:.3f} s", flush=True)

    print()
    print(f"| {'workload':<40} | {'ustub':>9} | {'gdbserver':>9} | {'ustub/gdbserver':>15} | {'RSS ustub/gdbserver (MiB)':>25} |")
    print(f"|{'-' * 42}|{'-' * 11}:|{'-' * 11}:|{'-' * 17}:|{'-' * 27}:|")
    for name, u, g, rss in rows:
        unit = "us" if rss is None else "s"
        rss_text = "" if rss is None else f"{rss['ustub'] / 1024:.1f} / {rss['gdbserver'] / 1024:.1f}"
        print(f"| {name:<40} | {u:>7.3f} {unit:<1} | {g:>7.3f} {unit:<1} | {u / g:>15.3f} | {rss_text:>25} |")


if __name__ == "__main__":
    main()
