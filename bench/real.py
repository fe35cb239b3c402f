#!/usr/bin/env python3
"""Burrow on real programs: burrow (namespace and ptrace engines), bwrap, PRoot and native,
on a copy of the Debian fixture, pinned to one CPU and unpinned, in one run.

    bench/real.py                          # as root; see bench/README.md for the knobs
    BENCH_RUNS=3 BENCH_RUNS_START=50 bench/real.py     # a quick look

Every workload is the same command line in every tool (and natively, in a chroot); every
command runs as nobody. Rounds go over the tools with a rotating start, pinned and unpinned
interleaved, so drift in a shared machine hits all alike. Then the memory of one running
sandbox (the tool's own processes, not the command). It is a report, not a test: it exits 0
whether or not the goals are met, and non-zero only when setup or a command fails.
"""
import atexit, ctypes, json, os, random, re, resource, shutil, statistics, subprocess, sys, tempfile, time

sys.dont_write_bytecode = True  # no __pycache__ in the tree for benchlib
import benchlib
from benchlib import cpu_model, first_line, med, ratio_ci, show

env = os.environ
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(REPO, "bench", "real")
NOBODY = 65534


def die(msg):
    sys.exit(f"real: error: {msg}")


def knob(name, default, least=1):
    return benchlib.knob(name, default, least, prog="real")


# --- workloads ------------------------------------------------------------------------
# name -> argv, the same in every tool (bench/README.md says what real use each stands for).
# Paths are the guest's: native runs the same argv in a chroot of the same copy.
CONFIGURE_CHECKS = knob("BENCH_CONFIGURE_CHECKS", 40)
DEBS = knob("BENCH_DEBS", 4)
PYTHON_IMPORTS = "import json, re, subprocess, pathlib, email, http.client, decimal, argparse"
DEB_FILES = [f"/bench/debs/benchpkg{n}_1.0_all.deb" for n in range(1, DEBS + 1)]
WORKLOADS = {
    "start-up": ["/bin/true"],
    "walk-abs": ["/bin/ls", "-lnR", "/usr/lib", "/usr/share"],
    "walk-rel": ["/bin/sh", "-c", "cd /usr && exec /bin/ls -lnR lib share"],
    "find": ["/usr/bin/find", "/usr/lib", "/usr/share", "-name", "*.py"],
    "python": ["/usr/bin/python3", "-c", PYTHON_IMPORTS],
    "gcc": ["/bin/sh", "-c", "gcc -O2 -c /bench/hello.c -o /tmp/hello.o && gcc /tmp/hello.o -o /tmp/hello && /tmp/hello /bench/hello.c"],
    "dpkg": ["/usr/bin/dpkg", "-i", *DEB_FILES],
    "configure": ["/bin/sh", "/bench/configure.sh", str(CONFIGURE_CHECKS)],
}
FAKEROOT = {"dpkg"}          # run as (faked) root; natively as real root
SELECTED = env.get("BENCH_WORKLOADS", "").split() or list(WORKLOADS)
for w in SELECTED:
    if w not in WORKLOADS:
        die(f"BENCH_WORKLOADS: unknown workload {w!r} (known: {' '.join(WORKLOADS)})")
WORKLOADS = {w: a for w, a in WORKLOADS.items() if w in SELECTED}

RUNS = {w: knob(f"BENCH_RUNS_{w.upper().replace('-', '_')}", knob("BENCH_RUNS", 5)) for w in WORKLOADS}
if "start-up" in RUNS:
    RUNS["start-up"] = knob("BENCH_RUNS_START", 200)
WARMUP = knob("BENCH_WARMUP", 1, least=1)      # at least one: it is also the check, and fills caches
MEM_RUNS = knob("BENCH_MEM_RUNS", 3, least=0)
PIN_CPUS = env.get("BENCH_PIN_CPUS", "0")
ALL_CPUS = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
MODES = {"0": ["unpinned"], "1": ["pinned"], "": ["unpinned", "pinned"]}.get(env.get("BENCH_PIN", ""))
if MODES is None:
    die("BENCH_PIN must be 0 (unpinned only), 1 (pinned only) or unset (both)")
JSON_OUT = env.get("BENCH_JSON", "")
WHERE = env.get("BENCH_WHERE") == "1"   # count trapped calls instead of timing (see where_the_time_goes)

# (workload, subject, against, limit): median(subject) / median(against) <= limit
GOALS = [("start-up", "burrow", "bwrap", 0.80), ("start-up", "burrow-ptrace", "proot", 0.75)]
GOALS += [(w, "burrow-ptrace", "proot", 0.50) for w in WORKLOADS if w != "start-up"]
GOALS = [g for g in GOALS if g[0] in WORKLOADS]
# memory: (subject, against, limit) on the sum over the tool's own processes
MEMORY_GOALS = [("burrow", "bwrap", 1.00), ("burrow-ptrace", "proot", 1.25)]

# --- setup ------------------------------------------------------------------------------
if os.getuid() != 0:
    die("run as root: it copies the fixture, runs every command as nobody, chroots for native and reads every process's smaps")
for prog in ("taskset", "setpriv", "chroot", "dpkg-deb", "cp"):
    if not shutil.which(prog):
        die(f"{prog} is missing")

source = env.get("BENCH_ROOTFS") or env.get("BURROW_TEST_DEBIAN_ROOTFS") or os.path.join(REPO, ".build/fixtures/debian-rootfs")
if not os.path.isfile(os.path.join(source, "usr/bin/gcc")) or not os.path.isfile(os.path.join(source, "usr/bin/python3")):
    die(f"{source} is not the Debian fixture (gcc, python3): make it with `scripts/make-debian-rootfs DIR` as root, "
        "then BENCH_ROOTFS=DIR (or BURROW_TEST_DEBIAN_ROOTFS)")

notes = []
tools = {}
b = env.get("BURROW_BIN") or os.path.join(REPO, ".build/release/burrow")
b = b if os.path.isabs(b) else os.path.join(REPO, b)
if not os.access(b, os.X_OK):
    die(f"{b} is missing: swift build -c release -Xswiftc -static-executable --disable-local-rpath (or BURROW_BIN)")
tools["burrow"] = tools["burrow-ptrace"] = b
bw = env.get("BENCH_BWRAP") or shutil.which("bwrap")
if bw:
    tools["bwrap"] = bw
else:
    notes.append("bwrap is not installed (apt-get install bubblewrap): left out")
pr = env.get("BENCH_PROOT")
if not pr:
    build = os.path.join(os.path.dirname(REPO), "shared", "anchors", "build-proot")
    if os.access(build, os.X_OK):
        r = subprocess.run([build], capture_output=True, text=True)
        pr = r.stdout.strip().splitlines()[-1] if r.returncode == 0 and r.stdout.strip() else ""
        if not pr:
            notes.append(f"build-proot failed: {r.stderr.strip()[-300:]}")
if pr:
    tools["proot"] = pr
else:
    notes.append("no PRoot 5.4 (../shared/anchors/build-proot, or BENCH_PROOT=PATH): left out")
tools["native"] = shutil.which("chroot")
wanted = env.get("BENCH_TOOLS", "").split()
if wanted:
    for t in list(tools):
        if t not in wanted:
            del tools[t]
            notes.append(f"{t}: left out by BENCH_TOOLS")
if not tools:
    die("no tool left to measure")

tmpbase = env.get("BENCH_TMPDIR") or env.get("TMPDIR") or "/tmp"
WORK = tempfile.mkdtemp(prefix="burrow-real.", dir=tmpbase)
os.chmod(WORK, 0o755)
ROOT = os.path.join(WORK, "rootfs")


def cleanup():
    if env.get("BENCH_KEEP") == "1":
        print(f"real: kept {WORK}", file=sys.stderr)
    else:
        shutil.rmtree(WORK, ignore_errors=True)


atexit.register(cleanup)  # also after a failure (sys.exit) or an exception


RUNAS = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
for path in sorted({v for k, v in tools.items() if k != "native"}):
    if subprocess.run([*RUNAS, "test", "-x", path]).returncode != 0:
        os.makedirs(os.path.join(WORK, "bin"), mode=0o755, exist_ok=True)
        copy = os.path.join(WORK, "bin", os.path.basename(path))
        shutil.copy2(path, copy)
        os.chmod(copy, 0o755)
        notes.append(f"{path} is not executable by nobody: running a copy, {copy}")
        for k in [k for k, v in tools.items() if v == path]:
            tools[k] = copy


def run_host(argv, what):
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        die(f"{what}: {' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()[-2000:]}")
    return r.stdout


t0 = time.monotonic()
print(f"real: copying {source} to {ROOT} ...", file=sys.stderr, flush=True)
# The copy belongs to nobody, as a rootfs a user unpacked would: every tool may write
# in it (dpkg, gcc's output), and the fixture itself stays untouched.
run_host(["cp", "-a", source, ROOT], "copying the fixture")
bench = os.path.join(ROOT, "bench")
os.makedirs(bench)
shutil.copy(os.path.join(HERE, "configure.sh"), bench)
shutil.copy(os.path.join(HERE, "hello.c"), bench)
run_host([os.path.join(HERE, "make-debs"), os.path.join(bench, "debs"), str(DEBS)], "building the packages")
run_host(["chown", "-R", "-h", f"{NOBODY}:{NOBODY}", ROOT], "giving the copy to nobody")
os.chmod(ROOT, 0o755)
copy_seconds = time.monotonic() - t0
# dpkg's state before any run, restored before each dpkg run (untimed).
DPKG_STATE = ["var/lib/dpkg", "var/log/dpkg.log", "var/log/alternatives.log"]
snapshot = os.path.join(WORK, "dpkg-state")
os.makedirs(snapshot)
for p in DPKG_STATE:
    if os.path.lexists(os.path.join(ROOT, p)):
        os.makedirs(os.path.dirname(os.path.join(snapshot, p)), exist_ok=True)
        run_host(["cp", "-a", os.path.join(ROOT, p), os.path.join(snapshot, p)], "saving dpkg's state")


def remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def reset_dpkg():
    """Back to the state before dpkg -i: dpkg's database and log, and no package file."""
    for p in DPKG_STATE:
        remove(os.path.join(ROOT, p))
        if os.path.lexists(os.path.join(snapshot, p)):
            run_host(["cp", "-a", os.path.join(snapshot, p), os.path.join(ROOT, p)], "restoring dpkg's state")
    for n in range(1, DEBS + 1):
        name = f"benchpkg{n}"
        for p in (f"usr/bin/{name}", f"usr/lib/{name}", f"usr/share/{name}", f"usr/share/doc/{name}",
                  f"usr/share/man/man1/{name}.1.gz", f"var/lib/{name}"):
            remove(os.path.join(ROOT, p))


# --- command lines ----------------------------------------------------------------------
NS = ["--dev", "/dev", "--proc", "/proc", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
PT = ["--dev", "/dev", "--proc", "/proc"]  # the ptrace engine makes no namespaces
CHILD_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "TZ": "UTC", "HOME": "/"}


def command(tool, wl, inner):
    """The tool's command line (without pinning) that runs `inner` in the rootfs."""
    root = wl in FAKEROOT
    start = wl == "start-up"
    if tool == "burrow":
        # start-up: the options, a read-only rootfs and a new network namespace too
        opts = (["--ro-root"] if start else []) + NS + (["--unshare-net"] if start else [])
        return [*RUNAS, tools[tool], *(["--root"] if root else []), *opts, ROOT, *inner]
    if tool == "burrow-ptrace":
        return [*RUNAS, tools[tool], "--engine", "ptrace", *(["--root"] if root else []), *PT, ROOT, *inner]
    if tool == "bwrap":
        ident = ["--unshare-user", "--uid", "0", "--gid", "0"] if root else []
        bind = ["--ro-bind", ROOT, "/"] if start else ["--bind", ROOT, "/"]
        return [*RUNAS, tools[tool], *ident, *bind, *NS, *(["--unshare-net"] if start else []), *inner]
    if tool == "proot":
        return [*RUNAS, tools[tool], *(["-0"] if root else []), "-r", ROOT, "-b", "/dev", "-b", "/proc", *inner]
    # native: a chroot of the same copy, as nobody (dpkg: as root, which it needs natively)
    user = [] if root else [f"--userspec={NOBODY}:{NOBODY}", f"--groups={NOBODY}"]
    return [tools[tool], *user, ROOT, *inner]


def pinned(mode, argv):
    return ["taskset", "-c", PIN_CPUS if mode == "pinned" else ALL_CPUS, *argv]


def fail(what, tool, argv, rc, err):
    benchlib.fail("real", what, tool, argv, rc, err)


# The driver is a child subreaper: what a tool leaves running when it exits (bwrap's pid 1
# while it reaps, Burrow's cleaner) comes back to it, so run() can wait for the whole tree
# and count its CPU time; none of it outlives its run.
PR_SET_CHILD_SUBREAPER = 36
if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    die(f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}")


def children_cpu():
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def run(argv, capture=False):
    """Runs argv; returns (wall ns until it exits, CPU ns of its whole tree (user + system,
    everything it started included), exit status, stdout, stderr). stdout goes to /dev/null
    unless captured."""
    with tempfile.TemporaryFile(dir=WORK) as err, tempfile.TemporaryFile(dir=WORK) as out:
        cpu0 = children_cpu()
        t0 = time.perf_counter_ns()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out if capture else subprocess.DEVNULL,
                             stderr=err, env=CHILD_ENV, cwd="/")
        _, status, _ = os.wait4(p.pid, 0)
        wall = time.perf_counter_ns() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        reap_all()
        cpu = children_cpu() - cpu0
        out.seek(0)
        err.seek(0)
        return wall, int(cpu * 1e9), p.returncode, out.read(), err.read()


def reap_all():
    """Waits for every descendant left (reparented to this subreaper)."""
    while True:
        try:
            os.wait4(-1, 0)
        except ChildProcessError:
            return


def check(wl, tool, out):
    """What each tool must print on its first (untimed) run: the same as natively."""
    text = out.decode(errors="replace")
    if wl == "dpkg":
        status = open(os.path.join(ROOT, "var/lib/dpkg/status"), errors="replace").read()
        for n in range(1, DEBS + 1):
            if not re.search(rf"^Package: benchpkg{n}\nStatus: install ok installed$", status, re.M):
                return f"benchpkg{n} is not 'install ok installed' in /var/lib/dpkg/status"
        if not os.path.isfile(os.path.join(ROOT, "var/lib/benchpkg1/state")):
            return "the postinst of benchpkg1 did not run"
        return None
    if wl == "gcc" and "hello from pid" not in text:
        return f"the compiled program did not run: {text[-200:]!r}"
    if wl in ("walk-abs", "walk-rel", "find"):
        n = len(text.splitlines())
        want = expected.setdefault(wl, n)
        if n != want or n < 100:
            return f"{n} lines of output, {want} from the first tool"
    return None


expected = {}
tool_names = list(tools)


# --- header -----------------------------------------------------------------------------
def loadavg():
    return " ".join(open("/proc/loadavg").read().split()[:3])


versions = benchlib.versions(tools)
deb = open(os.path.join(ROOT, "etc/debian_version")).read().strip()
versions["rootfs"] = f"Debian {deb}; " + ", ".join(
    first_line(["chroot", ROOT, *a]) for a in (["/usr/bin/python3", "--version"], ["/usr/bin/gcc", "--version"]))

uname = os.uname()
load_start = loadavg()
print("Burrow on real programs  " + time.strftime("%Y-%m-%d %H:%M:%S %Z"))
print(f"machine   {os.cpu_count()} CPUs, {cpu_model()}; {uname.sysname} {uname.release} {uname.machine}")
print(f"load      {load_start} (1, 5, 15 min) at the start")
print(f"runs as   nobody via {' '.join(RUNAS)}; native: chroot of the same copy as nobody (dpkg: as root)")
print(f"modes     " + ", ".join(f"{m} (taskset -c {PIN_CPUS if m == 'pinned' else ALL_CPUS})" for m in MODES) + ", interleaved")
print(f"rootfs    a copy of {source}, owned by nobody, in {ROOT} ({copy_seconds:.0f} s to copy)")
print(f"runs      " + ", ".join(f"{w} {RUNS[w]}" for w in WORKLOADS) + f" per tool and mode, after {WARMUP} untimed; memory {MEM_RUNS}")
for name, v in versions.items():
    print(f"version   {name:7} {v}")
for n in notes:
    print(f"note      {n}")
print("commands (each run as: taskset -c CPUS COMMAND)")
for wl, inner in WORKLOADS.items():
    for tool in tool_names:
        print(f"  {wl:9} {tool:13} {show(command(tool, wl, inner))}")
print(flush=True)

# --- statistics and tables ------------------------------------------------------------------
def table(hdr, rows, left=2, grouped=True):
    """Columns before `left` are left-aligned; a blank line between groups (first column)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(hdr)]
    fmt = lambda cells: "  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    print(fmt(hdr).rstrip())
    print("  ".join("-" * w for w in widths))
    prev = None
    for r in rows:
        if grouped and prev is not None and r[0] != prev:
            print()
        print(fmt(r).rstrip())
        prev = r[0]


# --- where the time goes (BENCH_WHERE=1) --------------------------------------------------
def where_the_time_goes():
    """For the two ptrace-based tools, one run of each workload, pinned: what the tracer
    does (strace of the tracer alone, no -f) and where the CPU time goes (perf, if present)."""
    if not shutil.which("strace"):
        die("BENCH_WHERE=1 needs strace")
    perf = shutil.which("perf")
    names = [t for t in ("burrow-ptrace", "proot") if t in tools]
    print("where the time goes: one run per workload and tool on CPU " + PIN_CPUS + "; the tracer alone under strace,")
    print("then the whole run under perf (task-clock, one sample per 0.25 ms of CPU)" if perf else "(no perf: no CPU split)")
    print("  seccomp: ptrace stops at a system call's entry (seccomp RET_TRACE); exit: stops at its exit;")
    print("  notif: seccomp user notifications (answered by the tracer / let through with CONTINUE);")
    print("  lookups: the tracer's own openat2, newfstatat, readlink(at) calls (path resolution);")
    print("  CPU ms: the tracer (user/kernel) and the traced programs (user/kernel)")
    hdr = ["workload", "tool", "seccomp", "exit", "notif", "continued", "lookups", "tracer usr", "krn", "traced usr", "krn"]
    rows = []
    trace_set = "trace=wait4,ioctl,openat2,newfstatat,readlink,readlinkat"
    for wl, inner in WORKLOADS.items():
        for t in names:
            argv = pinned("pinned", command(t, wl, inner))
            if wl == "dpkg":
                reset_dpkg()
            run(argv)  # warm the caches
            log = os.path.join(WORK, "strace.log")
            if wl == "dpkg":
                reset_dpkg()
            _, _, rc, _, err = run(["strace", "-o", log, "-e", trace_set, *argv])
            if rc != 0:
                fail(f"{wl} under strace", t, argv, rc, err)
            counts = dict.fromkeys(["seccomp", "exit", "notif", "continued", "lookups"], 0)
            with open(log, errors="replace") as f:
                for line in f:
                    if line.startswith("wait4("):
                        counts["seccomp"] += "PTRACE_EVENT_SECCOMP" in line
                        counts["exit"] += "SIGTRAP | 0x80" in line
                    elif "SECCOMP_IOCTL_NOTIF_RECV" in line and line.rstrip().endswith("= 0"):
                        counts["notif"] += 1
                    elif "SECCOMP_IOCTL_NOTIF_SEND" in line and "FLAG_CONTINUE" in line:
                        counts["continued"] += 1
                    elif line.startswith(("openat2(", "newfstatat(", "readlink(", "readlinkat(")):
                        counts["lookups"] += 1
            cpu = ["-"] * 4
            if perf:
                data = os.path.join(WORK, "perf.data")
                if wl == "dpkg":
                    reset_dpkg()
                _, _, rc, _, err = run([perf, "record", "-q", "-e", "task-clock", "-c", "250000", "-o", data, "--", *argv])
                if rc != 0:
                    fail(f"{wl} under perf record", t, argv, rc, err)
                rep = subprocess.run([perf, "report", "-i", data, "--sort", "comm,dso", "--stdio", "-F", "sample,comm,dso"],
                                     capture_output=True, text=True).stdout
                tracer = os.path.basename(tools[t])[:15]
                ms = [0.0] * 4
                for line in rep.splitlines():
                    parts = line.split()
                    if len(parts) < 3 or line.startswith("#") or not parts[0].isdigit() or parts[1] in ("taskset", "setpriv"):
                        continue
                    ms[(0 if parts[1] == tracer else 2) + ("kernel" in parts[-1])] += int(parts[0]) * 0.25
                cpu = [f"{x:.0f}" for x in ms]
            rows.append([wl, t, *(str(counts[k]) for k in ("seccomp", "exit", "notif", "continued", "lookups")), *cpu])
    table(hdr, rows)
    if "dpkg" in WORKLOADS:
        reset_dpkg()


# --- timing -----------------------------------------------------------------------------
if WHERE:
    where_the_time_goes()
    sys.exit(0)
samples = {m: {wl: {t: [] for t in tool_names} for wl in WORKLOADS} for m in MODES}
cpu_samples = {m: {wl: {t: [] for t in tool_names} for wl in WORKLOADS} for m in MODES}
t_all = time.monotonic()
for wl, inner in WORKLOADS.items():
    names = tool_names
    argvs = {t: command(t, wl, inner) for t in names}
    total = WARMUP + RUNS[wl]
    t_start = time.monotonic()
    print(f"measuring {wl}: {total} rounds x {len(names)} tools x {len(MODES)} modes ...", file=sys.stderr, flush=True)
    for rnd in range(total):
        k = rnd % len(names)
        order = names[k:] + names[:k]
        modes = MODES if rnd % 2 == 0 else MODES[::-1]
        for mode in modes:
            for t in order:
                if wl == "dpkg":
                    reset_dpkg()
                argv = pinned(mode, argvs[t])
                first = rnd < WARMUP
                wall, cpu, rc, out, err = run(argv, capture=first)
                if rc != 0:
                    fail(f"{wl} (round {rnd + 1}, {mode})", t, argv, rc, err)
                if first:
                    bad = check(wl, t, out or b"")
                    if bad:
                        fail(f"the check of {wl}: {bad}", t, argv, rc, err)
                else:
                    samples[mode][wl][t].append(wall / 1e6)
                    cpu_samples[mode][wl][t].append(cpu / 1e6)
    print(f"  {time.monotonic() - t_start:.1f} s", file=sys.stderr, flush=True)
if "dpkg" in WORKLOADS:
    reset_dpkg()


# --- memory -----------------------------------------------------------------------------
def proc_ids(pid):
    """(ppid, cmdline tokens, (dev, ino) of exe, nspid list) or None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().split(b"\0")
        st = os.stat(f"/proc/{pid}/exe")
        nspid = []
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    nspid = [int(x) for x in line.split()[1:]]
        return ppid, cmd, (st.st_dev, st.st_ino), nspid
    except (OSError, ValueError):
        return None


def smaps(pid):
    """{"rss", "pss", "anon"} in kB from /proc/PID/smaps_rollup, or None if it is gone.
    anon: the process's own memory (heap, stacks); the rest of RSS is file pages (its binary
    and libraries), which other processes of the same binary share."""
    fields = {"Rss:": "rss", "Pss:": "pss", "Anonymous:": "anon"}
    mem = dict.fromkeys(fields.values(), 0)
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if parts and parts[0] in fields:
                    mem[fields[parts[0]]] = int(parts[1])
    except OSError:
        return None
    return mem


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def file_id(path):
    st = os.stat(path)
    return st.st_dev, st.st_ino


# What the sandbox runs while its memory is measured: waiting, or busy (find over /usr again
# and again: a call-heavy workload, where the ptrace engine's supervisor runs all the time).
MEMORY_STATES = {
    "waiting": lambda marker: ["/bin/sleep", marker],
    "busy": lambda marker: ["/bin/sh", "-c", "while :; do find /usr >/dev/null; done", marker],
}


def one_sandbox(tool, marker, state="waiting"):
    """Starts the tool with the state's command (`sleep MARKER`), measures its processes, ends it.
    Returns {"tool": [{"role", "pid", "rss", "pss", "anon"}], "command": {"rss", "pss", "anon"}}."""
    inner = MEMORY_STATES[state](marker)
    argv = command(tool, "memory", inner)
    launchers = {file_id(shutil.which(p)) for p in ("setpriv", "chroot")}
    binary = file_id(tools[tool]) if tool != "native" else None
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=CHILD_ENV, cwd="/")
    command_pid = None
    try:
        deadline = time.monotonic() + 30
        found = {}
        while time.monotonic() < deadline:
            found = {}
            for pid in all_pids():
                ids = proc_ids(pid)
                if ids and marker.encode() in ids[1]:
                    found[pid] = ids
            # Up: a process with the marker that is neither the tool nor a launcher (the
            # command, which may run through a loader: the ptrace engine's ld.so, PRoot's).
            if any(ids[2] != binary and ids[2] not in launchers for ids in found.values()):
                break
            if p.poll() is not None:
                fail("the memory run", tool, argv, p.returncode, p.stderr.read())
            time.sleep(0.02)
        else:
            fail("the memory run (no command after 30 s)", tool, argv, "?", b"")
        time.sleep(0.3)  # let the command and the tool settle in their wait
        result = {"tool": [], "command": {"rss": 0, "pss": 0, "anon": 0}}
        for pid in all_pids():
            ids = proc_ids(pid)
            if not ids or marker.encode() not in ids[1]:
                continue
            mem = smaps(pid)
            if mem is None:
                continue
            if ids[2] == binary:
                if pid == p.pid:
                    role = "supervisor"
                elif len(ids[3]) > 1 and ids[3][-1] == 1:
                    role = "pid 1"
                elif ids[0] not in found:
                    role = "detached"
                else:
                    role = "child"
                result["tool"].append({"role": role, "pid": pid, **mem})
            else:
                result["command"] = mem
                command_pid = pid
        return result
    finally:
        # End the command; the tool then ends by itself (a leftover is killed).
        if command_pid:
            try:
                os.kill(command_pid, 9)
            except ProcessLookupError:
                pass
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        # Burrow's cleaner ends once it has cleaned up: give it time, then kill what is left.
        deadline = time.monotonic() + 10
        while True:
            try:
                while os.wait4(-1, os.WNOHANG)[0] > 0:
                    pass
            except ChildProcessError:
                break
            if time.monotonic() > deadline:
                for pid in all_pids():
                    ids = proc_ids(pid)
                    if ids and marker.encode() in ids[1]:
                        os.kill(pid, 9)
                reap_all()
                break
            time.sleep(0.01)


memory = {}
busy_memory = {}
if MEM_RUNS:
    print(f"measuring memory: {MEM_RUNS} sandboxes per tool, waiting and busy ...", file=sys.stderr, flush=True)
    rnd = random.Random()
    for k in range(MEM_RUNS):
        for t in tool_names:
            marker = f"{1000 + k}.{rnd.randrange(10**8, 10**9)}"
            memory.setdefault(t, []).append(one_sandbox(t, marker))
            marker = f"{2000 + k}.{rnd.randrange(10**8, 10**9)}"
            busy_memory.setdefault(t, []).append(one_sandbox(t, marker, "busy"))
load_end = loadavg()

# --- report -----------------------------------------------------------------------------
def time_table(data, what):
    print(f"{what} in ms: median, min and spread (stdev) per tool; /native = median / native's median")
    hdr = ["workload", "tool", "runs"]
    for m in MODES:
        hdr += [f"{m} med", "min", "stdev", "/native"]
    rows = []
    for wl in WORKLOADS:
        for t in tool_names:
            r = [wl, t, str(len(data[MODES[0]][wl][t]))]
            for m in MODES:
                xs = data[m][wl][t]
                n = med(data[m][wl]["native"]) if "native" in data[m][wl] else None
                r += [f"{med(xs):.2f}", f"{min(xs):.2f}", f"{statistics.stdev(xs):.2f}" if len(xs) > 1 else "-",
                      f"{med(xs) / n:.2f}" if n else "-"]
            rows.append(r)
    table(hdr, rows)


time_table(samples, "wall time (the goals)")
print()
time_table(cpu_samples, "CPU time (user + system of the tool and everything it waited for: steadier on a busy machine)")

print("\nratios of medians: wall time [95% bootstrap interval] with the goal met / NOT met, and CPU time")
goal_map = {(w, s, a): lim for w, s, a, lim in GOALS}
pairs = [("burrow-ptrace", "proot"), ("burrow", "bwrap")]
hdr = ["workload", "ratio", "goal"] + [f"{m} wall" for m in MODES] + [f"{m} CPU" for m in MODES]
rows = []
goal_results = []
for wl in WORKLOADS:
    for s, a in pairs:
        if s not in tools or a not in tools:
            continue
        lim = goal_map.get((wl, s, a))
        r = [wl, f"{s}/{a}", f"<= {lim:.2f}" if lim else "-"]
        for m in MODES:
            x, y = samples[m][wl][s], samples[m][wl][a]
            q = med(x) / med(y)
            lo, hi = ratio_ci(x, y)
            cell = f"{q:.3f} [{lo:.2f}-{hi:.2f}]"
            if lim:
                cell += "  met" if q <= lim else "  NOT met"
                goal_results.append({"workload": wl, "mode": m, "subject": s, "against": a, "limit": lim, "ratio": q,
                                     "ci95": [lo, hi], "met": q <= lim})
            r.append(cell)
        for m in MODES:
            r.append(f"{med(cpu_samples[m][wl][s]) / med(cpu_samples[m][wl][a]):.3f}")
        rows.append(r)
table(hdr, rows, left=3)

if memory:
    print("\nmemory of one sandbox running /bin/sleep, in kB: the tool's own processes (not the command's);")
    print(f"median of {MEM_RUNS} sandboxes, one at a time. PSS divides each page among the processes mapping it;")
    print("anon: their own memory (heap, stacks), the rest being pages of their binary and libraries")
    hdr = ["tool", "procs", "RSS", "PSS", "anon", "command RSS", "PSS", "the tool's processes: role RSS/PSS/anon (last sandbox)"]
    rows = []
    totals = {}
    for t, runs in memory.items():
        totals[t] = {k: med([sum(x[k] for x in r["tool"]) for r in runs]) for k in ("rss", "pss", "anon")}
        last = runs[-1]
        rows.append([t, str(len(last["tool"])), *(f"{totals[t][k]:.0f}" for k in ("rss", "pss", "anon")),
                     str(last["command"]["rss"]), str(last["command"]["pss"]),
                     "; ".join(f"{x['role']} {x['rss']}/{x['pss']}/{x['anon']}" for x in sorted(last["tool"], key=lambda x: x["pid"])) or "-"])
    table(hdr, rows, left=1, grouped=False)
    print()
    for s, a, lim in MEMORY_GOALS:
        if s in totals and a in totals:
            for k in ("rss", "pss"):
                q = totals[s][k] / totals[a][k] if totals[a][k] else float("inf")
                ok = q <= lim
                goal_results.append({"workload": f"memory {k.upper()}", "mode": "-", "subject": s, "against": a, "limit": lim,
                                     "ratio": q, "met": ok})
                print(f"  memory {k.upper()}  {s + '/' + a:20} <= {lim:.2f}   {q:6.2f}  {'met' if ok else 'NOT met'}")
if busy_memory:
    # Not a goal (the is the running sandbox above), but what a busy one holds: Burrow's
    # waiting processes give their code pages back (ResidentMemory); a busy supervisor cannot.
    print("\nmemory of one sandbox busy with find over /usr, in kB (as above; not a goal):")
    rows = []
    for t, runs in busy_memory.items():
        total = {k: med([sum(x[k] for x in r["tool"]) for r in runs]) for k in ("rss", "pss", "anon")}
        last = runs[-1]
        rows.append([t, str(len(last["tool"])), *(f"{total[k]:.0f}" for k in ("rss", "pss", "anon")),
                     "; ".join(f"{x['role']} {x['rss']}/{x['pss']}/{x['anon']}" for x in sorted(last["tool"], key=lambda x: x["pid"])) or "-"])
    table(["tool", "procs", "RSS", "PSS", "anon", "the tool's processes: role RSS/PSS/anon (last sandbox)"], rows, left=1, grouped=False)

met = sum(g["met"] for g in goal_results)
print(f"\ngoals met: {met} of {len(goal_results)}")
print(f"load average {load_start} at the start, {load_end} at the end; {time.monotonic() - t_all:.0f} s of measuring")

if JSON_OUT:
    with open(JSON_OUT, "w") as f:
        json.dump({"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "load": [load_start, load_end],
                   "machine": {"cpus": os.cpu_count(), "cpu": cpu_model(), "kernel": uname.release},
                   "versions": versions, "commands": {wl: {t: command(t, wl, a) for t in tool_names} for wl, a in WORKLOADS.items()},
                   "samples_ms": samples, "cpu_ms": cpu_samples, "memory_kB": memory, "busy_memory_kB": busy_memory, "goals": goal_results}, f, indent=1)
    print(f"raw samples written to {JSON_OUT}")
