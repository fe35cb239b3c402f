// The escape battery: each attempt is made from inside the sandbox, by a static helper
// (Tests/Helpers/escapeprobe.c) bound into it, and each must fail. "Escaped" means the
// helper could open a marker file that exists only on the host (below the test process's
// temporary directory, which no rootfs contains).
//
// Run on the namespace engine (as the test user and as root inside), in setuid mode (the
// setuid harness of SetuidTests) where the attack means something there, and on the ptrace
// engine only for what it claims: paths (`..`, symlinks) resolve inside the guest. The
// ptrace engine is not a security boundary (see ENGINES in burrow(1)).
//
// Covered elsewhere, not repeated here: setuid-root binaries,
// symlinked bind destinations, the environment and /etc/shadow in setuid mode
// (SetuidTests), symlinked tmpfs destinations on the namespace engine (FilesystemTests),
// descriptors inherited by burrow (ProcessTests), no_new_privs (ProcessTests).

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum EscapeProbe {
    /// The static probe, or nil with the compiler's complaint.
    static let built = buildStaticHelper("escapeprobe")

    /// A file only the host has: the escape attempts try to open it.
    static let hostMarker: String = {
        let path = Harness.tempBase + "/escape-host-marker"
        writeFile(path, "HOST\n")
        chmod(path, 0o644)
        return path
    }()

    static func path(sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        if built.path == nil { Issue.record("cannot build escapeprobe: \(built.error)", sourceLocation: sourceLocation) }
        return built.path
    }

    /// Where the probe appears inside: on a tmpfs at /tmp (also where chroot attempts mkdir).
    static let inside = "/tmp/escapeprobe"

    /// burrow arguments: `extra`, a tmpfs /tmp with the probe in it, `rootfs`, the probe and
    /// its attempts.
    static func args(_ extra: [String], _ probes: [String], rootfs: String = Harness.sharedRootfs) -> [String]? {
        guard let probe = path() else { return nil }
        _ = hostMarker
        return extra + ["--tmpfs", "/tmp", "--ro-bind", probe, inside, rootfs, inside] + probes
    }
}

/// Where a battery row runs.
enum EscapeMode: String, Sendable, CustomTestStringConvertible {
    /// Namespace engine, the command as the test user (no capability).
    case namespace
    /// Namespace engine, root inside (--root: every capability of the user namespace but
    /// CAP_SYS_ADMIN and CAP_SYS_PTRACE).
    case namespaceRoot = "namespace --root"
    /// Setuid mode under scripts/no-userns.
    case setuid
    case ptrace
    var testDescription: String { rawValue }

    var available: Bool { self != .setuid || SetuidInstall.available }

    /// burrow's argv with `args` in this mode, as the test user; `via`: a wrapper (run as the
    /// test user too) that gets burrow's argv as its arguments and execs it.
    func argv(_ args: [String], via: [String] = []) -> [String] {
        switch self {
        case .namespace: return asTestUser(via + [Harness.binary, "--engine", "namespace"] + args)
        case .namespaceRoot: return asTestUser(via + [Harness.binary, "--engine", "namespace", "--root"] + args)
        case .setuid: return startSetuidArgv(args, via: via)
        case .ptrace: return asTestUser(via + [Harness.binary, "--engine", "ptrace"] + args)
        }
    }

    func run(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) async -> BurrowResult {
        switch self {
        case .namespace: return await burrow(engine: .namespace, args, sourceLocation: sourceLocation)
        case .namespaceRoot: return await burrow(engine: .namespace, ["--root"] + args, sourceLocation: sourceLocation)
        case .setuid: return await setuidBurrow(args, sourceLocation: sourceLocation)
        case .ptrace: return await burrow(engine: .ptrace, args, sourceLocation: sourceLocation)
        }
    }

    /// The command line that runs burrow with `args` as the test user, in this mode, for a
    /// test that starts it itself.
    func argv(_ args: [String]) -> [String] {
        switch self {
        case .namespace: return asTestUser([Harness.binary, "--engine", "namespace"] + args)
        case .namespaceRoot: return asTestUser([Harness.binary, "--engine", "namespace", "--root"] + args)
        case .ptrace: return asTestUser([Harness.binary, "--engine", "ptrace"] + args)
        case .setuid: return startSetuidArgv(args)
        }
    }
}

/// Tests/Helpers/ttyrun.c: runs a command on a new terminal, as its session's shell would,
/// and then says what is waiting in the terminal's input ("typed=...").
enum TTYRun {
    static let built = buildStaticHelper("ttyrun")

    static func path(sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        if built.path == nil { Issue.record("cannot build ttyrun: \(built.error)", sourceLocation: sourceLocation) }
        return built.path
    }

    /// Whether the kernel lets a process type into its controlling terminal at all
    /// (dev.tty.legacy_tiocsti, Linux 6.2; 1 where the file is missing). With 0 it says EIO.
    static let kernelAllowsTIOCSTI: Bool = {
        guard let text = readFile("/proc/sys/dev/tty/legacy_tiocsti") else { return true }
        return text.trimmingCharacters(in: .whitespacesAndNewlines) != "0"
    }()
}

@Suite("Escapes", .timeLimit(.minutes(2)))
struct EscapeTests {
    let marker = EscapeProbe.hostMarker

    /// Runs the probe in `mode`; returns its results (nil: could not run it).
    func probe(_ mode: EscapeMode, _ extra: [String], _ probes: [String], rootfs: String = Harness.sharedRootfs,
               sourceLocation: SourceLocation = #_sourceLocation) async -> (BurrowResult, [String: String])? {
        guard let args = EscapeProbe.args(extra, probes, rootfs: rootfs) else { return nil }
        #expect(pathExists(marker), "the host marker must exist for the attempts to mean anything", sourceLocation: sourceLocation)
        let r = await mode.run(args, sourceLocation: sourceLocation)
        expectSuccess(r, sourceLocation: sourceLocation)
        return (r, SysProbe.results(r))
    }

    func expectResults(_ got: (BurrowResult, [String: String])?, _ want: [String: String],
                       sourceLocation: SourceLocation = #_sourceLocation) {
        guard let (r, results) = got else { return }
        for (key, value) in want.sorted(by: { $0.key < $1.key }) {
            #expect(results[key] == value, "\(key): expected \(value), got \(results[key] ?? "nothing")\n\(r)",
                    sourceLocation: sourceLocation)
        }
        #expect(!r.stdout.contains("ESCAPED"), "an attempt reached the host:\n\(r)", sourceLocation: sourceLocation)
    }

    // MARK: paths

    @Test("Climbing out with .. from /: chdir(\"..\") 64 times, openat(fd of /, \"../../..\")",
          arguments: [EscapeMode.namespace, .namespaceRoot, .setuid, .ptrace])
    func dotDot(_ mode: EscapeMode) async {
        guard mode.available else { return }
        let got = await probe(mode, [], ["dotdot:\(marker)", "openat:\(marker)", "open:\(marker)"])
        expectResults(got, ["dotdot": "inside", "openat": "ENOENT", "open:\(marker)": "ENOENT"])
    }

    /// io_uring's openat runs in the kernel, with no system call for the ptrace engine to
    /// translate: refused there (ENOSYS); on the other engines it resolves in the sandbox's
    /// mount namespace like any open.
    @Test("openat as an io_uring operation stays inside (ptrace engine: io_uring refused)",
          arguments: [EscapeMode.namespace, .setuid, .ptrace])
    func ioUringOpen(_ mode: EscapeMode) async {
        guard mode.available else { return }
        let got = await probe(mode, [], ["uring_open:\(marker)"])
        expectResults(got, ["uring_open:\(marker)": mode == .ptrace ? "ENOSYS" : "ENOENT"])
    }

    @Test("Ptrace engine: the command cannot read or write the tracer's memory, environment or descriptors (burrow is not dumpable once the command runs, unless it is itself traced)")
    func tracerOutOfReach() async {
        let r = await burrow(["--engine", "ptrace", "--proc", "/proc", Harness.sharedRootfs] + sh("""
            for f in mem environ; do cat /proc/$PPID/$f >/dev/null 2>&1 && echo "$f readable" || echo "$f refused"; done
            ls /proc/$PPID/fd >/dev/null 2>&1 && echo "fd listed" || echo "fd refused"
            echo x 2>/dev/null > /proc/$PPID/mem && echo "mem written" || echo "mem write refused"
            """))
        expectSuccess(r)
        expectLines(r, ["mem refused", "environ refused", "fd refused", "mem write refused"])
    }

    @Test("A second chroot and the classic chdir(\"../../..\") escape stay inside",
          arguments: [EscapeMode.namespace, .namespaceRoot, .setuid])
    func secondChroot(_ mode: EscapeMode) async {
        guard mode.available else { return }
        let attempts = ["chroot:/tmp:\(marker)", "fdchroot:/tmp:\(marker)"]
        let got = await probe(mode, [], attempts)
        // Root inside holds CAP_SYS_CHROOT in its user namespace: the chroot works, and the
        // climb ends at the root of the sandbox's mount namespace. Without it: EPERM.
        let expected = mode == .namespaceRoot ? "inside" : "EPERM"
        expectResults(got, ["chroot": expected, "fdchroot": expected])
        // With a user namespace of its own, even an unprivileged command has CAP_SYS_CHROOT.
        if mode != .setuid {
            let nested = await probe(mode, [], ["newns"] + attempts)
            expectResults(nested, ["newns": "ok", "chroot": "inside", "fdchroot": "inside"])
        }
    }

    @Test("A symlink in the rootfs cannot point a bind destination at a host path",
          arguments: [EscapeMode.namespace, .ptrace])
    func symlinkedBindDestination(_ mode: EscapeMode) async {
        let root = await makePrivateRootfs()
        let hostSide = makeTempDir(owner: testUser, mode: 0o777)  // an escaping bind would land here
        let source = makeTempDir()
        defer { root.remove(); hostSide.remove(); source.remove() }
        writeFile(source.sub("payload"), "PAYLOAD\n")
        chmod(source.sub("payload"), 0o644)
        symlink(hostSide.path, root.at("/abs-link"))
        symlink(String(repeating: "../", count: 12) + hostSide.path.dropFirst(), root.at("/rel-link"))
        giveToTestUser(root.at("/abs-link"))
        giveToTestUser(root.at("/rel-link"))
        for link in ["/abs-link", "/rel-link"] {
            let r = await mode.run(["--ro-bind", source.path, link + "/x", root.path] + sh("cat \(link)/x/payload"))
            #expect(r.status == 0 || r.status == 125, "\(r)")
            if r.status == 125 { #expect(r.stderr.hasPrefix("burrow: "), "\(r)") } else { expectLines(r, ["PAYLOAD"]) }
            #expect(directoryEntries(hostSide.path).isEmpty, "the host directory got \(directoryEntries(hostSide.path)):\n\(r)")
            #expect(hostMounts(mentioning: hostSide.path).isEmpty)
        }
    }

    // MARK: /proc links

    @Test("/proc/self/root, /proc/self/cwd, /proc/1/root and the ancestors' roots lead nowhere out",
          arguments: [EscapeMode.namespace, .namespaceRoot, .setuid], [false, true])
    func procLinks(_ mode: EscapeMode, unsharePID: Bool) async {
        guard mode.available else { return }
        let got = await probe(mode, (unsharePID ? ["--unshare-pid"] : []) + ["--proc", "/proc"], [
            "open:/proc/self/root\(marker)", "open:/proc/self/cwd/..\(marker)", "open:/proc/1/root\(marker)",
            "ancestors:\(marker)",
        ])
        expectResults(got, ["open:/proc/self/root\(marker)": "ENOENT", "open:/proc/self/cwd/..\(marker)": "ENOENT"])
        guard let (r, results) = got else { return }
        // PID 1 is the sandbox's init (not dumpable) or the host's init (root's).
        #expect(results["open:/proc/1/root\(marker)"] == "EACCES", "\(r)")
        // Every ancestor: the init, the supervisor, and above (the test process, root's).
        // The init is not dumpable; the supervisor holds capabilities the command lacks (or,
        // in setuid mode, was root when it exec'd and stays undumpable).
        let ancestors = results.keys.filter { $0.hasPrefix("anc") }
        // With a PID namespace (asked for, or setuid mode's own) only the init is visible.
        #expect(ancestors.count >= (unsharePID || mode == .setuid ? 2 : 4), "\(r)")
        for key in ancestors {
            #expect(results[key] == (key.hasSuffix("_root") ? "EACCES" : "EPERM"), "\(key): \(results[key] ?? "")\n\(r)")
        }
    }

    /// Another process of the same user, outside the sandbox. On the namespace engine the
    /// kernel denies /proc/PID/root and ptrace across the user namespace boundary (the
    /// command lacks CAP_SYS_PTRACE over the host's namespace); a signal still reaches it
    /// without --unshare-pid. In setuid mode there is no such boundary.
    @Test("The caller's other processes: reachable only by signal on the namespace engine without --unshare-pid, not at all with it",
          arguments: [EscapeMode.namespace, .namespaceRoot, .setuid], [false, true])
    func callersOtherProcesses(_ mode: EscapeMode, unsharePID: Bool) async throws {
        guard mode.available else { return }
        let sleepArg = sleepMarker()
        defer { killProcesses(withArgument: sleepArg) }
        let other = try spawn(asTestUser(["/bin/sleep", sleepArg]))
        guard await waitForProcess(argument: sleepArg) != nil else {
            Issue.record("the test user's sleep never started")
            return
        }
        let pid = other.pid
        let got = await probe(mode, (unsharePID ? ["--unshare-pid"] : []) + ["--proc", "/proc"], [
            "open:/proc/\(pid)/root\(marker)", "ptrace:\(pid)", "kill0:\(pid)", "open:/proc/\(pid)/environ",
        ])
        other.send(SIGKILL)
        _ = await other.wait()
        guard let (r, results) = got else { return }
        let root = results["open:/proc/\(pid)/root\(marker)"], trace = results["ptrace:\(pid)"], signal = results["kill0:\(pid)"]
        if unsharePID || mode == .setuid {
            // That pid is not in the sandbox's PID namespace (or is one of its own processes).
            // Setuid mode always makes one: without it the command, a process of the caller
            // in the host's user namespace, could ptrace the caller's other processes.
            #expect(root != "ok" && trace != "ok", "\(r)")
            #expect(signal == "ESRCH", "\(r)")
        } else {
            #expect(root == "EACCES", "\(r)")
            #expect(trace == "EPERM", "\(r)")
            #expect(results["open:/proc/\(pid)/environ"] == "EACCES", "\(r)")
            // Documented: signals reach the caller's processes without a PID namespace.
            #expect(signal == "ok", "\(r)")
        }
    }

    // MARK: descriptors

    @Test("A descriptor of a host directory held by burrow's caller does not arrive: only 0, 1, 2",
          arguments: [EscapeMode.namespace, .namespaceRoot, .setuid, .ptrace], [false, true])
    func descriptorPassedIn(_ mode: EscapeMode, unsharePID: Bool) async throws {
        guard mode.available, let probe = EscapeProbe.path() else { return }
        if mode == .ptrace && unsharePID { return }  // refused by the ptrace engine
        _ = EscapeProbe.hostMarker
        let args = (unsharePID ? ["--unshare-pid"] : []) + ["--proc", "/proc", "--tmpfs", "/tmp", "--ro-bind", probe, EscapeProbe.inside,
                    Harness.sharedRootfs] + sh("\(EscapeProbe.inside) fds:\(marker); ls /proc/$$/fd; true")
        // fd 3 on the host's /, fd 4 on the directory holding the marker, not close-on-exec.
        let wrapper = ["/bin/sh", "-c", "exec 3</ 4<\(shellQuote(Harness.tempBase)); exec \"$@\"", "sh"] + mode.argv(args)
        let r = try await spawn(wrapper).wait()
        expectSuccess(r)
        expectLines(r, ["fds=none", "0", "1", "2"])
    }

    // MARK: the old root, host mounts and processes

    @Test("The old root is gone: only the mounts asked for, nothing of the host's",
          arguments: [EscapeMode.namespace, .namespaceRoot, .setuid], [false, true])
    func oldRoot(_ mode: EscapeMode, unsharePID: Bool) async {
        guard mode.available, let args = EscapeProbe.args((unsharePID ? ["--unshare-pid"] : []) + ["--proc", "/proc", "--dev", "/dev"], [])
        else { return }
        let script = "ls -a /; \(printMounts)"
        let r = await mode.run(Array(args.dropLast()) + sh(script))
        expectSuccess(r)
        let listing = Set(r.beforeMounts.split(separator: "\n").map(String.init))
        #expect(listing == Set(directoryEntries(Harness.sharedRootfs) + [".", ".."]), "/ holds what the rootfs holds:\n\(r)")
        // The mounts asked for, the device nodes --dev binds under /dev, and (without
        // --unshare-pid) what is mounted below the host's /proc, bound with it.
        let asked: Set<String> = ["/", "/proc", "/dev", "/tmp", EscapeProbe.inside]
        let points = Set(r.mounts.map(\.mountPoint))
        #expect(asked.isSubset(of: points), "\(r)")
        let others = points.subtracting(asked).filter { !$0.hasPrefix("/dev/") && (unsharePID || !$0.hasPrefix("/proc/")) }
        #expect(others.isEmpty, "mounts nobody asked for: \(others.sorted())\n\(r)")
        // The root is the rootfs: a bind of its directory, not the host's /.
        #expect(r.mounts.top(at: "/")?.root.hasSuffix(String(Harness.sharedRootfs.split(separator: "/").last ?? "")) == true, "\(r)")
    }

    @Test("With --unshare-pid the host's processes are invisible and unreachable",
          arguments: [EscapeMode.namespace, .namespaceRoot, .setuid])
    func hostProcesses(_ mode: EscapeMode) async throws {
        guard mode.available, let args = EscapeProbe.args(["--unshare-pid", "--proc", "/proc", "--dev", "/dev"], []) else { return }
        let sleepArg = sleepMarker()
        defer { killProcesses(withArgument: sleepArg) }
        let other = try spawn(asTestUser(["/bin/sleep", sleepArg]))
        #expect(await waitForProcess(argument: sleepArg) != nil)
        let r = await mode.run(Array(args.dropLast()) + sh("""
            ps -o pid,args | grep -v '[p]s -o' | grep -c .; ps -o args | grep -c '[s]leep \(sleepArg)'; \
            \(EscapeProbe.inside) kill0:\(other.pid) kill0:1 ptrace:1; true
            """))
        other.send(SIGKILL)
        _ = await other.wait()
        expectSuccess(r)
        // Heading, init, sh (ps itself and grep filtered): a handful, none of the host's.
        let counts = r.lines.prefix(2).compactMap { Int($0) }
        #expect(counts.count == 2 && counts[0] <= 6 && counts[1] == 0, "\(r)")
        let results = SysProbe.results(r)
        #expect(results["kill0:1"] == "ok", "PID 1 is the sandbox's own init:\n\(r)")
        #expect(results["ptrace:1"] == "EPERM", "the init cannot be traced:\n\(r)")
        #expect(results["kill0:\(other.pid)"] == "ESRCH" || other.pid <= 5, "\(r)")
    }

    // MARK: signals, and burrow's own processes

    /// A wrapper that makes burrow share a fresh process group (and session) with a canary:
    /// setsid, a shell that starts `sleep MARKER` in the background, then execs burrow.
    /// burrow keeps the shell's pid, so the canary is also a child burrow did not start.
    static func withCanary(_ marker: String) -> [String] {
        ["/usr/bin/setsid", "-w", "/bin/sh", "-c", #"sleep \#(marker) & exec "$@""#, "sh"]
    }

    /// The state letter of /proc/PID/stat (R, S, T, Z...), nil once the process is gone.
    static func processState(_ pid: pid_t) -> Character? {
        guard let stat = readFile("/proc/\(pid)/stat"), let end = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: end)...].first { $0 != " " }
    }

    /// The canary (`sleep MARKER`) runs, and is not stopped.
    func expectCanaryUntouched(_ marker: String, _ r: BurrowResult, sourceLocation: SourceLocation = #_sourceLocation) {
        let canary = IntegrationTests.hostProcesses(withArgument: marker)
        #expect(canary.count == 1, "the canary in burrow's process group is gone:\n\(r)", sourceLocation: sourceLocation)
        for pid in canary {
            let state = Self.processState(pid)
            #expect(state == "S" || state == "R", "the canary is in state \(state.map(String.init) ?? "gone"):\n\(r)",
                    sourceLocation: sourceLocation)
        }
    }

    /// The command used to share the caller's process group: a kill(0, ...) reached the
    /// caller, its build system, and burrow. It leads a group of its own now (the init too).
    @Test("A signal to the command's own process group stays in the sandbox: kill(0, SIGKILL) and kill(-getpgrp(), SIGKILL) spare burrow and the caller's group",
          arguments: [EscapeMode.namespace, .setuid, .ptrace], [false, true])
    func groupSignalsStayInside(_ mode: EscapeMode, unsharePID: Bool) async throws {
        guard mode.available, !(mode == .ptrace && unsharePID) else { return }
        for attack in ["killpg:KILL", "killpgrp:KILL"] {
            let canary = sleepMarker()
            defer { killProcesses(withArgument: canary) }
            guard let args = EscapeProbe.args(unsharePID ? ["--unshare-pid"] : [], [attack]) else { return }
            let r = try await spawn(mode.argv(args, via: Self.withCanary(canary))).wait()
            // The command killed itself with its group; burrow lived to say so.
            expectStatus(r, 128 + SIGKILL)
            #expect(r.signal == nil, "\(attack) killed burrow:\n\(r)")
            expectCanaryUntouched(canary, r)
        }
    }

    @Test("kill(0, SIGSTOP) inside stops the sandbox's group only, not burrow nor the caller's group; SIGCONT to burrow continues it",
          arguments: [EscapeMode.namespace, .setuid, .ptrace], [false, true])
    func groupStopStaysInside(_ mode: EscapeMode, unsharePID: Bool) async throws {
        guard mode.available, !(mode == .ptrace && unsharePID) else { return }
        let canary = sleepMarker(), tag = "tag:" + sleepMarker()
        defer { killProcesses(withArgument: canary) }
        guard let args = EscapeProbe.args(unsharePID ? ["--unshare-pid"] : [], [tag, "killpg:STOP", "pgleader"]) else { return }
        let p = try spawn(mode.argv(args, via: Self.withCanary(canary)))
        defer { if p.isRunning { p.send(SIGKILL) } }
        // The ptrace engine does not keep a traced process in a stop of job control (see
        // burrow(1)): there the probe goes on by itself.
        if mode != .ptrace {
            let probe = { IntegrationTests.hostProcesses(withArgument: tag).first { hostCmdline($0)?.first == EscapeProbe.inside } }
            let stopped = await eventually(timeout: 10) { probe().map { Self.processState($0) == "T" } ?? false }
            #expect(stopped, "the probe never stopped; stderr: \(p.stderrSoFar)")
            #expect(Self.processState(p.pid) != "T", "burrow stopped with its command")
            expectCanaryUntouched(canary, BurrowResult(argv: p.argv, status: 0, signal: nil, stdout: p.stdoutSoFar,
                                                       stderr: p.stderrSoFar, timedOut: false))
        }
        // burrow passes a SIGCONT on to the command's group, as for a shell's `fg`.
        p.send(SIGCONT)
        let r = await p.wait()
        expectSuccess(r)
        expectLines(r, ["killpg:STOP=ok", "pgleader=yes"])
        expectCanaryUntouched(canary, r)
    }

    /// Without a PID namespace the init is one more process of the caller's uid: the
    /// command can kill or stop it (its parent). burrow, the init's parent and a child
    /// subreaper, then kills everything that is left (a child in a session of its own
    /// included) and fails saying so; the cleaner removes the mount point it made. With a
    /// PID namespace (setuid mode always has one) the init is PID 1, immune from inside.
    @Test("The init killed or stopped from inside: nothing of the sandbox survives, the mount point burrow made goes, burrow fails saying so",
          arguments: [EscapeMode.namespace, .setuid, .ptrace], [false, true])
    func initKilledOrStopped(_ mode: EscapeMode, unsharePID: Bool) async {
        guard mode.available, !(mode == .ptrace && unsharePID) else { return }
        // The ptrace engine's init is burrow itself, the tracer: a SIGSTOP stops burrow as it
        // would stop any program (see burrow(1), SECURITY).
        for signal in mode == .ptrace ? ["KILL"] : ["KILL", "STOP"] { await initKilledOrStopped(mode, unsharePID, signal) }
    }

    func initKilledOrStopped(_ mode: EscapeMode, _ unsharePID: Bool, _ signal: String) async {
        let root = await makePrivateRootfs()
        defer { root.remove() }
        let daemon = sleepMarker()
        defer { killProcesses(withArgument: daemon) }
        guard let args = EscapeProbe.args((unsharePID ? ["--unshare-pid"] : []) + ["--tmpfs", "/burrow-made-tmpfs"],
                                          ["daemon:\(daemon)", "killppid:\(signal)"], rootfs: root.path)
        else { return }
        let r = await mode.run(args)
        expectStdout(r, contains: "daemon=")
        if unsharePID || mode == .setuid {
            expectSuccess(r)
        } else if mode == .ptrace {
            // burrow, killed: its traced processes die with it (PTRACE_O_EXITKILL).
            #expect(r.signal == SIGKILL, "\(r)")
        } else {
            expectStatus(r, 125)
            let how = signal == "KILL" ? "killed by signal \(SIGKILL)" : "stopped by signal \(SIGSTOP)"
            expectStderr(r, contains: "burrow: the sandbox's init was \(how) (from inside the sandbox?); everything in it was killed")
        }
        // burrow has killed them before it returned (the ptrace engine's die with it):
        // the wait is only a safety net.
        let left = await waitUntilGone(argument: daemon, timeout: 5)
        #expect(left.isEmpty, "the command's child in a session of its own survived the sandbox: \(left)\n\(r)")
        // The ptrace engine's cleaner, which outlives the killed tracer, may still be at it.
        let removed = await eventually(timeout: 5) { !pathExists(root.at("/burrow-made-tmpfs")) }
        #expect(removed, "the mount point burrow made is left in the rootfs:\n\(r)")
    }

    /// A child made with CLONE_UNTRACED escapes PTRACE_O_TRACECLONE: on the ptrace engine it
    /// would run untranslated and outlive burrow (PTRACE_O_EXITKILL reaches tracees only),
    /// so the clone is refused there (EPERM; clone3 says ENOSYS). The other engines let it be
    /// made and end it with the sandbox: when the command exits, and when the command kills
    /// its parent (burrow itself on the ptrace engine; the init elsewhere).
    @Test("A child out of the tracer's reach (CLONE_UNTRACED): refused on the ptrace engine; elsewhere it ends with the sandbox",
          arguments: [EscapeMode.namespace, .setuid, .ptrace], ["exit", "killppid:KILL"])
    func untracedChild(_ mode: EscapeMode, _ end: String) async {
        guard mode.available else { return }
        let marker = "untraced:\(sleepMarker())"
        defer { killProcesses(withArgument: marker) }
        guard let args = EscapeProbe.args([], [marker] + (end == "exit" ? [] : [end])) else { return }
        let r = await mode.run(args)
        expectStdout(r, contains: mode == .ptrace ? "\(marker)=EPERM" : "untraced=")
        let left = await waitUntilGone(argument: marker, timeout: 5)
        #expect(left.isEmpty, "the untraced child outlived the sandbox: \(left)\n\(r)")
    }

    // MARK: devices and mounts

    @Test("mknod of a device fails, as root inside and in a user namespace of its own",
          arguments: [EscapeMode.namespace, .namespaceRoot, .setuid])
    func mknodOfADevice(_ mode: EscapeMode) async {
        guard mode.available else { return }
        let root = await makePrivateRootfs()
        defer { root.remove() }
        let places = ["mknod:/tmp/null", "mknod:/dev/null2", "mknod:/var/tmp/null"]
        let got = await probe(mode, ["--dev", "/dev"], places + (mode == .setuid ? [] : ["newns"] + places.map { $0 + "n" }),
                              rootfs: root.path)
        var want = Dictionary(uniqueKeysWithValues: places.map { ($0, "EPERM") })
        if mode != .setuid { for p in places { want[p + "n"] = "EPERM" } }
        expectResults(got, want)
        #expect(!pathExists(root.at("/var/tmp/null")) && !pathExists(root.at("/var/tmp/nulln")))
    }

    struct ReadOnlyCase: Sendable, CustomTestStringConvertible {
        let name: String
        let options: [String]
        let path: String
        var testDescription: String { name }
    }

    static let readOnlyCases = [
        ReadOnlyCase(name: "--ro-bind", options: ["--ro-bind", "/etc", "/srv"], path: "/srv"),
        ReadOnlyCase(name: "--ro-root", options: ["--ro-root"], path: "/"),
        ReadOnlyCase(name: "--remount-ro", options: ["--remount-ro", "/var"], path: "/var"),
    ]

    @Test("Read-only stays read-only: remount, mount_setattr, umount and mounting over / are refused; nothing reaches the host",
          arguments: readOnlyCases, [EscapeMode.namespaceRoot, .setuid])
    func readOnlyStaysReadOnly(_ c: ReadOnlyCase, _ mode: EscapeMode) async {
        guard mode.available else { return }
        let root = await makePrivateRootfs()
        defer { root.remove() }
        let hostBefore = hostMountinfo().count
        let file = (c.path == "/" ? "" : c.path) + "/burrow-escape-file"
        let attempts = ["remount_rw:\(c.path)", "remount_sb_rw:\(c.path)", "setattr_rw:\(c.path)", "umount:\(c.path)",
                        "write:\(file)", "mount_tmpfs:/"]
        let got = await probe(mode, c.options, attempts, rootfs: root.path)
        expectResults(got, ["remount_rw:\(c.path)": "EPERM", "remount_sb_rw:\(c.path)": "EPERM", "setattr_rw:\(c.path)": "EPERM",
                            "umount:\(c.path)": "EPERM", "write:\(file)": "EROFS", "mount_tmpfs:/": "EPERM"])
        // busybox mount as root, as a user would try it.
        guard let args = EscapeProbe.args(c.options, [], rootfs: root.path) else { return }
        let r = await mode.run(Array(args.dropLast()) + sh("mount -o remount,rw \(c.path) && echo REMOUNTED; touch \(file) && echo WROTE; true"))
        expectSuccess(r)
        expectStdout(r, lacks: "REMOUNTED")
        expectStdout(r, lacks: "WROTE")
        #expect(hostMountinfo().count == hostBefore)
        #expect(!pathExists(root.path + file), "a file was written through the read-only mount")
    }

    @Test("In a user and mount namespace of its own, root may mount, but locked mounts stay read-only and the host sees nothing",
          arguments: readOnlyCases)
    func nestedNamespace(_ c: ReadOnlyCase) async {
        let root = await makePrivateRootfs()
        defer { root.remove() }
        let hostBefore = hostMountinfo().count
        let file = (c.path == "/" ? "" : c.path) + "/burrow-escape-file"
        let got = await probe(.namespace, c.options, [
            "newns", "remount_rw:\(c.path)", "remount_sb_rw:\(c.path)", "setattr_rw:\(c.path)", "umount:\(c.path)",
            "write:\(file)", "mount_tmpfs:/", "mount_tmpfs:/tmp",
        ], rootfs: root.path)
        // The kernel locks the flags and the place of mounts inherited from a more
        // privileged mount namespace (mount_namespaces(7)): remounting read-write fails, and
        // a locked mount cannot be taken off what it covers (EINVAL).
        expectResults(got, ["newns": "ok", "remount_rw:\(c.path)": "EPERM", "remount_sb_rw:\(c.path)": "EPERM",
                            "setattr_rw:\(c.path)": "EPERM", "umount:\(c.path)": "EINVAL", "write:\(file)": "EROFS",
                            "mount_tmpfs:/": "ok", "mount_tmpfs:/tmp": "ok"])
        #expect(hostMountinfo().count == hostBefore, "the host's mount table changed")
        #expect(hostMounts(mentioning: "burrow-escape").isEmpty)
        #expect(!pathExists(root.path + file))
    }

    // MARK: the caller's terminal

    /// One way to run the terminal attempts: burrow options, and what they allow.
    struct TerminalCase: Sendable, CustomTestStringConvertible {
        let options: [String]
        /// `--seccomp FILE` with a deny file (made by the test).
        var denyFile = false
        var allowed: Bool { options.contains("--allow-terminal-injection") }
        var newSession: Bool { options.contains("--new-session") }
        var profile: Bool { denyFile || options.contains("--seccomp") }
        var testDescription: String {
            let shown = options + (denyFile ? ["--seccomp FILE"] : [])
            return shown.isEmpty ? "(no option)" : shown.joined(separator: " ")
        }
    }

    static let terminalCases: [TerminalCase] = [
        TerminalCase(options: []),
        TerminalCase(options: ["--seccomp", "default"]),
        TerminalCase(options: ["--seccomp", "linux-user-chroot-0"]),
        TerminalCase(options: [], denyFile: true),
        TerminalCase(options: ["--allow-terminal-injection"]),
        TerminalCase(options: ["--seccomp", "default", "--allow-terminal-injection"]),
        TerminalCase(options: ["--new-session"]),
        TerminalCase(options: ["--new-session", "--allow-terminal-injection"]),
    ]

    /// The command's stdin is the terminal of the shell that started burrow, which is the
    /// command's controlling terminal too unless --new-session (CVE-2017-5226). The probe
    /// types A (TIOCSTI), B (TIOCSTI with the request's high 32 bits set) and C (TIOCSTI
    /// through int $0x80) into it and asks TIOCLINUX; the shell then reads its terminal.
    /// Refused with EPERM from the filter: the same calls get another answer with
    /// --allow-terminal-injection, and whatever is refused, nothing reaches the shell.
    @Test("Typing into the caller's terminal (TIOCSTI, TIOCLINUX) is refused on every engine and under every profile unless allowed; nothing reaches the shell",
          arguments: [EscapeMode.namespace, .namespaceRoot, .setuid, .ptrace], terminalCases)
    func terminalInjection(_ mode: EscapeMode, _ c: TerminalCase) async throws {
        guard mode.available, let ttyrun = TTYRun.path() else { return }
        if mode == .ptrace && c.profile { return }  // --seccomp needs the namespace engine (Refusals)
        let dir = makeTempDir()
        defer { dir.remove() }
        var options = c.options
        if c.denyFile {
            writeFile(dir.sub("deny"), "# a build's own list\nreboot\nkexec_load\n")
            options += ["--seccomp", dir.sub("deny")]
        }
        let probes = ["tiocsti:0", "tiocsti_high:0", "tioclinux:0"] + (onX86_64 ? ["tiocsti_i386:0"] : [])
        guard let args = EscapeProbe.args(options, probes) else { return }
        let r = try await spawn([ttyrun] + mode.argv(args)).wait()
        expectSuccess(r)
        let got = SysProbe.results(r)

        var want: [String: String] = [:]
        var typed = ""
        let kernelAnswer = TTYRun.kernelAllowsTIOCSTI ? "ok" : "EIO"
        for (probe, letter) in [("tiocsti:0", "A"), ("tiocsti_high:0", "B"), ("tiocsti_i386:0", "C")] where probes.contains(probe) {
            if c.newSession {
                want[probe] = "EPERM"  // not the command's controlling terminal: the kernel refuses
            } else if c.allowed {
                want[probe] = kernelAnswer
                if TTYRun.kernelAllowsTIOCSTI { typed += letter }
            } else {
                want[probe] = "EPERM"
            }
        }
        // On a pseudo-terminal the kernel has no TIOCLINUX: ENOTTY when the filter lets it by.
        want["tioclinux:0"] = c.allowed ? "ENOTTY" : "EPERM"
        want["typed"] = typed.isEmpty ? "none" : typed
        for (key, value) in want.sorted(by: { $0.key < $1.key }) {
            #expect(got[key] == value, "\(key): expected \(value), got \(got[key] ?? "nothing")\n\(r)")
        }
    }

    /// On a kernel that takes no seccomp filter (scripts/no-userns --no-seccomp makes
    /// seccomp(2) fail), the ptrace engine stops at every system call: the tracer refuses
    /// the same calls at their entry stop.
    @Test("Ptrace engine without seccomp filters: the tracer refuses terminal injection itself", arguments: [false, true])
    func terminalInjectionWithoutSeccomp(allowed: Bool) async throws {
        guard Harness.runningAsRoot, let ttyrun = TTYRun.path(), let probe = EscapeProbe.path() else { return }
        let attempts = "tiocsti:0 tiocsti_high:0 tioclinux:0"
        let args = ["--engine", "ptrace"] + (allowed ? ["--allow-terminal-injection"] : []) + [
            "--proc", "/proc", "--tmpfs", "/tmp", "--ro-bind", probe, EscapeProbe.inside, Harness.sharedRootfs,
        ] + sh("grep ^Seccomp_filters: /proc/self/status; exec \(EscapeProbe.inside) \(attempts)")
        let r = try await spawn([ttyrun, Harness.packageRoot + "/scripts/no-userns", "--no-seccomp"]
                                + asTestUser([Harness.binary] + args)).wait()
        expectSuccess(r)
        // no-userns's own filter, and none of burrow's.
        #expect(r.lines.first.map(normalizedMap) == "Seccomp_filters: 1", "\(r)")
        let got = SysProbe.results(r)
        let typed = allowed && TTYRun.kernelAllowsTIOCSTI ? "AB" : "none"
        let answer = allowed ? (TTYRun.kernelAllowsTIOCSTI ? "ok" : "EIO") : "EPERM"
        let want = ["tiocsti:0": answer, "tiocsti_high:0": answer, "tioclinux:0": allowed ? "ENOTTY" : "EPERM", "typed": typed]
        for (key, value) in want.sorted(by: { $0.key < $1.key }) {
            #expect(got[key] == value, "\(key): expected \(value), got \(got[key] ?? "nothing")\n\(r)")
        }
    }

    // MARK: privilege

    @Test("A setuid-root binary in the rootfs gives no privilege on the namespace engine (owner unmapped, nosuid, no_new_privs)",
          arguments: [false, true])
    func setuidRootBinary(asRoot: Bool) async {
        guard Harness.runningAsRoot, let probe = EscapeProbe.path() else { return }
        let root = await makePrivateRootfs()
        defer { root.remove() }
        let suid = root.at("/usr/bin/suid-probe")
        #expect(runHost(["/bin/cp", probe, suid]).status == 0)
        #expect(chown(suid, 0, 0) == 0 && chmod(suid, 0o4755) == 0)
        // Control: outside, the file does raise the euid (where /tmp allows setuid at all).
        if SetuidInstall.available {
            let control = runHost(["/usr/bin/setpriv", "--reuid=\(testUser.uid)", "--regid=\(testUser.gid)", "--clear-groups", "--", suid, "ids"])
            #expect(control.stdout.contains("ids=\(testUser.uid) 0 0"), "\(control)")
        }
        let r = await burrow((asRoot ? ["--root"] : []) + ["--proc", "/proc", root.path]
                             + sh("ls -ln /usr/bin/suid-probe | awk '{print $1, $3}'; /usr/bin/suid-probe ids"))
        expectSuccess(r)
        let me = asRoot ? "0" : "\(testUser.uid)"
        // The owner, host root, has no mapping in the sandbox: it shows as the overflow uid.
        #expect(r.lines.first == "-rwsr-xr-x 65534", "\(r)")
        expectStdout(r, contains: "ids=\(me) \(me) \(me)")
        if !asRoot { expectStdout(r, contains: "capeff=0000000000000000") }
    }
}
