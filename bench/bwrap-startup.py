#!/usr/bin/python3
"""Start-up of Burrow's `bwrap` against a real bwrap, with Flatpak's kind of command line,
in one run (the bwrap issue's benchmark; goal: Burrow <= 1.0x bwrap).

    bench/bwrap-startup.py [RUNS]        as root, Debian's python3 (python3-seccomp) (the sandboxes run as nobody); default 200
    BENCH_BWRAP=PATH      the real bwrap (default: bubblewrap 0.11.1 as scripts/build-bubblewrap
                          builds it, else bwrap on PATH, Debian's 0.8.0 here)
    BURROW_BIN=PATH       Burrow's binary (default .build/release/burrow)
    BENCH_PIN=1 / 0       pinned to CPU 0 only / unpinned only (default: both)

The call is what `flatpak run` makes of an app on the host's /usr: its arguments come through
`--args FD` (NUL-separated), a data file through `--file FD` (`/.flatpak-info`), a compiled
seccomp program through `--seccomp FD` (allow-all, from python3-seccomp), `--info-fd`, the
/usr merge as symlinks, a tmpfs /tmp, /dev, /proc, the PID and IPC namespaces and
`--die-with-parent`; the command is /usr/bin/true. Both tools get the same descriptors
each round; rounds alternate (with a rotating start) so drift hits both alike. Prints the
median, min and spread (stdev) in ms per tool and mode, and Burrow/bwrap. A report, not a
test: exit 0 whatever the ratio."""
import fcntl, os, shutil, statistics, subprocess, sys, tempfile, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
if os.getuid() != 0:
    sys.exit("bwrap-startup: run as root (the sandboxes run as nobody through setpriv)")
UPSTREAM = "/var/tmp/burrow-tools/bubblewrap-0.11.1/bwrap"  # scripts/build-bubblewrap's default
real = os.environ.get("BENCH_BWRAP") or (UPSTREAM if os.access(UPSTREAM, os.X_OK) else shutil.which("bwrap"))
if not real:
    sys.exit("bwrap-startup: no bwrap to compare with (apt-get install bubblewrap, or BENCH_BWRAP=PATH)")
burrow = os.environ.get("BURROW_BIN") or os.path.join(REPO, ".build/release/burrow")
if not os.access(burrow, os.X_OK):
    sys.exit(f"bwrap-startup: {burrow} is missing: swift build -c release -Xswiftc -static-executable --disable-local-rpath")
try:
    import seccomp
except ImportError:
    sys.exit("bwrap-startup: needs python3-seccomp (for the compiled seccomp program)")

work = tempfile.mkdtemp(prefix="bwrap-startup.")
os.chmod(work, 0o755)
try:
    # Burrow answers bwrap's command line under that name (a hard link: the file's own name).
    ours = os.path.join(work, "bwrap")
    try:
        os.link(os.path.realpath(burrow), ours)
    except OSError:
        shutil.copy(os.path.realpath(burrow), ours)
    program = os.path.join(work, "seccomp.bpf")
    with open(program, "wb") as f:
        seccomp.SyscallFilter(seccomp.ALLOW).export_bpf(f)
    info = b"[Application]\nname=org.example.Bench\nruntime=runtime/org.example.Platform/x86_64/1\n"
    ARGS_FD, FILE_FD, SECCOMP_FD, INFO_FD = 10, 11, 12, 13
    args = ["--unshare-pid", "--unshare-ipc", "--die-with-parent", "--dev", "/dev", "--proc", "/proc",
            "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc", "--tmpfs", "/tmp",
            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin",
            "--symlink", "usr/sbin", "/sbin", "--dir", "/run/user/65534", "--setenv", "XDG_RUNTIME_DIR", "/run/user/65534",
            "--file", str(FILE_FD), "/.flatpak-info", "--seccomp", str(SECCOMP_FD), "--info-fd", str(INFO_FD)]
    argbytes = b"".join(a.encode() + b"\0" for a in args)
    user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]

    def once(tool, cpus):
        """One start of `tool` with fresh descriptors; its time in ms."""
        fds = {}
        for fd, data in ((ARGS_FD, argbytes), (FILE_FD, info)):
            r, w = os.pipe()
            os.write(w, data)
            os.close(w)
            fds[fd] = r
        fds[SECCOMP_FD] = os.open(program, os.O_RDONLY)
        fds[INFO_FD] = os.open("/dev/null", os.O_WRONLY)
        argv = ["taskset", "-c", cpus, *user, tool, "--args", str(ARGS_FD), "/usr/bin/true"]
        # At the numbers the command line names, in this process, before the child exists.
        # (Opened first, moved above 100, then down: a new descriptor may have one of those numbers.)
        held = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100) for fd in fds.values()]
        for fd in fds.values():
            os.close(fd)
        for target, fd in zip(fds, held):
            os.dup2(fd, target, inheritable=True)
        for fd in held:
            os.close(fd)
        t = time.perf_counter_ns()
        p = subprocess.run(argv, pass_fds=tuple(fds), stderr=subprocess.PIPE, cwd="/", timeout=60)
        ms = (time.perf_counter_ns() - t) / 1e6
        for target in fds:
            os.close(target)
        if p.returncode != 0:
            sys.exit(f"bwrap-startup: {tool}: status {p.returncode}: {p.stderr.decode(errors='replace')}")
        return ms

    tools = {"burrow": ours, "bwrap": real}
    version = subprocess.run([real, "--version"], capture_output=True, text=True).stdout.strip()
    ncpu = os.cpu_count() or 1
    modes = {"0": ["unpinned"], "1": ["pinned"]}.get(os.environ.get("BENCH_PIN", ""), ["unpinned", "pinned"])
    print(f"start-up with Flatpak's kind of call, {runs} rounds per tool and mode; bwrap: {real} ({version})")
    print(f"{'mode':9} {'tool':7} {'median':>8} {'min':>8} {'stdev':>8}   (ms)")
    for mode in modes:
        cpus = "0" if mode == "pinned" else f"0-{ncpu - 1}"
        for t in tools.values():
            once(t, cpus)  # warm the caches; it is also the check
        times = {name: [] for name in tools}
        for i in range(runs):
            order = list(tools) if i % 2 == 0 else list(reversed(tools))
            for name in order:
                times[name].append(once(tools[name], cpus))
        for name, xs in times.items():
            print(f"{mode:9} {name:7} {statistics.median(xs):8.2f} {min(xs):8.2f} {statistics.stdev(xs):8.2f}")
        q = statistics.median(times["burrow"]) / statistics.median(times["bwrap"])
        print(f"{mode:9} burrow/bwrap {q:.2f} (goal <= 1.00: {'met' if q <= 1.0 else 'NOT met'})")
finally:
    shutil.rmtree(work, ignore_errors=True)
