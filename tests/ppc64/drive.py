"""Boots the ppc64le guest in QEMU and drives gdb-multiarch against the ustub
it runs, one session after another.

The guest's init runs each session's command (ustub on /dev/hvc1, the second
spapr-vty console); QEMU exposes that console on a TCP port of the host, where
gdb-multiarch connects. The first console (the guest's stdout) tells us when
each ustub is ready and how it ended. Every session's gdb output is checked
against what a user would see; any mismatch, a hang or a guest that does not
power itself off fails the run.

    drive.py --kernel VMLINUX --root DIR --programs DIR --cpu power9
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import threading
import time

GDB = "/usr/bin/gdb-multiarch"


class Failure(Exception):
    pass


# Each session: the command the guest runs, the program gdb reads symbols
# from, gdb's commands, and what its output must show (regular expressions,
# each searched in multi-line mode).
SESSIONS = [
    {
        "name": "break, step, next, finish, bt, print",
        "guest": "/bin/ustub --no-startup-with-shell /dev/hvc1 /bin/stepping",
        "program": "stepping",
        "gdb": ["break add", "continue", "bt", "finish", "next", "print total", "step", "step", "step",
                "info frame", "print counter", "print ratio", "delete", "continue"],
        "expect": [r"Breakpoint 1, add \(a=0, b=0\) at .*stepping\.c:8",
                   r"^#1  0x[0-9a-f]+ in twice \(x=0\) at .*stepping\.c:12",
                   r"^#2  0x[0-9a-f]+ in main \(argc=1, argv=0x[0-9a-f]+\) at .*stepping\.c:17",
                   r"Value returned is \$1 = 0",
                   r"^\$2 = 0$",
                   r"twice \(x=1\) at .*stepping\.c:12",
                   r"add \(a=1, b=1\) at .*stepping\.c:8",
                   r"^\$3 = 7$",
                   r"^\$4 = 1\.5$",
                   r"\[Inferior 1 \(process \d+\) exited with code 03\]"],
        "guest_expect": [r"^total=\d+ counter=\d+ ratio=\S+$", r"^Child exited with status 3$"],
    },
    {
        # Range stepping: ustub decodes the line with Capstone and runs the
        # thread on trap instructions at its exits instead of stepping.
        "name": "next runs a source line on breakpoints at its exits (range step)",
        "guest": "/bin/ustub --debug --no-startup-with-shell /dev/hvc1 /bin/stepping",
        "program": "stepping",
        "gdb": ["break 17", "continue", "delete", "next", "next", "next", "next", "next", "next", "info line *$pc",
                "continue"],
        "expect": [r"Breakpoint 1, main \(argc=1, argv=0x[0-9a-f]+\) at .*stepping\.c:17",
                   r"^16\s+for \(int i = 0; i < 3; i\+\+\)$",
                   r"^17\s+total = twice\(total \+ i\);$",
                   r"^18\s+counter \+= total;$",
                   r'Line 18 of ".*stepping\.c"',
                   r"\[Inferior 1 \(process \d+\) exited with code 03\]"],
        "guest_expect": [r"range step on breakpoints: cont tid \d+", r"^Child exited with status 3$"],
    },
    {
        # ustub judges the condition; a false hit goes on in a copy of the
        # instruction in a page ustub mapped with an sc the thread made (run
        # to its exit stop: a single-step would overshoot it), one stop a hit.
        "name": "false conditions run out of line",
        "guest": "/bin/ustub --debug --no-startup-with-shell /dev/hvc1 /bin/stepping",
        "program": "stepping",
        "gdb": ["break add if a == 100", "continue"],
        "expect": [r"\[Inferior 1 \(process \d+\) exited with code 03\]"],
        "guest_expect": [r"mapping an out-of-line page", r"condition false: on out of line",
                         r"^total=8 counter=15 ", r"^Child exited with status 3$"],
    },
    {
        "name": "false conditions run out of line in four threads",
        "guest": "/bin/ustub --debug --no-startup-with-shell /dev/hvc1 /bin/threads",
        "program": "threads",
        "gdb": ["break work if id == 7", "continue"],
        "expect": [r"\[Inferior 1 \(process \d+\) exited normally\]"],
        "guest_expect": [r"condition false: on out of line", r"^threads done 3 3 3 3$"],
    },
    {
        "name": "registers: read and write, general and floating point",
        "guest": "/bin/ustub --no-startup-with-shell /dev/hvc1 /bin/stepping",
        "program": "stepping",
        "gdb": ["break add", "continue", "info registers r1 r3 r4 pc msr cr lr ctr xer orig_r3 trap",
                "info symbol $pc", "print $fpscr",
                "set var $r20 = 0x1122334455667788", "print/x $r20",
                "set var $f14 = 2.25", "print $f14", "set var $lr = $lr", "print/x $cr",
                "finish", "print/x $r20", "print $f14",
                "delete", "kill"],
        "expect": [r"^r1 +0x[0-9a-f]+", r"^pc +0x[0-9a-f]+ +0x[0-9a-f]+ <add\+\d+>",
                   r"^cr +0x[0-9a-f]+", r"^lr +0x[0-9a-f]+ +0x[0-9a-f]+ <twice\+\d+>",
                   r"^trap +0x700 ", r"^add \+ \d+ in section \.text",
                   r"^\$2 = 0x1122334455667788$",
                   r"^\$3 = 2\.25$",
                   r"Value returned is \$5 = 0",
                   r"^\$6 = 0x1122334455667788$",
                   r"^\$7 = 2\.25$",
                   r"\[Inferior 1 \(process \d+\) killed\]"],
        "guest_expect": [],
    },
    {
        "name": "vector registers: Altivec and VSX, read and written",
        "guest": "/bin/ustub --no-startup-with-shell /dev/hvc1 /bin/stepping",
        "program": "stepping",
        "gdb": ["break add", "continue", "info all-registers",
                "set var $vr5.v4_int32[1] = 77", "print $vr5.v4_int32",
                "set var $vs3h = 0x1122334455667788", "print/x $vs3h",
                "set var $vs40.v4_int32[2] = 99", "print $vr8.v4_int32[2]",
                "set var $vrsave = 5", "stepi", "print $vr5.v4_int32[1]", "print/x $vs3h", "print $vrsave",
                "kill"],
        "expect": [r"^vr31 +\{uint128 = 0x[0-9a-f]+", r"^vscr +0x[0-9a-f]+", r"^vrsave +0x[0-9a-f]+",
                   r"^vs0 +\{float128 = ", r"^vs63 +\{",
                   r"^\$1 = \{-?\d+, 77, -?\d+, -?\d+\}$", r"^\$2 = 0x1122334455667788$", r"^\$3 = 99$",
                   # after a step the kernel still has what was written
                   r"^\$4 = 77$", r"^\$5 = 0x1122334455667788$", r"^\$6 = 5$"],
        "guest_expect": [],
    },
    {
        # QEMU's POWER9 has its DAWR off: the kernel reports no data
        # breakpoints, and gdb hears there are no hardware watchpoints, as from
        # gdbserver on powerpc. (QEMU's POWER8 reports one, which ustub sets
        # through PPC_PTRACE_SETHWDEBUG, but QEMU never fires it: the unit
        # tests pin that path.) Software watchpoints work either way.
        "name": "watchpoints: none in hardware here, and software ones work",
        "guest": "/bin/ustub --no-startup-with-shell /dev/hvc1 /bin/stepping",
        "program": "stepping",
        "cpus": ["power9"],
        "gdb": ["break main", "continue", "watch counter", "continue", "delete 2",
                "set can-use-hw-watchpoints 0", "watch counter", "continue", "delete", "continue"],
        "expect": [r"Could not insert hardware watchpoint 2\.", r"^Watchpoint 3: counter$",
                   r"Old value = 7\s+New value = 15", r"\[Inferior 1 \(process \d+\) exited with code 03\]"],
        "guest_expect": [r"^total=8 counter=15 "],
    },
    {
        # POWER9's glibc makes calls with scv (r3 = -errno), POWER8's with sc
        # (r3 = +errno, CR0.SO): either way the program sees what gdb set.
        "name": "catch syscall: skip a call at its entry, choose what it returns",
        "guest": "/bin/ustub --no-startup-with-shell /dev/hvc1 /bin/syscalls",
        "program": "syscalls",
        "gdb": ["catch syscall getpid getppid", "continue", "print $r0", "set var $r0 = -1", "continue",
                "print $r3", "set var $r3 = 4242", "continue", "continue", "set var $r3 = 77",
                "delete", "continue"],
        "expect": [r"Catchpoint 1 \(call to syscall getpid\)", r"^\$1 = 20$",
                   r"Catchpoint 1 \(returned from syscall getpid\)",
                   r"^\$2 = (38|18446744073709551578)$",  # ENOSYS: +errno (sc) or -errno (scv), unsigned
                   r"Catchpoint 1 \(call to syscall getppid\)", r"Catchpoint 1 \(returned from syscall getppid\)",
                   r"\[Inferior 1 \(process \d+\) exited normally\]"],
        "guest_expect": [r"^getpid returned 4242$", r"^chdir returned -1$", r"^getppid returned 77$"],
    },
    {
        # A plain single-step over sc stops an instruction late on these kernels.
        "name": "stepi over sc stops right after it",
        "guest": "/bin/ustub --no-startup-with-shell /dev/hvc1 /bin/syscall_insn",
        "program": "syscall_insn",
        "gdb": ["break *at_sc", "continue", "x/i $pc", "stepi", "print (long)$pc - (long)&at_sc", "stepi",
                "print (long)$pc - (long)&at_sc", "print $r3 > 0", "continue"],
        "expect": [r"=> 0x[0-9a-f]+ <getpid_by_sc\+\d+>:\s+sc$", r"^\$1 = 4$", r"^\$2 = 8$", r"^\$3 = 1$",
                   r"\[Inferior 1 \(process \d+\) exited normally\]"],
        "guest_expect": [r"^getpid by sc \d+$"],
    },
    {
        "name": "stepi over scv stops right after it",
        "cpus": ["power9"],  # POWER8 has no scv
        "guest": "/bin/ustub --no-startup-with-shell /dev/hvc1 /bin/syscall_insn scv",
        "program": "syscall_insn",
        "gdb": ["break *at_scv", "continue", "stepi", "print (long)$pc - (long)&at_scv", "print $r3 > 0",
                "continue"],
        "expect": [r"^\$1 = 4$", r"^\$2 = 1$", r"\[Inferior 1 \(process \d+\) exited normally\]"],
        "guest_expect": [r"^getpid by scv \d+$"],
    },
    {
        # gdb steps over the ldarx…stdcx. loop as one (ppc_deal_with_atomic_sequence);
        # the stub must give it the memory and stops it needs, and no step may spin.
        "name": "stepping over an atomic sequence, auxv and the 64 KiB page",
        "guest": "/bin/ustub --no-startup-with-shell /dev/hvc1 /bin/atomics",
        "program": "atomics",
        "gdb": ["info auxv", "break bump", "continue",
                "python exec(\"while gdb.selected_frame().name() == 'bump': gdb.execute('stepi', to_string=True)\")",
                "print counter", "delete", "next", "print counter", "continue"],
        "expect": [r"^6 +AT_PAGESZ +System page size +65536$", r"^9 +AT_ENTRY +Entry point of program +0x[0-9a-f]+",
                   r"Breakpoint 1, bump \(\)", r"^\$1 = 5$", r"^\$2 = 10$",
                   r"\[Inferior 1 \(process \d+\) exited normally\]"],
        "guest_expect": [r"^counter 10$"],
    },
    {
        # ustub's own answer to a single-step at a ldarx (what range stepping
        # and clients without gdb's atomic-sequence logic rely on): a raw
        # vCont;s runs the sequence and stops after the stdcx., never between.
        "name": "ustub steps over an atomic sequence itself",
        "guest": "/bin/ustub --no-startup-with-shell /dev/hvc1 /bin/atomics",
        "program": "atomics",
        "gdb": ["break bump", "continue",
                "python exec(\"while 'ldarx' not in gdb.execute('x/i $pc', to_string=True): "
                "gdb.execute('stepi', to_string=True)\")",
                "x/i $pc", "maint packet vCont;s", "maint flush register-cache", "x/i $pc",
                "delete", "continue"],
        "expect": [r"=> 0x[0-9a-f]+ <bump\+\d+>:\s+ldarx", r'received: "T05',
                   r"=> 0x[0-9a-f]+ <bump\+\d+>:\s+bne", r"\[Inferior 1 \(process \d+\) exited normally\]"],
        "guest_expect": [r"^counter 10$"],
    },
    {
        "name": "threads",
        "guest": "/bin/ustub --no-startup-with-shell /dev/hvc1 /bin/threads",
        "program": "threads",
        "gdb": ["break work", "continue", "info threads", "thread apply all bt 1", "delete", "continue"],
        "expect": [r"\[New Thread \d+\.\d+\]", r"Thread \d+ .*hit Breakpoint 1, work \(id=\d\)",
                   r"^\* +\d+ +Thread \d+\.\d+ .*work \(id=\d\)", r"\[Inferior 1 \(process \d+\) exited normally\]"],
        "guest_expect": [r"^threads done 3 3 3 3$"],
    },
    {
        "name": "fork following",
        "guest": "/bin/ustub --no-startup-with-shell /dev/hvc1 /bin/forking",
        "program": "forking",
        "gdb": ["catch fork", "continue", "set follow-fork-mode child", "break in_child", "continue", "bt 1",
                "continue"],
        "expect": [r"Catchpoint 1 \(forked process \d+\)", r"\[Attaching after Thread \d+\.\d+ fork to child",
                   r"\[Inferior 1 \(process \d+\) detached\]",
                   r"Thread 2\.1 \"forking\" hit Breakpoint 2, in_child \(x=6\)",
                   r"\[Inferior 2 \(process \d+\) exited with code 07\]"],
        "guest_expect": [r"^child exited 7$"],
    },
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Guest:
    def __init__(self, kernel, initrd, cpu, port, log):
        self.lines = []
        self.log = log
        self.proc = subprocess.Popen(
            ["qemu-system-ppc64", "-machine", "pseries,x-vof=on", "-cpu", cpu, "-smp", "1", "-m", "1024",
             "-nographic", "-nodefaults", "-serial", "stdio", "-kernel", kernel, "-initrd", initrd,
             "-append", "console=hvc0 quiet", "-no-reboot",
             "-chardev", f"socket,id=gdb,host=127.0.0.1,port={port},server=on,wait=off",
             "-device", "spapr-vty,chardev=gdb"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\r\n")
            self.lines.append(line)
            self.log.write("guest| " + line + "\n")
            self.log.flush()

    def wait_for(self, pattern, start=0, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for i in range(start, len(self.lines)):
                if re.search(pattern, self.lines[i]):
                    return i
            if self.proc.poll() is not None and not self.reader.is_alive():
                break
            time.sleep(0.05)
        raise Failure(f"the guest never printed /{pattern}/")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def build_initrd(root, sessions, initrd):
    with open(os.path.join(root, "sessions"), "w") as f:
        for s in sessions:
            f.write(s["guest"] + "\n")
    with open(initrd, "wb") as out:
        files = subprocess.run(["find", "."], cwd=root, check=True, capture_output=True).stdout
        cpio = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root, input=files, check=True,
                              capture_output=True).stdout
        out.write(subprocess.run(["gzip", "-1"], input=cpio, check=True, capture_output=True).stdout)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--root", required=True, help="the guest's root: init, /bin/ustub, /bin/PROGRAMS")
    parser.add_argument("--programs", required=True, help="the same programs on the host, for gdb's symbols")
    parser.add_argument("--cpu", default="power9")
    parser.add_argument("--work", required=True)
    parser.add_argument("-k", dest="only", help="only sessions whose name matches this regular expression")
    args = parser.parse_args()
    sessions = [s for s in SESSIONS if (not args.only or re.search(args.only, s["name"]))
                and args.cpu in s.get("cpus", [args.cpu])]
    initrd = os.path.join(args.work, "initrd.gz")
    build_initrd(args.root, sessions, initrd)
    port = free_port()
    log = open(os.path.join(args.work, f"guest-{args.cpu}.log"), "w")
    guest = Guest(args.kernel, initrd, args.cpu, port, log)
    failed = 0
    try:
        guest.wait_for(r"^guest: up, page size (\d+)$", timeout=60)
        at = 0
        for number, s in enumerate(sessions, 1):
            begun = time.time()
            problems = []
            try:
                at = guest.wait_for(rf"^guest: session {number}: start$", at, timeout=60)
                guest.wait_for(r"^Remote debugging using /dev/hvc1$", at, timeout=60)
                cmd = [GDB, "-nx", "-batch", "-ex", "set confirm off", "-ex", "set pagination off",
                       "-ex", "set remotetimeout 30", "-ex", f"target remote 127.0.0.1:{port}"]
                for c in s["gdb"]:
                    cmd += ["-ex", c]
                cmd.append(os.path.join(args.programs, s["program"]))
                try:
                    r = subprocess.run(cmd, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
                    out = r.stdout + r.stderr
                except subprocess.TimeoutExpired as e:
                    out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
                    problems.append("gdb did not finish in 180 s")
                log.write(f"--- gdb, session {number} ({s['name']}):\n{out}\n")
                for pattern in s["expect"]:
                    if not re.search(pattern, out, re.M):
                        problems.append(f"gdb output lacks /{pattern}/")
                end = guest.wait_for(rf"^guest: session {number}: (exit|signal) ", at, timeout=60)
                said = "\n".join(guest.lines[at:end + 1])
                if not re.search(rf"^guest: session {number}: exit 0$", said, re.M):
                    problems.append(f"ustub did not exit 0: {guest.lines[end]}")
                for pattern in s["guest_expect"]:
                    if not re.search(pattern, said, re.M):
                        problems.append(f"the guest's console lacks /{pattern}/")
                if problems:
                    problems.append("gdb printed:\n" + out)
                at = end + 1
            except Failure as e:
                problems.append(str(e))
            took = time.time() - begun
            if problems:
                failed += 1
                print(f"FAIL {args.cpu}: {s['name']} ({took:.1f}s)")
                for p in problems:
                    print("  " + p.replace("\n", "\n  "))
            else:
                print(f"PASS {args.cpu}: {s['name']} ({took:.1f}s)")
            sys.stdout.flush()
        guest.wait_for(r"^guest: all sessions done$", at, timeout=60)
        try:
            guest.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise Failure("the guest did not power itself off")
    except Failure as e:
        failed += 1
        print(f"FAIL {args.cpu}: {e}; the guest printed:\n" + "\n".join(guest.lines[-40:]))
    finally:
        guest.stop()
        log.close()
    print(f"ppc64 {args.cpu}: {len(sessions) - min(failed, len(sessions))} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
