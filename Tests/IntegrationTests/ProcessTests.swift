// The command's process: the default command and cwd, argv and stdin passing, --chdir, the
// environment options, --pidfile, --die-with-parent, --new-session, --keep-children (and
// killing leftovers without it), no_new_privs, descriptors, exit statuses and signals.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Tests/Helpers/ptyrun.c: runs a command on a new terminal, in its foreground.
enum PtyRun {
    static let built = buildStaticHelper("ptyrun")

    static func path(sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        if built.path == nil { Issue.record("cannot build ptyrun: \(built.error)", sourceLocation: sourceLocation) }
        return built.path
    }
}

@Suite("Process", .timeLimit(.minutes(1)))
struct ProcessTests {
    let rootfs = Harness.sharedRootfs

    // MARK: Command line, stdin, cwd

    @Test("The default command is /bin/sh, in /, reading stdin")
    func defaultCommand() async {
        let r = await burrow([rootfs], stdin: "echo from-default-shell-$((6*7)); pwd\n")
        expectSuccess(r)
        expectLines(r, ["from-default-shell-42", "/"])
    }

    struct ArgvCase: Sendable, CustomTestStringConvertible {
        let command: [String]
        let expected: [String]
        var testDescription: String { command.joined(separator: " ") }
    }

    @Test("Everything after ROOTFS is the command's argv, options included", arguments: [
        ArgvCase(command: ["/bin/echo", "--help"], expected: ["--help"]),
        ArgvCase(command: ["--", "/bin/echo", "--bind", "-v"], expected: ["--bind -v"]),
        ArgvCase(command: ["/bin/echo", "a  b", "", "c"], expected: ["a  b  c"]),
        ArgvCase(command: ["echo", "found-in-PATH"], expected: ["found-in-PATH"]),
    ])
    func argv(_ c: ArgvCase) async {
        let r = await burrow([rootfs] + c.command, environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
        expectSuccess(r)
        expectLines(r, c.expected)
    }

    @Test("stdin, stdout and stderr are the caller's")
    func standardStreams() async {
        let r = await burrow([rootfs] + sh("cat; echo to-stderr >&2"), stdin: "line one\nline two\n")
        expectSuccess(r)
        #expect(r.stdout == "line one\nline two\n", "stdout:\n\(r)")
        expectStderr(r, contains: "to-stderr")
        expectStdout(r, lacks: "to-stderr")
    }

    @Test("--chdir sets the working directory", arguments: ["/etc", "/usr/bin", "/tmp", "/"])
    func chdir(_ dir: String) async {
        let r = await burrow(["--chdir", dir, rootfs] + sh("pwd"))
        expectSuccess(r)
        expectLines(r, [dir])
    }

    // MARK: Environment

    struct EnvCase: Sendable, CustomTestStringConvertible {
        let name: String
        let hostEnv: [String: String]
        let args: [String]
        let command: [String]
        let expected: [String]
        let sorted: Bool
        var testDescription: String { name }
    }

    @Test("--setenv, --unsetenv and --clearenv", arguments: [
        EnvCase(
            name: "the caller's environment passes through", hostEnv: ["BURROW_IT_C": "present"], args: [],
            command: sh(#"echo "[${BURROW_IT_C-unset}]""#), expected: ["[present]"], sorted: false),
        EnvCase(
            name: "--setenv sets, verbatim", hostEnv: [:], args: ["--setenv", "BURROW_IT_A", "a  b=c"],
            command: sh(#"printf '%s\n' "$BURROW_IT_A""#), expected: ["a  b=c"], sorted: false),
        EnvCase(
            name: "--setenv overrides the caller's", hostEnv: ["BURROW_IT_B": "host"],
            args: ["--setenv", "BURROW_IT_B", "guest"], command: sh(#"echo "$BURROW_IT_B""#), expected: ["guest"],
            sorted: false),
        EnvCase(
            name: "--unsetenv removes", hostEnv: ["BURROW_IT_C": "present"], args: ["--unsetenv", "BURROW_IT_C"],
            command: sh(#"echo "[${BURROW_IT_C-unset}]""#), expected: ["[unset]"], sorted: false),
        EnvCase(
            name: "--clearenv then --setenv: only those", hostEnv: ["BURROW_IT_C": "present"],
            args: ["--clearenv", "--setenv", "A", "1", "--setenv", "B", "x y"], command: ["/bin/env"],
            expected: ["A=1", "B=x y"], sorted: true),
        EnvCase(
            name: "--clearenv alone: empty", hostEnv: [:], args: ["--clearenv"], command: ["/bin/env"], expected: [],
            sorted: true),
    ])
    func environment(_ c: EnvCase) async {
        let r = await burrow(c.args + [rootfs] + c.command, environment: c.hostEnv)
        expectSuccess(r)
        // Tolerated: PWD=/ for the working directory (as bwrap sets it).
        let lines = (c.sorted ? r.lines.sorted() : r.lines).filter { $0 != "PWD=/" }
        #expect(lines == c.expected, "expected \(c.expected):\n\(r)")
    }

    // MARK: pidfile, die-with-parent, sessions

    @Test("--pidfile holds the command's host pid while it runs, and is removed after", arguments: [
        [String](), ["--unshare-pid"],
    ])
    func pidfile(_ extra: [String]) async throws {
        let w = makeTempDir(owner: testUser)
        defer { w.remove() }
        let pidfile = w.sub("burrow.pid")
        // The command waits for a gate file the test creates once it has looked.
        let script = "while [ ! -e /run/go ]; do sleep 0.05; done; echo released"
        let p = try startBurrow(extra + ["--pidfile", pidfile, "--bind", w.path, "/run", rootfs] + sh(script))
        defer { if p.isRunning { p.send(SIGKILL) } }
        let appeared = await eventually(timeout: 10) {
            Int32((readFile(pidfile) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) != nil
        }
        #expect(appeared, "the pidfile never appeared; stderr: \(p.stderrSoFar)")
        let text = (readFile(pidfile) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let pid = Int32(text)
        #expect(pid != nil, "the pidfile should hold a number, not \(text.debugDescription)")
        if let pid {
            let argv = hostCmdline(pid) ?? []
            #expect(argv.contains(script), "pid \(pid) from the pidfile is not the command: \(argv)")
            #expect(pid != p.pid, "the pidfile holds burrow's own pid, not the command's")
        }
        writeFile(w.sub("go"), "", owner: testUser)
        let r = await p.wait()
        expectSuccess(r)
        expectStdout(r, contains: "released")
        #expect(!pathExists(pidfile), "the pidfile is still there after exit")
    }

    @Test("--die-with-parent: the sandbox dies when burrow's parent does")
    func dieWithParent() async throws {
        let marker = sleepMarker()
        defer { killProcesses(withArgument: marker) }
        // A host shell (as the test user) starts burrow in the background and waits; then
        // the test kills that shell with SIGKILL.
        let parent = try spawn(
            asTestUser(
                ["/bin/sh", "-c", #""$0" "$@" & echo "burrow=$!"; wait"#, Harness.binary, "--die-with-parent", rootfs]
                    + sh("sleep \(marker); echo survived")))
        let started = await waitForProcess(argument: marker, timeout: 10)
        #expect(started != nil, "the sandboxed sleep never started; stderr: \(parent.stderrSoFar)")
        let burrowPID = parent.stdoutSoFar.split(separator: "\n").first { $0.hasPrefix("burrow=") }
            .flatMap { pid_t($0.dropFirst(7)) }
        parent.send(SIGKILL)
        _ = await parent.wait()
        let left = await waitUntilGone(argument: marker, timeout: 3)
        #expect(left.isEmpty, "the sandboxed process outlived burrow's parent: \(left)")
        if let burrowPID {
            let gone = await eventually(timeout: 3) { hostCmdline(burrowPID) == nil }
            #expect(gone, "burrow (pid \(burrowPID)) outlived its parent")
        }
    }

    @Test("--new-session: the command is in a new session", arguments: [false, true])
    func newSession(pidNamespace: Bool) async {
        let r = await burrow(
            (pidNamespace ? ["--unshare-pid"] : []) + ["--new-session", "--proc", "/proc", rootfs]
                + sh(#"echo "$$"; cut -d' ' -f6 /proc/$$/stat"#))
        expectSuccess(r)
        #expect(r.lines.count == 2, "unexpected output:\n\(r)")
        guard r.lines.count == 2 else { return }
        if pidNamespace {
            // The command leads the session, or burrow's PID 1 does: either way a session made
            // inside the sandbox (the caller's session would show as 0 from inside).
            #expect(r.lines[1] == r.lines[0] || r.lines[1] == "1", "the session should be made inside:\n\(r)")
        } else {
            #expect(r.lines[0] == r.lines[1], "the session id should be the command's pid:\n\(r)")
        }
    }

    // MARK: The terminal and job control

    /// Runs `script` (the host's /bin/sh) as the leader of a session on a new terminal, in
    /// its foreground (Tests/Helpers/ptyrun.c), with burrow's argv in "$@" (the escape probe
    /// as the command, running `probes`); `$P` is the escape probe on the host. `typing`:
    /// (marker, bytes) typed into the terminal once the marker has shown on it.
    func inTerminal(_ mode: EscapeMode, unsharePID: Bool, _ script: String, command: [String],
                    typing: (String, String)? = nil) async throws -> BurrowResult? {
        guard let ptyrun = PtyRun.path(), let probe = EscapeProbe.path() else { return nil }
        let args = (unsharePID ? ["--unshare-pid"] : []) + ["--dev", "/dev", "--tmpfs", "/tmp", "--ro-bind", probe,
                                                            EscapeProbe.inside, rootfs] + command
        let typed = typing.map { ["-s", $0.0, $0.1] } ?? []
        let shell = [ptyrun] + typed + ["--", "/bin/sh", "-c", "P=\(shellQuote(probe)); \(script)", "sh"]
        return try await spawn(mode.argv(args, via: shell)).wait()
    }

    /// The terminal's lines (CR LF) that start with one of `prefixes`.
    func terminalLines(_ r: BurrowResult, _ prefixes: [String]) -> [String] {
        r.stdout.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).map(String.init)
            .filter { line in prefixes.contains { line.hasPrefix($0) } }
    }

    @Test("In the foreground of a terminal, the command leads a process group of its own that has the terminal; the caller's gets it back",
          arguments: [EscapeMode.namespace, .setuid, .ptrace], [false, true])
    func terminalForeground(_ mode: EscapeMode, unsharePID: Bool) async throws {
        guard mode.available, !(mode == .ptrace && unsharePID) else { return }
        // Inside, fg=yes: it may read the terminal without SIGTTIN. After burrow, the
        // shell's group has the terminal again.
        guard let r = try await inTerminal(mode, unsharePID: unsharePID, #""$P" fg; "$@"; echo status=$?; "$P" fg"#,
                                           command: [EscapeProbe.inside, "pgleader", "fg"]) else { return }
        expectSuccess(r)
        #expect(terminalLines(r, ["fg=", "pgleader=", "status="]) == ["fg=yes", "pgleader=yes", "fg=yes", "status=0", "fg=yes"],
                "\(r)")
    }

    /// A job-control shell (set -m) runs burrow as a job; the command stops its own group
    /// with SIGTSTP, as Ctrl-Z would: burrow takes the terminal back and stops too (the
    /// shell sees its job stopped, 128+SIGTSTP, and has the terminal); `fg` continues
    /// burrow, which gives the terminal to the command's group again and continues it.
    @Test("Job control: the command stopped by SIGTSTP stops burrow, whose shell gets the terminal; fg brings both back",
          arguments: [EscapeMode.namespace, .setuid, .ptrace], [false, true])
    func jobControl(_ mode: EscapeMode, unsharePID: Bool) async throws {
        guard mode.available, !(mode == .ptrace && unsharePID) else { return }
        let script = #"set -m; "$@"; echo stopped=$?; "$P" fg; fg >/dev/null; echo status=$?; "$P" fg"#
        guard let r = try await inTerminal(mode, unsharePID: unsharePID, script,
                                           command: [EscapeProbe.inside, "killpg:TSTP", "fg"]) else { return }
        expectSuccess(r)
        #expect(terminalLines(r, ["stopped=", "fg=", "killpg:", "status="])
                == ["stopped=\(128 + SIGTSTP)", "fg=yes", "killpg:TSTP=ok", "fg=yes", "status=0", "fg=yes"], "\(r)")
    }

    /// Started in the background, the command reads the terminal: it stops (SIGTTIN) and
    /// burrow with it, or it is still running when burrow is brought to the foreground;
    /// either way `fg` gives it the terminal, and it reads what was typed.
    @Test("Started in the background, a command that reads the terminal gets it at fg",
          arguments: [EscapeMode.namespace, .setuid, .ptrace], [false, true])
    func backgroundThenForeground(_ mode: EscapeMode, unsharePID: Bool) async throws {
        guard mode.available, !(mode == .ptrace && unsharePID) else { return }
        guard let r = try await inTerminal(mode, unsharePID: unsharePID, #"set -m; "$@" & echo ready; fg >/dev/null; echo status=$?"#,
                                           command: sh("read x; echo got=$x"), typing: ("ready", "hello\n")) else { return }
        expectSuccess(r)
        #expect(terminalLines(r, ["got=", "status="]) == ["got=hello", "status=0"], "\(r)")
    }

    @Test("Ctrl-C on the terminal reaches the command once", arguments: [EscapeMode.namespace, .setuid, .ptrace], [false, true])
    func controlC(_ mode: EscapeMode, unsharePID: Bool) async throws {
        guard mode.available, !(mode == .ptrace && unsharePID) else { return }
        // A second copy would come within moments of the first (burrow passing it on):
        // half a second of waiting shows it, and cannot fail a correct run. (The first echo
        // ends the line the terminal's ^C is on.)
        let trap = #"n=0; trap 'n=$((n+1))' INT; echo ready; while [ $n = 0 ]; do sleep 0.1; done; sleep 0.5; echo; echo "interrupts=$n""#
        guard let r = try await inTerminal(mode, unsharePID: unsharePID, #""$@""#, command: sh(trap),
                                           typing: ("ready", "\u{3}")) else { return }
        expectSuccess(r)
        #expect(terminalLines(r, ["interrupts="]) == ["interrupts=1"], "\(r)")
    }

    // MARK: Children left behind

    struct KeepCase: Sendable, CustomTestStringConvertible {
        let keep: Bool
        let pidNamespace: Bool
        var testDescription: String {
            (keep ? "--keep-children" : "default") + (pidNamespace ? " with --unshare-pid" : "")
        }
    }

    @Test("A background child finishes with --keep-children and is killed without", arguments: [
        KeepCase(keep: true, pidNamespace: false), KeepCase(keep: false, pidNamespace: false),
        KeepCase(keep: true, pidNamespace: true), KeepCase(keep: false, pidNamespace: true),
    ])
    func keepChildren(_ c: KeepCase) async throws {
        let w = makeTempDir(owner: testUser)
        defer { w.remove() }
        // busybox sh opens /dev/null for background jobs: hence --dev. The command waits
        // until its child has started, so "killed" cannot mean "never ran".
        let args =
            (c.keep ? ["--keep-children"] : []) + (c.pidNamespace ? ["--unshare-pid"] : [])
            + ["--dev", "/dev", "--bind", w.path, "/run", rootfs]
            + sh(
                "(touch /run/started; sleep 1; touch /run/marker) & while [ ! -e /run/started ]; do sleep 0.05; done; echo started"
            )
        let r = await burrow(args)
        expectSuccess(r)
        expectLines(r, ["started"])
        if c.keep {
            let appeared = await eventually(timeout: 2) { pathExists(w.sub("marker")) }
            #expect(appeared, "the kept child did not finish its work:\n\(r)")
        } else {
            try await Task.sleep(nanoseconds: 2_000_000_000)
            #expect(!pathExists(w.sub("marker")), "the child should have been killed when the command exited:\n\(r)")
        }
    }

    /// --leave-running (jchroot's -b): burrow returns the command's status while what it
    /// started is still running, and that goes on, sandboxed, after burrow has gone. No
    /// clock: the leftover waits for a file the test makes only after burrow has returned.
    @Test("--leave-running: burrow returns with the command; its leftovers run on, in the sandbox",
          arguments: [EscapeMode.namespace, .setuid, .ptrace], [false, true])
    func leaveRunning(_ mode: EscapeMode, unsharePID: Bool) async throws {
        guard mode.available, !(mode == .ptrace && unsharePID) else { return }
        let w = makeTempDir(owner: testUser)
        defer { w.remove() }
        let r = await mode.run(["--leave-running"] + (unsharePID ? ["--unshare-pid"] : []) + ["--dev", "/dev", "--bind", w.path, "/run", rootfs] + sh(
            "(while [ ! -e /run/go ]; do sleep 0.05; done; cat /etc/hostname-probe 2>/dev/null; ls / > /run/seen) & exit 3"))
        #expect(r.status == 3, "\(r)")
        #expect(!pathExists(w.sub("seen")), "burrow returned only after its leftover had finished:\n\(r)")
        writeFile(w.sub("go"), "")
        let finished = await eventually(timeout: 20) { pathExists(w.sub("seen")) }
        #expect(finished, "the leftover did not run on after burrow returned:\n\(r)")
        // It saw the sandbox's root (the rootfs's entries), not the host's.
        let seen = (try? String(contentsOfFile: w.sub("seen"), encoding: .utf8)) ?? ""
        #expect(seen.split(separator: "\n").contains("bin") && !seen.contains("swift"), "\(seen)")
    }

    @Test("--leave-running: a command that cannot start fails as without it (127, said once)")
    func leaveRunningFailure() async {
        for mode in [EscapeMode.namespace, .ptrace] {
            let r = await mode.run(["--leave-running", rootfs, "/nonexistent"])
            #expect(r.status == 127, "\(mode): \(r)")
            #expect(r.stderr.components(separatedBy: "No such file or directory").count == 2, "\(mode): \(r)")
        }
    }

    @Test("When the command exits, every process it left is killed", arguments: [[String](), ["--unshare-pid"]])
    func leftoversAreKilled(_ extra: [String]) async {
        let marker = sleepMarker()
        defer { killProcesses(withArgument: marker) }
        // busybox sh opens /dev/null for background jobs: hence --dev.
        let r = await burrow(
            extra + ["--dev", "/dev", "--proc", "/proc", rootfs]
                + sh("sleep \(marker) & \(waitUntilRunning(sleep: marker))"))
        expectSuccess(r)
        expectStdout(r, contains: "sleep \(marker)")
        let left = await waitUntilGone(argument: marker, timeout: 1)
        #expect(left.isEmpty, "sleep \(marker) is still running after burrow exited: \(left)\n\(r)")
    }

    // MARK: Security

    @Test("no_new_privs is set", arguments: [[String](), ["--unshare-all"], ["--root"]])
    func noNewPrivs(_ extra: [String]) async {
        let r = await burrow(extra + ["--proc", "/proc", rootfs] + sh("grep NoNewPrivs /proc/self/status"))
        expectSuccess(r)
        #expect(
            r.lines.map { $0.split(whereSeparator: \.isWhitespace) } == [["NoNewPrivs:", "1"]],
            "expected NoNewPrivs: 1:\n\(r)")
    }

    @Test("Only descriptors 0, 1 and 2 reach the command, even when burrow inherits more", arguments: [
        [String](), ["--unshare-pid"], ["--unshare-all"],
    ])
    func onlyStandardDescriptors(_ extra: [String]) async throws {
        // The shell lists its own descriptors (ls would also see the one it reads with).
        let p = try spawn(
            asTestUser([Harness.binary] + extra + ["--proc", "/proc", rootfs] + sh("ls /proc/$$/fd; true")),
            leakingDescriptor: 7)
        let r = await p.wait()
        expectSuccess(r)
        expectLines(r, ["0", "1", "2"])
    }

    // MARK: Exit status and signals

    struct ExitCase: Sendable, CustomTestStringConvertible {
        let name: String
        let command: [String]
        let status: Int32
        let stderrMentions: String?
        var testDescription: String { name }
    }

    static let exitCases: [ExitCase] = [
        ExitCase(name: "exit 0", command: sh("exit 0"), status: 0, stderrMentions: nil),
        ExitCase(name: "exit 7", command: sh("exit 7"), status: 7, stderrMentions: nil),
        ExitCase(name: "/bin/false", command: ["/bin/false"], status: 1, stderrMentions: nil),
        ExitCase(name: "killed by SIGTERM", command: sh("kill -TERM $$"), status: 143, stderrMentions: nil),
        ExitCase(name: "killed by SIGKILL", command: sh("kill -KILL $$"), status: 137, stderrMentions: nil),
        ExitCase(name: "not executable", command: ["/etc/passwd"], status: 126, stderrMentions: "/etc/passwd"),
        ExitCase(name: "a directory", command: ["/etc"], status: 126, stderrMentions: "/etc"),
        ExitCase(name: "not found", command: ["/nonexistent"], status: 127, stderrMentions: "/nonexistent"),
        ExitCase(
            name: "not found in PATH", command: ["no-such-command-burrow"], status: 127,
            stderrMentions: "no-such-command-burrow"),
    ]

    @Test("burrow exits with the command's status", arguments: exitCases, [false, true])
    func exitStatus(_ c: ExitCase, pidNamespace: Bool) async {
        let r = await burrow(
            (pidNamespace ? ["--unshare-pid"] : []) + [rootfs] + c.command,
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
        expectStatus(r, c.status)
        #expect(r.signal == nil, "burrow itself should exit, not die from a signal:\n\(r)")
        if let mention = c.stderrMentions { expectStderr(r, contains: mention) }
    }

    struct SignalCase: Sendable, CustomTestStringConvertible {
        let name: String
        let number: Int32
        var testDescription: String { "SIG" + name }
    }

    @Test("Signals sent to burrow reach the command", arguments: [
        SignalCase(name: "TERM", number: SIGTERM), SignalCase(name: "HUP", number: SIGHUP),
        SignalCase(name: "INT", number: SIGINT), SignalCase(name: "USR1", number: SIGUSR1),
    ], [false, true])
    func signalForwarding(_ s: SignalCase, pidNamespace: Bool) async throws {
        let marker = sleepMarker()
        defer { killProcesses(withArgument: marker) }
        let p = try startBurrow(
            (pidNamespace ? ["--unshare-pid"] : []) + ["--dev", "/dev", rootfs]
                + sh(#"trap "echo got-sig; exit 3" \#(s.name); sleep \#(marker) & echo ready; wait"#))
        let ready = await p.waitForStdout("ready")
        #expect(ready, "the command never got ready; stderr: \(p.stderrSoFar)")
        p.send(s.number)
        let r = await p.wait(timeout: 10)
        expectStatus(r, 3)
        expectStdout(r, contains: "got-sig")
        let left = await waitUntilGone(argument: marker, timeout: 1)
        #expect(left.isEmpty, "the background sleep outlived the sandbox: \(left)")
    }

    @Test("A command that does not handle SIGTERM dies from it: status 143", arguments: [false, true])
    func unhandledSignal(pidNamespace: Bool) async throws {
        let marker = sleepMarker()
        defer { killProcesses(withArgument: marker) }
        let p = try startBurrow((pidNamespace ? ["--unshare-pid"] : []) + [rootfs, "/bin/sleep", marker])
        let started = await waitForProcess(argument: marker)
        #expect(started != nil, "the command never started; stderr: \(p.stderrSoFar)")
        p.send(SIGTERM)
        let r = await p.wait(timeout: 10)
        expectStatus(r, 143)
    }
}
