#!/usr/bin/python3
"""`podman run --rm IMAGE /bin/true` with burrow-oci as the runtime against runc (and crun,
where it runs here), in one run: the OCI issue's benchmark (goal: burrow-oci no slower than
runc).

    bench/oci-startup.py [RUNS]     as root; podman runs rootless as --user (default burrowtest,
                                    which needs /etc/subuid and /etc/subgid ranges); default 30
    BURROW_BIN=PATH                 Burrow's binary (default .build/release/burrow)
    BENCH_PIN=1 / 0                 pinned to CPU 0 only / unpinned only (default: both)

Rootless podman (Debian's 4.3) as people run it on CI runners: the image is imported offline
from a busybox rootfs (scripts/make-rootfs), `--network none` (no slirp4netns device here),
`--ulimit host` and `--cgroup-manager cgroupfs` (this machine kind's needs). Each round runs
every runtime once, in a rotating order, so that drift hits all alike. What is timed is the
whole `podman run`: podman and conmon's own work is in every runtime's figure, so the ratio
understates the runtimes' difference. Prints median, min and spread (stdev) in ms per runtime
and mode, and each ratio to runc. A report, not a test: exit 0 whatever the ratio."""
import os, pwd, shutil, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import fail

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROG = "oci-startup"
args = sys.argv[1:]
user = "burrowtest"
if args[:1] == ["--user"]:
    user, args = args[1], args[2:]
runs = int(args[0]) if args else 30
if os.getuid() != 0:
    sys.exit(f"{PROG}: run as root (podman runs rootless as --user)")
podman = shutil.which("podman")
if not podman:
    sys.exit(f"{PROG}: podman is missing (scripts/deps installs it)")
burrow = os.environ.get("BURROW_BIN") or os.path.join(REPO, ".build/release/burrow")
if not os.access(burrow, os.X_OK):
    sys.exit(f"{PROG}: {burrow} is missing: swift build -c release -Xswiftc -static-executable --disable-local-rpath")
try:
    pw = pwd.getpwnam(user)
except KeyError:
    sys.exit(f"{PROG}: no user {user} (scripts/test makes burrowtest, with subordinate ranges)")

work = tempfile.mkdtemp(prefix="oci-startup.")
os.chmod(work, 0o755)
env = {"HOME": f"{work}/home", "XDG_RUNTIME_DIR": f"{work}/run", "XDG_CONFIG_HOME": f"{work}/home/.config",
       "XDG_DATA_HOME": f"{work}/home/.local/share", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


def as_user(argv, cpus=None):
    pin = ["taskset", "-c", cpus] if cpus else []
    return pin + ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups", "--"] + argv


def podman_cmd(runtime, *rest):
    return [podman, "--cgroup-manager", "cgroupfs"] + (["--runtime", runtime] if runtime else []) + list(rest)


try:
    for d in ("home", "run", "bin"):
        os.mkdir(f"{work}/{d}", 0o700 if d != "bin" else 0o755)
        os.chown(f"{work}/{d}", pw.pw_uid, pw.pw_gid)
    # burrow-oci by its name (a hard link: the file's own name is read too).
    oci = f"{work}/bin/burrow-oci"
    try:
        os.link(os.path.realpath(burrow), oci)
    except OSError:
        shutil.copy(os.path.realpath(burrow), oci)
    rootfs = f"{work}/rootfs"
    r = subprocess.run([f"{REPO}/scripts/make-rootfs", rootfs], capture_output=True)
    if r.returncode != 0:
        fail(PROG, "making the rootfs", "scripts/make-rootfs", [rootfs], r.returncode, r.stderr)
    subprocess.run(["tar", "-C", rootfs, "-cf", f"{work}/rootfs.tar", "."], check=True)
    os.chmod(f"{work}/rootfs.tar", 0o644)
    argv = as_user(podman_cmd(None, "import", f"{work}/rootfs.tar", "bench-oci"))
    r = subprocess.run(argv, env=env, capture_output=True)
    if r.returncode != 0:
        fail(PROG, "importing the image", "podman", argv, r.returncode, r.stderr)

    runtimes = {"burrow-oci": oci, "runc": shutil.which("runc") or "/usr/sbin/runc"}
    crun = shutil.which("crun")
    if crun:
        runtimes["crun"] = crun

    def once(runtime, cpus):
        argv = as_user(podman_cmd(runtime, "run", "--rm", "--network", "none", "--ulimit", "host", "bench-oci", "/bin/true"), cpus)
        t = time.perf_counter()
        r = subprocess.run(argv, env=env, capture_output=True, stdin=subprocess.DEVNULL)
        dt = (time.perf_counter() - t) * 1000
        return dt if r.returncode == 0 else (r.returncode, r.stderr, argv)

    # A runtime that fails here (crun on hosts with hybrid cgroups) is reported and left out.
    for name in list(runtimes):
        got = once(runtimes[name], None)
        if not isinstance(got, float):
            rc, err, argv = got
            if name == "crun":
                print(f"crun left out: it fails here (exit {rc}): {err.decode(errors='replace').strip().splitlines()[-1:]}")
                del runtimes[name]
            else:
                fail(PROG, "podman run", name, argv, rc, err)

    pin = os.environ.get("BENCH_PIN", "")
    modes = [m for m in (("unpinned", None), ("pinned", "0")) if pin == "" or (pin == "1") == (m[1] is not None)]
    version = subprocess.run(["runc", "--version"], capture_output=True, text=True).stdout.splitlines()[:1]
    print(f"podman run --rm IMAGE /bin/true, rootless, {runs} rounds per runtime and mode; runc: {version}")
    print(f"{'mode':9} {'runtime':11} {'median':>8} {'min':>8} {'stdev':>8}   (ms)")
    names = list(runtimes)
    for mode, cpus in modes:
        times = {n: [] for n in names}
        for i in range(runs):
            for k in range(len(names)):
                n = names[(i + k) % len(names)]
                got = once(runtimes[n], cpus)
                if not isinstance(got, float):
                    rc, err, argv = got
                    fail(PROG, "podman run", n, argv, rc, err)
                times[n].append(got)
        for n in names:
            xs = times[n]
            print(f"{mode:9} {n:11} {statistics.median(xs):8.1f} {min(xs):8.1f} {statistics.stdev(xs):8.1f}")
        for n in names:
            if n != "runc":
                q = statistics.median(times[n]) / statistics.median(times["runc"])
                goal = f" (goal <= 1.00: {'met' if q <= 1.0 else 'NOT met'})" if n == "burrow-oci" else ""
                print(f"{mode:9} {n}/runc {q:.2f}{goal}")
finally:
    subprocess.run(as_user(podman_cmd(None, "rm", "-f", "-a")), env=env, capture_output=True)
    subprocess.run(as_user(podman_cmd(None, "system", "reset", "-f")), env=env, capture_output=True)
    subprocess.run(["rm", "-rf", work])
