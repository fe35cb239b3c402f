"""What bench/bench.sh and bench/real.py share: integer knobs from the environment, command
lines in messages, a failed command's report, medians and their ratios with a bootstrap
interval, and the machine's description."""
import os, platform, random, re, shlex, statistics, subprocess, sys

_rng = random.Random(1)  # the same intervals from the same samples


def knob(name, default, least=1, prog="bench"):
    """The integer environment variable `name` (at least `least`), or `default` if unset."""
    v = os.environ.get(name, "")
    if v == "":
        return default
    try:
        n = int(v)
    except ValueError:
        sys.exit(f"{prog}: error: {name}={v!r} is not an integer")
    if n < least:
        sys.exit(f"{prog}: error: {name}={v!r} must be >= {least}")
    return n


def show(argv):
    return " ".join(shlex.quote(a) for a in argv)


def fail(prog, what, tool, argv, rc, err):
    """Reports a command that failed (its line and the end of its stderr) and exits 1."""
    print(f"\n{prog}: FAILED: {what} with {tool} (exit status {rc})", file=sys.stderr)
    print(f"  command: {show(argv)}", file=sys.stderr)
    err = err.decode(errors="replace").rstrip() if isinstance(err, bytes) else (err or "").rstrip()
    err = err[-4000:]
    print("  stderr:" + ("\n    " + err.replace("\n", "\n    ") if err else " (empty)"), file=sys.stderr)
    sys.exit(1)


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def ratio_ci(a, b, n=2000):
    """95% bootstrap interval of median(a)/median(b)."""
    if not a or not b:
        return None
    rs = sorted(statistics.median(_rng.choices(a, k=len(a))) / statistics.median(_rng.choices(b, k=len(b)))
                for _ in range(n))
    return rs[int(0.025 * n)], rs[int(0.975 * n) - 1]


def first_line(argv):
    """The first line a command prints (a version), or '?'."""
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=10)
        out = (p.stdout + p.stderr).strip()
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"? ({e})"
    return out.splitlines()[0] if out else "?"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def versions(tools):
    """The versions of the tools named burrow, bwrap and proot in `tools` (name -> path)."""
    out = {}
    if "burrow" in tools:
        out["burrow"] = first_line([tools["burrow"], "--version"]) + f"  ({tools['burrow']})"
    if "bwrap" in tools:
        out["bwrap"] = first_line([tools["bwrap"], "--version"])
    if "proot" in tools:
        # PRoot's --version prints an ASCII-art logo with the version inside (5.1), or, built
        # from a tarball (upstream 5.4), no version but its accelerators.
        try:
            p = subprocess.run([tools["proot"], "--version"], capture_output=True, text=True, timeout=10)
            txt = p.stdout + p.stderr
        except (OSError, subprocess.TimeoutExpired) as e:
            txt = str(e)
        m = re.search(r"\b(\d+\.\d+(?:\.\d+)?)\b", txt)
        acc = re.search(r"accelerators: (.*)", txt)
        out["proot"] = (f"proot {m.group(1)}" if m else tools["proot"]) + (f"  ({acc.group(1)})" if acc else "")
    return out
