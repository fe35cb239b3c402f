#!/usr/bin/env bash
# What `auto` costs on a restricted host: start-up of /bin/true with `auto` (which probes the
# namespace engine, finds it refused and picks the ptrace engine) against naming the engine
# that works (`--engine ptrace`), on hosts emulated by scripts/restricted-host, in one run.
# Goal (the restricted-hosts issue): auto <= 1.15x the named engine.
#
# Usage (as root): bench/restricted-startup.sh [RUNS]   (default 300 per variant, alternating)
#   BENCH_PIN=1  everything on CPU 0 (taskset -c 0)
# Prints median, min and spread (stdev) in ms per host and variant, and auto/named.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-300}
[ "$(id -u)" = 0 ] || { echo "restricted-startup: run as root (it emulates the hosts with scripts/restricted-host)" >&2; exit 2; }
burrow=${BURROW_BIN:-$PWD/.build/release/burrow}
[ -x "$burrow" ] || { echo "restricted-startup: build first: swift build -c release -Xswiftc -static-executable" >&2; exit 2; }
rootfs=$(mktemp -d /tmp/burrow-bench-rootfs.XXXXXX)
driver=$rootfs.driver.py
trap 'rm -rf "$rootfs" "$driver"' EXIT
scripts/make-rootfs "$rootfs" >/dev/null
chmod 755 "$rootfs"
pin=()
[ "${BENCH_PIN:-0}" = 1 ] && pin=(taskset -c 0)

cat > "$driver" <<'PY'
import statistics, subprocess, sys, time
host, runs, burrow, rootfs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
variants = {"auto": [burrow, rootfs, "/bin/true"], "named": [burrow, "--engine", "ptrace", rootfs, "/bin/true"]}
times = {v: [] for v in variants}
for i in range(runs):
    # Alternating, with a rotating start: drift hits both alike.
    for v in (list(variants) if i % 2 == 0 else list(reversed(variants))):
        t = time.perf_counter_ns()
        r = subprocess.run(user + variants[v], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times[v].append((time.perf_counter_ns() - t) / 1e6)
        if r.returncode != 0:
            sys.exit(f"{host} {v}: status {r.returncode}: {r.stderr.decode()}")
for v, t in times.items():
    print(f"{host:16} {v:6} {len(t):5} {statistics.median(t):10.2f} {min(t):8.2f} {statistics.stdev(t):9.2f}")
ratio = statistics.median(times["auto"]) / statistics.median(times["named"])
print(f"{host:16} auto/named = {ratio:.3f} (goal <= 1.15: {'met' if ratio <= 1.15 else 'NOT met'})")
PY

printf '%-16s %-6s %5s %10s %8s %9s\n' host engine runs "median ms" "min ms" "stdev ms"
# The restriction is installed once per host, around the whole timing loop (restricted-host
# execs the driver; its filter binds every run), so that only burrow's own work is timed.
for host in apparmor-userns docker no-userns; do
    "${pin[@]}" scripts/restricted-host "--$host" -- python3 "$driver" "$host" "$runs" "$burrow" "$rootfs"
done
