#!/usr/bin/env python3
"""DejaGnu .sum files: merge shards, count, compare with expectations.txt.

expectations.txt holds, per board, one line per test name:
    STATUS<TAB>gdb.dir/file.exp: test name[<TAB># reason]
STATUS is what the run gave when the file was written. PASS must stay PASS.
A known failure (FAIL, UNRESOLVED, ERROR) carries a one-line reason; FLAKY
(any result accepted) too. Other statuses (XFAIL, KFAIL, UNSUPPORTED, …) are
the testsuite's own verdicts and are only reported when they change.
"""
import argparse
import fnmatch
import glob
import os
import re
import subprocess
import sys
from collections import OrderedDict

BAD = {"FAIL", "UNRESOLVED", "ERROR"}
STATUSES = ["PASS", "FAIL", "XFAIL", "XPASS", "KFAIL", "KPASS", "UNRESOLVED", "UNTESTED",
            "UNSUPPORTED", "ERROR"]
SUMMARY_LABELS = {
    "PASS": "expected passes", "FAIL": "unexpected failures", "XFAIL": "expected failures",
    "XPASS": "unexpected successes", "KFAIL": "known failures", "KPASS": "unknown successes",
    "UNRESOLVED": "unresolved testcases", "UNTESTED": "untested testcases",
    "UNSUPPORTED": "unsupported tests", "ERROR": "errors",
}
RESULT_RE = re.compile(r"^(%s): (.*)$" % "|".join(STATUSES))
RUNNING_RE = re.compile(r"^Running (?:.*/)?(gdb\.[^/]+/[^/ ]+\.exp) \.\.\.$")


def normalise(name):
    """Test names with paths in them (tcl errors) name the same test anywhere."""
    name = re.sub(r"/\S*/gdb/testsuite/", "", name)
    return re.sub(r"/\S*/outputs/", "outputs/", name)


def parse_sum(path):
    """Returns OrderedDict exp-file -> list of (status, name) in file order.

    A tcl error prints "tcl error sourcing X" and then a block of detail
    lines, sometimes under the next file's "Running" line: it counts once,
    for X."""
    sections = OrderedDict()
    current = None
    errors = []

    def flush_errors():
        # One ERROR per block: its first line says what went wrong ("tcl error
        # sourcing X", "Timeout waiting for gdbserver response"); the rest is
        # the tcl stack. A block that starts with stack lines is the rest of
        # one printed after the next "Running" line.
        first = errors[0] if errors else None
        del errors[:]
        if first is None or re.match(r"^(-+|tcl error info:|tcl error code |in testcase )", first):
            return
        m = re.search(r"sourcing (gdb\.[^/ ]+/[^/ ]+\.exp)", first)
        owner = m.group(1) if m else current
        if owner is not None:
            sections.setdefault(owner, []).append(("ERROR", "%s: %s" % (owner, first)))

    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = RESULT_RE.match(line)
            if m and m.group(1) == "ERROR":
                # Merged files carry a "gdb.x/y.exp: " prefix already.
                errors.append(re.sub(r"^gdb\.[^/ ]+/[^/ ]+\.exp: ", "", normalise(m.group(2).strip())))
                continue
            flush_errors()
            m2 = RUNNING_RE.match(line)
            if m2:
                current = m2.group(1)
                sections.setdefault(current, [])
                continue
            if not m or current is None:
                continue
            status, name = m.group(1), normalise(m.group(2).strip())
            if not name.startswith(current + ":") and not name.startswith(current + " "):
                name = "%s: %s" % (current, name)
            sections[current].append((status, name))
    flush_errors()
    return sections


def keyed(sections):
    """name -> status, numbering repeated names so each is its own key."""
    out = OrderedDict()
    for results in sections.values():
        seen = {}
        for status, name in results:
            seen[name] = seen.get(name, 0) + 1
            key = name if seen[name] == 1 else "%s [#%d]" % (name, seen[name])
            out[key] = status
    return out


def exp_file_of(name):
    return name.split(":", 1)[0].split(" ", 1)[0]


def counts_of(statuses):
    counts = OrderedDict((s, 0) for s in STATUSES)
    for s in statuses:
        counts[s] += 1
    return counts


def merge(args):
    merged = OrderedDict()
    for path in args.sums:
        if os.path.exists(path):
            for exp, results in parse_sum(path).items():
                merged.setdefault(exp, []).extend(results)
    board = os.path.basename(args.out)
    counts = counts_of(s for results in merged.values() for s, _ in results)
    with open(args.out + ".sum", "w") as f:
        f.write("\t\t=== gdb tests ===\n\nRunning target %s\n" % board)
        for exp in sorted(merged):
            f.write("Running %s ...\n" % exp)
            for status, name in merged[exp]:
                f.write("%s: %s\n" % (status, name))
        f.write("\n\t\t=== gdb Summary ===\n\n")
        for s, n in counts.items():
            if n:
                f.write("# of %-24s%d\n" % (SUMMARY_LABELS[s], n))


def times(args):
    """Seconds spent per test file, from when each file's outputs/ directory
    appeared within its shard (runtest keeps no clock). Slowest first."""
    rows = []
    for shard in args.shards:
        outputs = os.path.join(shard, "outputs")
        dirs = glob.glob(os.path.join(outputs, "gdb.*", "*"))
        starts = []
        if dirs:
            # Birth times (statx); Python's os.stat has none on Linux.
            born = subprocess.run(["stat", "--format=%W", *dirs], capture_output=True, text=True).stdout.split()
            starts = [(float(b), os.path.relpath(d, outputs)) for b, d in zip(born, dirs)]
        starts.sort()
        end = os.stat(os.path.join(shard, "gdb.sum")).st_mtime if os.path.exists(os.path.join(shard, "gdb.sum")) else None
        for i, (t, name) in enumerate(starts):
            nxt = starts[i + 1][0] if i + 1 < len(starts) else end
            if nxt:
                rows.append((nxt - t, name + ".exp"))
    rows.sort(reverse=True)
    with open(args.out, "w") as f:
        for secs, name in rows:
            f.write("%7.1f %s\n" % (secs, name))


def load_results(sums_dir, board):
    path = os.path.join(sums_dir, board + ".sum")
    return keyed(parse_sum(path)) if os.path.exists(path) else OrderedDict()


def counts_line(results):
    c = counts_of(results.values())
    return " ".join("%s %d" % (s, n) for s, n in c.items() if n) or "no results"


def counts(args):
    wanted = None
    if args.list:
        with open(args.list) as f:
            wanted = {l.split("#")[0].strip() for l in f} - {""}
    for board in args.boards.split():
        results = load_results(args.sums, board)
        if wanted is not None:
            results = OrderedDict((n, s) for n, s in results.items() if exp_file_of(n) in wanted)
        print("gdb-testsuite: %s: %s" % (board, counts_line(results)))


def load_expectations(path):
    """board -> OrderedDict name -> (status, reason)."""
    expectations = {}
    board = None
    if not os.path.exists(path):
        return expectations
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            m = re.match(r"^\[(.+)\]$", line)
            if m:
                board = m.group(1)
                expectations.setdefault(board, OrderedDict())
                continue
            parts = line.split("\t")
            status, name = parts[0], parts[1]
            reason = parts[2][2:] if len(parts) > 2 and parts[2].startswith("# ") else ""
            expectations[board][name] = (status, reason)
    return expectations


def load_reasons(path):
    """[(glob, reason, flaky)] from 'glob<TAB>reason' lines; 'flaky: …' accepts any result."""
    reasons = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            pattern, reason = line.split("\t", 1)
            reason = reason.strip()
            reasons.append((pattern, reason, reason.startswith("flaky:")))
    return reasons


def reason_for(name, reasons):
    for pattern, reason, flaky in reasons:
        if fnmatch.fnmatchcase(name, pattern):
            return reason, flaky
    return None, False


def update(args):
    """Rewrites the expectations from one or more runs (--sums DIR…). A test
    whose result differs between the runs, or that only some runs have, is
    FLAKY; a failure takes its reason from reasons.txt."""
    reasons = load_reasons(args.reasons)
    old = load_expectations(args.expectations)
    header = []
    if os.path.exists(args.expectations):
        with open(args.expectations) as f:
            for line in f:
                if not line.startswith("#"):
                    break
                header.append(line)
    untriaged = 0
    boards = args.boards.split()
    with open(args.expectations, "w") as f:
        f.writelines(header)
        for board in list(old) + [b for b in boards if b not in old]:
            runs = [load_results(d, board) for d in args.sums] if board in boards else []
            if not runs:
                # A board not run this time keeps its lines.
                runs = [OrderedDict((n, s) for n, (s, _) in old[board].items())]
            names = list(OrderedDict.fromkeys(n for r in runs for n in r))
            f.write("\n[%s]\n" % board)
            for name in names:
                seen = {r.get(name) for r in runs}
                reason, flaky = reason_for(name, reasons)
                if flaky:
                    f.write("FLAKY\t%s\t# %s\n" % (name, reason[len("flaky:"):].strip()))
                    continue
                if len(seen) > 1:
                    got = "/".join(sorted(str(x) for x in seen))
                    f.write("FLAKY\t%s\t# %s across runs on the development machine\n" % (name, got))
                    continue
                status = seen.pop()
                if status in BAD:
                    if not reason:
                        reason = "UNTRIAGED"
                        untriaged += 1
                        print("untriaged: %s %s: %s" % (board, status, name))
                    f.write("%s\t%s\t# %s\n" % (status, name, reason))
                else:
                    f.write("%s\t%s\n" % (status, name))
    print("gdb-testsuite: wrote %s (%d untriaged)" % (args.expectations, untriaged))


def compare(args):
    expectations = load_expectations(args.expectations)
    # A test under a "flaky:" reason is accepted whatever it does, even under a
    # name no earlier run produced (racy tests name their failures differently).
    flaky_globs = [p for p, _, flaky in load_reasons(args.reasons) if flaky] if args.reasons else []
    failures = []
    notes = []
    only = set(args.only or [])

    def in_scope(name):
        return not only or exp_file_of(name) in only

    for board in args.boards.split():
        results = load_results(args.sums, board)
        expected = expectations.get(board, OrderedDict())
        print("gdb-testsuite: %s: %s" % (board, counts_line(results)))
        names = list(expected) + [n for n in results if n not in expected]
        for name in names:
            if not in_scope(name):
                continue
            want, reason = expected.get(name, (None, ""))
            got = results.get(name)
            where = "%s: %s" % (board, name)
            if want == "FLAKY" or any(fnmatch.fnmatchcase(name, g) for g in flaky_globs):
                continue
            if got is None:
                if want == "PASS":
                    failures.append("missing (was PASS): " + where)
                continue
            if got in BAD:
                if want is None:
                    failures.append("new %s: %s" % (got, where))
                elif want not in BAD:
                    failures.append("%s -> %s: %s" % (want, got, where))
                elif want != got and got in ("ERROR", "UNRESOLVED"):
                    failures.append("%s -> %s: %s" % (want, got, where))
            elif got == "PASS" and want in BAD:
                notes.append("now passes (was %s: %s): %s" % (want, reason, where))
            elif want is not None and got != want and want != "PASS":
                notes.append("%s -> %s: %s" % (want, got, where))
    if args.leftovers and os.path.exists(args.leftovers):
        with open(args.leftovers) as f:
            for line in f:
                if line.strip():
                    failures.append(line.strip())
    if args.crashes and os.path.exists(args.crashes):
        with open(args.crashes) as f:
            for line in f:
                if line.strip():
                    failures.append("ustub crashed: " + line.strip())
    for n in notes:
        print("note: " + n)
    for fl in failures:
        print("FAILED: " + fl)
    if notes:
        print("gdb-testsuite: %d known failures now pass or changed: tighten expectations.txt "
              "(tests/gdb-testsuite/run --update)" % len(notes))
    print("gdb-testsuite: %d unexpected results" % len(failures))
    return 1 if failures else 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("merge")
    m.add_argument("--out", required=True)
    m.add_argument("sums", nargs="*")
    c = sub.add_parser("counts")
    c.add_argument("--boards", required=True)
    c.add_argument("--sums", required=True)
    c.add_argument("--list", help="count only the files in this tests.list")
    u = sub.add_parser("update")
    u.add_argument("--expectations", required=True)
    u.add_argument("--reasons", required=True)
    u.add_argument("--boards", required=True)
    u.add_argument("--sums", required=True, nargs="+")
    t = sub.add_parser("times")
    t.add_argument("--out", required=True)
    t.add_argument("shards", nargs="*")
    k = sub.add_parser("compare")
    k.add_argument("--expectations", required=True)
    k.add_argument("--boards", required=True)
    k.add_argument("--sums", required=True)
    k.add_argument("--crashes")
    k.add_argument("--reasons")
    k.add_argument("--leftovers")
    k.add_argument("--only", nargs="*")
    args = p.parse_args()
    return {"merge": merge, "counts": counts, "update": update, "compare": compare, "times": times}[args.cmd](args) or 0


if __name__ == "__main__":
    sys.exit(main())
