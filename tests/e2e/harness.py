"""What every end-to-end test needs: the built programs, ustub as a process,
gdb in batch mode, and a check that nothing was left behind."""
import os
import re
import signal
import subprocess
import threading
import time

LLDB = "/usr/bin/lldb"
GDB = "/usr/bin/gdb"


class Failure(Exception):
    pass


def test_registry():
    """A test module's list of tests, and the decorator that adds to it."""
    tests = []

    def test(fn):
        tests.append(fn)
        return fn
    return tests, test


def remote(port):
    return f"target remote :{port}"


def extended(port):
    return f"target extended-remote :{port}"


def check(condition, message):
    if not condition:
        raise Failure(message)


def expect(text, pattern, what=None):
    if not re.search(pattern, text, re.M):
        raise Failure(f"{what or 'output'}: expected /{pattern}/ in:\n{tail(text)}")


def expect_not(text, pattern, what=None):
    if re.search(pattern, text, re.M):
        raise Failure(f"{what or 'output'}: did not expect /{pattern}/ in:\n{tail(text)}")


def tail(text, n=60):
    return "\n".join(text.splitlines()[-n:])


class Env:
    """Paths of the suite: where ustub and the compiled programs are."""

    def __init__(self, work):
        self.work = work
        self.ustub = os.path.join(work, "ustub")
        self.bin = os.path.join(work, "bin")
        self.runtime = os.path.join(work, "run")
        os.makedirs(self.bin, exist_ok=True)
        os.makedirs(self.runtime, mode=0o700, exist_ok=True)

    def build_programs(self):
        src = os.path.join(self.work, "programs")

        def cc(*args):
            subprocess.run(["gcc", "-g", "-O0", *args], check=True, cwd=self.bin)

        cc("-shared", "-fPIC", "-o", "libdemo.so", os.path.join(src, "libdemo.c"))
        cc("-o", "basic", os.path.join(src, "basic.c"), "-L.", "-ldemo", "-Wl,-rpath,$ORIGIN")
        for name in ("crash", "spin", "sleeper", "signals", "echo_line", "no_ptrace", "syscalls", "show_env", "forker", "vforker", "vfork_sleeper", "alarm_loop", "stepping", "persistent_ticks",
                     "read_then_write"):
            cc("-o", name, os.path.join(src, name + ".c"))
        for name in ("threads", "signal_storm", "watch", "busy_threads", "exec_into", "ticker",
                     "signal_other_thread", "threads_counting", "hitting_threads"):
            cc("-pthread", "-o", name, os.path.join(src, name + ".c"))
        cc("-pthread", "-o", "tls", os.path.join(src, "tls.c"), "-L.", "-ldemo", "-Wl,-rpath,$ORIGIN")
        cc("-static", "-pthread", "-o", "tls_static", os.path.join(src, "tls.c"), os.path.join(src, "libdemo.c"))

    def program(self, name):
        return os.path.join(self.bin, name)


class Ustub:
    """ustub as a child process whose stderr is collected line by line."""

    def __init__(self, env, *args, stdin=subprocess.DEVNULL, prefix=(), environ=None):
        self.env = env
        self.args = [*prefix, env.ustub, *args]
        self.proc = subprocess.Popen(self.args, cwd=env.bin, stdin=stdin, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env=environ)
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self):
        return "\n".join(self.lines)

    def wait_for(self, pattern, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in list(self.lines):
                m = re.search(pattern, line)
                if m:
                    return m
            if self.proc.poll() is not None and not self.reader.is_alive():
                break
            time.sleep(0.02)
        raise Failure(f"ustub never printed /{pattern}/; it printed:\n{self.output}")

    def port(self):
        return int(self.wait_for(r"^Listening on port (\d+)$").group(1))

    def inferior_pid(self):
        return int(self.wait_for(r"(?:created; pid = |Attached; pid = )(\d+)").group(1))

    def wait_exit(self, timeout=10.0):
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure(f"ustub did not exit; it printed:\n{self.output}")
        self.reader.join(timeout=2)
        return code

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def gdb_args(commands, program=None):
    args = [GDB, "-nx", "-batch", "-ex", "set confirm off", "-ex", "set pagination off"]
    for c in commands:
        args += ["-ex", c]
    if program:
        args.append(program)
    return args


def gdb(env, commands, program=None, timeout=90):
    r = subprocess.run(gdb_args(commands, program), cwd=env.bin, capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    return r.stdout + r.stderr


def lldb(env, commands, program, timeout=90):
    args = [LLDB, "--no-lldbinit", "--batch"]
    for c in commands:
        args += ["-o", c]
    r = subprocess.run(args + [program], cwd=env.bin, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    return r.stdout + r.stderr


def spawn_gdb(env, commands, program=None):
    return subprocess.Popen(gdb_args(commands, program), cwd=env.bin, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)


class TerminalGdb:
    """gdb at a terminal of its own, for what batch mode cannot show: async
    commands (`continue -a &`, `interrupt -a`) whose stops gdb handles only
    while it waits at its prompt."""

    def __init__(self, env, program=None, timeout=15.0):
        import pty
        master, slave = pty.openpty()
        args = [GDB, "-nx", "-q", "-iex", "set confirm off", "-iex", "set pagination off",
                "-iex", "set style enabled off"] + ([program] if program else [])
        self.proc = subprocess.Popen(args, cwd=env.bin, stdin=slave, stdout=slave, stderr=slave,
                                     start_new_session=True, env={**os.environ, "TERM": "dumb"})
        os.close(slave)
        self.master = master
        self.timeout = timeout
        self.output = ""
        self.wait_for(r"\(gdb\) $")

    def wait_for(self, pattern, since=0):
        """Reads gdb's output until `pattern` is in it (after offset `since`); the match."""
        import select
        deadline = time.time() + self.timeout
        while not (m := re.search(pattern, self.output[since:], re.M)):
            left = deadline - time.time()
            if left <= 0 or not select.select([self.master], [], [], left)[0]:
                raise Failure(f"gdb never printed /{pattern}/; it printed:\n{tail(self.output)}")
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                raise Failure(f"gdb ended before /{pattern}/; it printed:\n{tail(self.output)}")
            self.output += re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", chunk.decode(errors="replace")).replace("\r", "")
        return m

    def command(self, line, until=r"\(gdb\) $"):
        """Types `line`; what gdb printed up to `until` (its next prompt)."""
        since = len(self.output)
        os.write(self.master, (line + "\n").encode())
        self.wait_for(until, since)
        return self.output[since:]

    def close(self):
        try:
            os.write(self.master, b"quit\n")
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


def process_state(pid):
    """The one-letter state from /proc/PID/stat, or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def alive(pid):
    state = process_state(pid)
    return state is not None and state != "Z"


def wait_until(predicate, timeout=10.0, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def our_programs(env):
    """Processes running one of the suite's programs: (pid, state)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            exe = os.readlink(f"/proc/{entry}/exe")
        except OSError:
            continue
        if exe.startswith(env.bin + "/"):
            found.append((int(entry), process_state(int(entry))))
    return found


def start_sleeper(env, name="counter"):
    path = os.path.join(env.runtime, name)
    proc = subprocess.Popen([env.program("sleeper"), path], cwd=env.bin)
    wait_until(lambda: os.path.exists(path))
    return proc, path


def read_count(path):
    try:
        with open(path) as f:
            return int(f.read().strip() or -1)
    except (OSError, ValueError):
        return -1


def still_counting(path):
    """True when the sleeper behind `path` advances, i.e. it runs freely."""
    first = read_count(path)
    return wait_until(lambda: read_count(path) > first + 1, timeout=5)


def cpu_seconds(pid):
    """User plus system CPU time a process has used, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def resident_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0
