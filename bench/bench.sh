#!/usr/bin/env bash
# Burrow benchmark: burrow vs bwrap vs proot vs native, in one run, on one rootfs.
#
#   bench/bench.sh                      # everything, defaults
#   BENCH_PIN=1 bench/bench.sh          # everything on CPU 0 (taskset -c 0)
#   BENCH_SKIP_BURROW=1 bench/bench.sh  # only bwrap, proot, native
#   BENCH_REAL=0 bench/bench.sh         # without the real programs (bench/real.py) after it
#
# Workloads (the same command line in every sandbox, and natively on the host against the
# same files):
#   start-up  /bin/true  (busybox) with typical options
#   walk      busybox ls -lnR over ROOTFS/data (DIRS x FILES small files), repeated REPS
#             times inside one busybox sh, so that one run takes ~400 ms natively (sandbox start-up then weighs ~1%)
#   forkexec  a busybox sh loop running /bin/true FORKS times (fork + exec + exit each)
#   cpu       a busybox sh arithmetic loop with no system call, ~400 ms natively
#   unpack    dpkg-style work under faked root: busybox tar -x of an archive of UNPACK_DIRS x
#             UNPACK_FILES files with owners other than root (restored with chown, modes with
#             chmod), only where root is faked: burrow --engine ptrace --root against proot -0
# Then, as root, the real programs of bench/real.py on the Debian fixture (see there).
# Repetitions go round-robin over the tools (with a rotating start), so drift in the
# machine hits every tool alike; each run is timed with time.perf_counter_ns around
# subprocess.run. It is a report, not a test: exit 0 whether or not the goals are met,
# non-zero only if a tool's command fails (its stderr is printed) or setup fails.
#
# Knobs (environment): see bench/README.md.
set -euo pipefail
umask 022

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
note() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 is required"

# --- burrow -------------------------------------------------------------------------
burrow=""
if [[ ${BENCH_SKIP_BURROW:-0} == 1 ]]; then
    note "BENCH_SKIP_BURROW=1: burrow is skipped"
else
    if [[ -n ${BURROW_BIN:-} ]]; then
        burrow=$BURROW_BIN
        [[ $burrow == /* ]] || burrow=$repo/$burrow
        [[ -x $burrow ]] || die "BURROW_BIN=$BURROW_BIN is not an executable file"
    else
        burrow=$repo/.build/release/burrow
        if [[ ! -x $burrow ]]; then
            command -v swift >/dev/null ||
                die "$burrow is missing and swift is not installed (or set BURROW_BIN, or BENCH_SKIP_BURROW=1)"
            note "building burrow: swift build -c release -Xswiftc -static-executable --disable-local-rpath"
            (cd "$repo" && swift build -c release -Xswiftc -static-executable --disable-local-rpath) >&2 ||
                die "swift build failed"
            [[ -x $burrow ]] || die "swift build did not produce $burrow"
        fi
    fi
fi

# --- who runs the sandboxed commands ------------------------------------------------
# The point is the unprivileged path: as root, every timed command (native too, so all
# pay the same exec of setpriv and the same permission checks) runs as nobody.
runas=()
if [[ $(id -u) == 0 ]]; then
    command -v setpriv >/dev/null || die "running as root needs setpriv (util-linux) to drop to nobody"
    runas=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi

# --- rootfs ---------------------------------------------------------------------------
work=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/burrow-bench.XXXXXX")
chmod 0755 "$work"
cleanup() {
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then note "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
rootfs=$work/rootfs
"$repo/scripts/make-rootfs" "$rootfs" >/dev/null || die "scripts/make-rootfs failed"

if ((${#runas[@]})); then
    "${runas[@]}" test -r "$rootfs/bin/busybox" ||
        die "$rootfs is not readable by nobody: pick a BENCH_TMPDIR whose parents are world-searchable"
    if [[ -n $burrow ]] && ! "${runas[@]}" test -x "$burrow"; then
        note "$burrow is not executable by nobody; running a copy from $work/bin"
        mkdir -p "$work/bin" && cp "$burrow" "$work/bin/burrow" && chmod 0755 "$work/bin/burrow"
        burrow=$work/bin/burrow
    fi
fi

pin=()
if [[ ${BENCH_PIN:-0} == 1 ]]; then
    command -v taskset >/dev/null || die "BENCH_PIN=1 needs taskset (util-linux)"
    pin=(taskset -c "${BENCH_PIN_CPUS:-0}")
fi

export BENCH_DIR=$repo/bench BENCH_ROOTFS=$rootfs BENCH_WORK=$work BENCH_BURROW=$burrow BENCH_PINNED=${pin[*]:-}
export BENCH_RUNAS=${runas[*]:-}

# The driver runs pinned as a whole (when BENCH_PIN=1), so every child inherits the mask.
set +e
"${pin[@]}" python3 - <<'PY'
import json, os, shlex, shutil, statistics, subprocess, sys, time

env = os.environ
sys.path.insert(0, env["BENCH_DIR"])
sys.dont_write_bytecode = True  # no __pycache__ in the tree for benchlib
from benchlib import cpu_model, first_line, med, ratio_ci, show
import benchlib
ROOTFS = env["BENCH_ROOTFS"]
WORK = env["BENCH_WORK"]
RUNAS = env.get("BENCH_RUNAS", "").split()
PINNED = env.get("BENCH_PINNED", "")


def knob(name, default, least=1):
    return benchlib.knob(name, default, least, prog="bench")


RUNS = {
    "start-up": knob("BENCH_RUNS_START", knob("BENCH_RUNS", 30)),
    "walk": knob("BENCH_RUNS_WALK", knob("BENCH_RUNS", 10)),
    "unpack": knob("BENCH_RUNS_UNPACK", knob("BENCH_RUNS", 10)),
    "forkexec": knob("BENCH_RUNS_FORK", knob("BENCH_RUNS", 10)),
    "cpu": knob("BENCH_RUNS_CPU", knob("BENCH_RUNS", 10)),
}
FORKS = knob("BENCH_FORKS", 200)
CPU_MS = knob("BENCH_CPU_MS", 400)
UNPACK_DIRS = knob("BENCH_UNPACK_DIRS", 20)
UNPACK_FILES = knob("BENCH_UNPACK_FILES", 50)
# Who runs each workload (default: every tool), and which faked root it runs under.
WORKLOAD_TOOLS = {"unpack": ("burrow-ptrace", "proot")}
WARMUP = knob("BENCH_WARMUP", 2, least=0)
DIRS = knob("BENCH_DIRS", 40)
FILES = knob("BENCH_FILES", 100)
WALK_MS = knob("BENCH_WALK_MS", 400)
WALK_REPS = env.get("BENCH_WALK_REPS", "auto") or "auto"
JSON_OUT = env.get("BENCH_JSON", "")
# (workload, subject, against, limit): subject/against <= limit
GOALS = [
    ("start-up", "burrow", "bwrap", 1.00),
    ("walk", "burrow", "native", 1.03),
    ("walk", "burrow-ptrace", "proot", 0.50),
    ("forkexec", "burrow-ptrace", "proot", 1.00),
    ("cpu", "burrow-ptrace", "native", 1.05),
    ("unpack", "burrow-ptrace", "proot", 1.00),
]

# A small, fixed environment for every timed command (they all inherit it; burrow and
# bwrap pass it into the sandbox).
CHILD_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "LC_ALL": "C", "TZ": "UTC", "HOME": "/"}

# --- tools -------------------------------------------------------------------------
notes = []
tools = {}  # name -> host path (native: None)
if env.get("BENCH_BURROW"):
    tools["burrow"] = env["BENCH_BURROW"]
    tools["burrow-ptrace"] = env["BENCH_BURROW"]  # the same binary, --engine ptrace
for name in ("bwrap", "proot"):
    path = shutil.which(name)
    if path:
        tools[name] = path
    else:
        notes.append(f"{name} not found on PATH: skipped")
tools["native"] = None
wanted = env.get("BENCH_TOOLS", "").split()
if wanted:
    for w in wanted:
        if w not in ("burrow", "burrow-ptrace", "bwrap", "proot", "native"):
            sys.exit(f"bench: error: BENCH_TOOLS: unknown tool {w!r} (burrow burrow-ptrace bwrap proot native)")
    for name in list(tools):
        if name not in wanted:
            del tools[name]
            notes.append(f"{name}: left out by BENCH_TOOLS")
if not tools:
    sys.exit("bench: error: no tool left to measure")

SANDBOX_OPTS = ["--dev", "/dev", "--proc", "/proc", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]


def command(tool, inner, fakeroot=False):
    """inner(root) -> argv, where root is '' inside a sandbox and ROOTFS natively."""
    if tool == "burrow":
        return [tools[tool], *SANDBOX_OPTS, ROOTFS, *inner("")]
    if tool == "burrow-ptrace":
        # No namespaces on this engine: the same filesystem, without --unshare-*.
        root = ["--root"] if fakeroot else []
        return [tools[tool], "--engine", "ptrace", *root, "--dev", "/dev", "--proc", "/proc", ROOTFS, *inner("")]
    if tool == "bwrap":
        return [tools[tool], "--bind", ROOTFS, "/", *SANDBOX_OPTS, *inner("")]
    if tool == "proot":
        return [tools[tool], *(["-0"] if fakeroot else []), "-r", ROOTFS, *inner("")]
    return inner(ROOTFS)  # native


def startup(root):
    return [f"{root}/bin/true"]


def walk_for(reps):
    # cd into data, then list '.': the paths ls stats are the same length everywhere, so
    # native does not pay for the longer host prefix. No '>/dev/null' in the script: the
    # driver already points stdout at /dev/null (and proot's rootfs has no /dev/null).
    def walk(root):
        bb = shlex.quote(f"{root}/bin/busybox")
        data = shlex.quote(f"{root}/data")
        script = f"cd {data} && i=0; while [ $i -lt {reps} ]; do {bb} ls -lnR . || exit; i=$((i+1)); done"
        return [f"{root}/bin/busybox", "sh", "-c", script]
    return walk


def forkexec(root):
    true = shlex.quote(f"{root}/bin/true")
    return [f"{root}/bin/busybox", "sh", "-c", f"i=0; while [ $i -lt {FORKS} ]; do {true} || exit; i=$((i+1)); done"]


def cpu_for(iterations):
    # Arithmetic in the shell itself: no system call inside the loop.
    def cpu(root):
        return [f"{root}/bin/busybox", "sh", "-c", f"i=0; while [ $i -lt {iterations} ]; do i=$((i+1)); done"]
    return cpu


def unpack(root):
    # Fresh each run: the previous run's tree is removed first (inside, as the same faked root).
    bb = f"{root}/bin/busybox"
    script = f"{bb} rm -rf /unpack && {bb} mkdir /unpack && cd /unpack && {bb} tar -xf /pkg.tar && {bb} stat -c %u:%g d000/f0000.txt"
    return [bb, "sh", "-c", script]


def count_files(root):
    bb = shlex.quote(f"{root}/bin/busybox")
    data = shlex.quote(f"{root}/data")
    return [f"{root}/bin/busybox", "sh", "-c", f"{bb} find {data} -type f | {bb} wc -l"]


def full(argv):
    return [*RUNAS, *argv]


def fail(what, tool, argv, rc, err):
    benchlib.fail("bench", what, tool, full(argv), rc, err)


def run_capture(argv, timeout=120):
    try:
        p = subprocess.run(full(argv), stdin=subprocess.DEVNULL, capture_output=True, env=CHILD_ENV, cwd="/", timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        return "timeout", e.stdout or b"", (e.stderr or b"") + f"\n(timed out after {timeout}s)".encode()
    except OSError as e:
        return "exec", b"", str(e).encode()


# --- the tree ------------------------------------------------------------------------
data = os.path.join(ROOTFS, "data")
os.mkdir(data)
payload = b"burrow bench file\n" * 3
for d in range(DIRS):
    dd = os.path.join(data, f"d{d:03}")
    os.mkdir(dd)
    for f in range(FILES):
        with open(os.path.join(dd, f"f{f:04}.txt"), "wb") as fh:
            fh.write(payload)
NFILES = DIRS * FILES

# The archive unpack extracts: owners other than root and the caller, modes beyond 644.
import tarfile, io
with tarfile.open(os.path.join(ROOTFS, "pkg.tar"), "w") as tf:
    for d in range(UNPACK_DIRS):
        info = tarfile.TarInfo(f"d{d:03}")
        info.type, info.mode, info.uid, info.gid = tarfile.DIRTYPE, 0o750, 100 + d, 200 + d
        tf.addfile(info)
        for f in range(UNPACK_FILES):
            info = tarfile.TarInfo(f"d{d:03}/f{f:04}.txt")
            info.size, info.mode, info.uid, info.gid = len(payload), 0o4755 if f % 10 == 0 else 0o640, 100 + d, 200 + d
            tf.addfile(info, io.BytesIO(payload))
os.chmod(ROOTFS, 0o777)  # the unpack target /unpack is made in the rootfs by whoever runs

# --- check every tool once, untimed: it runs, and it sees the same tree -------------
for tool in tools:
    argv = command(tool, count_files)
    rc, out, err = run_capture(argv)
    if rc != 0:
        fail("the file-count check", tool, argv, rc, err)
    got = out.decode(errors="replace").strip()
    if got != str(NFILES):
        fail(f"the file-count check (saw {got!r} files, expected {NFILES})", tool, argv, rc, err)
    argv = command(tool, startup)
    rc, out, err = run_capture(argv)
    if rc != 0:
        fail("start-up (/bin/true)", tool, argv, rc, err)
    if tool in WORKLOAD_TOOLS["unpack"]:
        argv = command(tool, unpack, fakeroot=True)
        rc, out, err = run_capture(argv)
        # Burrow keeps the archive's owner; proot -0 forgets it (shows root).
        want = {"burrow-ptrace": "100:200", "proot": "0:0"}[tool]
        if rc != 0 or out.decode(errors="replace").strip() != want:
            fail(f"the unpack check (saw {out.decode(errors='replace').strip()!r}, expected {want!r})", tool, argv, rc, err)

# --- walk repetitions: ~WALK_MS natively -----------------------------------------------
if WALK_REPS == "auto":
    one = []
    for _ in range(5):
        argv = walk_for(1)(ROOTFS)
        t0 = time.perf_counter_ns()
        rc, _, err = run_capture(argv)
        one.append(time.perf_counter_ns() - t0)
        if rc != 0:
            fail("the walk calibration", "native", argv, rc, err)
    reps = max(1, round(WALK_MS * 1e6 / min(one)))
    reps_how = f"auto: one pass takes {min(one) / 1e6:.1f} ms natively, target {WALK_MS} ms"
else:
    try:
        reps = int(WALK_REPS)
        assert reps >= 1
    except (ValueError, AssertionError):
        sys.exit(f"bench: error: BENCH_WALK_REPS={WALK_REPS!r} is not 'auto' or a positive integer")
    reps_how = "BENCH_WALK_REPS"

# --- cpu iterations: ~CPU_MS natively ------------------------------------------------------
probe_iterations = 200000
argv = cpu_for(probe_iterations)(ROOTFS)
best = None
for _ in range(3):
    t0 = time.perf_counter_ns()
    rc, _, err = run_capture(argv)
    dt = time.perf_counter_ns() - t0
    if rc != 0:
        fail("the cpu calibration", "native", argv, rc, err)
    best = dt if best is None else min(best, dt)
cpu_iterations = max(1000, round(probe_iterations * CPU_MS * 1e6 / best))

WORKLOADS = {"start-up": startup, "walk": walk_for(reps), "forkexec": forkexec, "cpu": cpu_for(cpu_iterations),
             "unpack": unpack}


def tools_for(wl):
    return [t for t in tools if t in WORKLOAD_TOOLS.get(wl, tools)]


def command_for(wl, tool, inner):
    return command(tool, inner, fakeroot=wl in WORKLOAD_TOOLS)

# --- header ----------------------------------------------------------------------------
def fs_type(path):
    try:
        return subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True, text=True).stdout.strip() or "?"
    except OSError:
        return "?"


versions = benchlib.versions(tools)
versions["busybox"] = first_line([os.path.join(ROOTFS, "bin/busybox")])

uname = os.uname()
print("Burrow benchmark  " + time.strftime("%Y-%m-%d %H:%M:%S %Z"))
print(f"machine   {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu_model()}")
print(f"kernel    {uname.sysname} {uname.release} {uname.machine}")
print(f"runs as   " + ("nobody (uid 65534) via " + " ".join(RUNAS) if RUNAS else f"uid {os.getuid()} (the caller)"))
print(f"pinning   " + (PINNED if PINNED else "none (BENCH_PIN=1 for taskset -c 0)"))
print(f"rootfs    {ROOTFS} ({fs_type(ROOTFS)}); /data = {DIRS} dirs x {FILES} files = {NFILES} files")
print(f"walk      {reps} x 'ls -lnR' per run ({reps_how})")
print(f"forkexec {FORKS} x /bin/true from one busybox sh per run")
print(f"cpu       {cpu_iterations} iterations of a busybox sh arithmetic loop per run (~{CPU_MS} ms natively)")
print(f"unpack    tar -x of {UNPACK_DIRS} dirs x {UNPACK_FILES} files with owners, as faked root ({', '.join(tools_for('unpack')) or 'no tool'})")
print(f"runs      start-up {RUNS['start-up']}, walk {RUNS['walk']}, forkexec {RUNS['forkexec']}, cpu {RUNS['cpu']}, "
      f"unpack {RUNS['unpack']}; {WARMUP} warm-up round(s) each, round-robin")
for name, v in versions.items():
    print(f"version   {name:7} {v}")
for n in notes:
    print(f"note      {n}")
print("commands")
for wl, inner in WORKLOADS.items():
    for tool in tools_for(wl):
        print(f"  {wl:8} {tool:6} {show(full(command_for(wl, tool, inner)))}")
print(flush=True)

# --- measure -----------------------------------------------------------------------------
samples = {wl: {t: [] for t in tools_for(wl)} for wl in WORKLOADS}
errlogs = {}
for wl, inner in WORKLOADS.items():
    names = tools_for(wl)
    if not names:
        continue
    argvs = {t: full(command_for(wl, t, inner)) for t in names}
    logs = {t: open(os.path.join(WORK, f"stderr-{wl}-{t}.log"), "w+b") for t in names}
    errlogs[wl] = logs
    total = WARMUP + RUNS[wl]
    t_start = time.monotonic()
    print(f"measuring {wl}: {total} rounds x {len(names)} tools ...", file=sys.stderr, flush=True)
    for rnd in range(total):
        k = rnd % len(names)
        for t in names[k:] + names[:k]:
            log = logs[t]
            t0 = time.perf_counter_ns()
            rc = subprocess.run(argvs[t], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=log, env=CHILD_ENV, cwd="/").returncode
            dt = time.perf_counter_ns() - t0
            if rc != 0:
                log.seek(0)
                fail(f"{wl} (round {rnd + 1})", t, argvs[t][len(RUNAS):], rc, log.read()[-4000:])
            if rnd >= WARMUP:
                samples[wl][t].append(dt / 1e6)
    print(f"  {time.monotonic() - t_start:.1f} s", file=sys.stderr, flush=True)

# --- statistics --------------------------------------------------------------------------
rows = []
hdr = ("workload", "tool", "runs", "median ms", "min ms", "stdev ms", "tool/burrow", "tool/native")
for wl in WORKLOADS:
    b = med(samples[wl]["burrow"]) if "burrow" in samples[wl] else None
    n = med(samples[wl]["native"]) if "native" in samples[wl] else None
    for t in samples[wl]:
        xs = samples[wl][t]
        m = med(xs)
        rows.append((wl, t, str(len(xs)), f"{m:.2f}", f"{min(xs):.2f}",
                     f"{statistics.stdev(xs):.2f}" if len(xs) > 1 else "-",
                     f"{m / b:.2f}" if b else "-", f"{m / n:.2f}" if n else "-"))
widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(hdr)]


def line(cells):
    return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))


print(line(hdr))
print("  ".join("-" * w for w in widths))
prev = None
for r in rows:
    if prev is not None and r[0] != prev:
        print()
    print(line(r))
    prev = r[0]

print("\ngoals (ratio of medians, 95% bootstrap interval)")
goal_results = {}
for wl, subject, other, limit in GOALS:
    label = f"{wl:8} {subject + '/' + other:20} <= {limit:.2f}"
    if subject not in samples[wl]:
        print(f"  {label}   n/a ({subject} not measured)")
        continue
    if other not in samples[wl]:
        print(f"  {label}   n/a ({other} not measured)")
        continue
    a, o = samples[wl][subject], samples[wl][other]
    r = med(a) / med(o)
    ci = ratio_ci(a, o)
    ok = r <= limit
    goal_results[f"{wl} {subject}/{other}"] = {"workload": wl, "subject": subject, "against": other, "limit": limit, "ratio": r, "ci95": ci, "met": ok}
    print(f"  {label}   {r:.3f}  [{ci[0]:.3f} .. {ci[1]:.3f}]  {'met' if ok else 'NOT met'}")

for wl, logs in errlogs.items():
    for t, log in logs.items():
        log.seek(0)
        text = log.read().decode(errors="replace").strip()
        log.close()
        if text:
            first = text.splitlines()[0]
            print(f"note: {t} wrote to stderr during {wl} (exit status 0), e.g.: {first}")

if JSON_OUT:
    with open(JSON_OUT, "w") as f:
        json.dump({
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": {"cpus": os.cpu_count(), "nproc": len(os.sched_getaffinity(0)), "cpu": cpu_model(),
                        "kernel": uname.release, "arch": uname.machine},
            "runs_as": " ".join(RUNAS) or f"uid {os.getuid()}", "pinned": PINNED or None,
            "versions": versions, "files": NFILES, "walk_reps": reps,
            "commands": {wl: {t: full(command_for(wl, t, inner)) for t in tools_for(wl)} for wl, inner in WORKLOADS.items()},
            "samples_ms": samples, "goals": goal_results,
        }, f, indent=1)
    print(f"raw samples written to {JSON_OUT}")
PY
rc=$?
set -e

# --- real programs ------------------------------------------------------------------
# The workloads that stand for real use (absolute-path walk, find, python3, gcc, dpkg -i,
# a configure script, start-up, memory) on the Debian fixture: bench/real.py, in the same
# invocation, with its own ratios and goals. BENCH_REAL=0 leaves it out.
if [[ ${BENCH_REAL:-1} != 0 ]]; then
    fixture=${BENCH_ROOTFS:-${BURROW_TEST_DEBIAN_ROOTFS:-$repo/.build/fixtures/debian-rootfs}}
    if [[ $(id -u) != 0 ]]; then
        note "real programs (bench/real.py) run as root (they drop to nobody): skipped; BENCH_REAL=0 says so quietly"
    elif [[ ! -d $fixture/usr/bin ]]; then
        note "real programs: no Debian fixture at $fixture (scripts/make-debian-rootfs DIR, then BENCH_ROOTFS=DIR): skipped"
    else
        echo
        echo "== real programs on the Debian fixture (bench/real.py) =="
        BENCH_ROOTFS=$fixture "$repo/bench/real.py" || rc=$?
    fi
fi
exit $rc
